"""Camera calibration text files: KITTI P rows, the one-line ``K:`` format, and KITTI raw's calib folder.

Accepted by :func:`read_intrinsics` (one file, first match wins):

- ``K: fx 0 cx 0 fy cy 0 0 1`` (9 numbers, row-major; the kitti_depth_snippet ``calib.txt``),
- KITTI projection rows ``P0: …`` / ``P2: …`` / ``P_rect_02: …`` (12 numbers, ``K = P[:, :3]``),
- bare rows of 12 numbers without a name (row ``i`` is camera ``i``, as in some KITTI odometry copies).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from selfdepth_ros.importers.source import SourceError, require_file
from selfdepth_ros.msg_fields import intrinsics_problem

__all__ = ['read_rows', 'read_intrinsics', 'check_K', 'scale_K', 'KittiRawCalib', 'read_kitti_raw_calib']


def read_rows(path: Path) -> list[tuple[str | None, np.ndarray]]:
    """``(name or None, numbers)`` for every line of numbers, optionally prefixed ``name:``; other lines
    (``calib_time: 09-Jan-2012 …``) are skipped."""
    require_file(path, 'calibration file')
    rows = []
    for line in path.read_text(errors='replace').splitlines():
        name, sep, rest = line.partition(':')
        name, text = (name.strip(), rest) if sep else (None, line)
        try:
            values = np.array([float(v) for v in text.split()], dtype=np.float64)
        except ValueError:
            continue
        if values.size:
            rows.append((name, values))
    return rows


def check_K(K: np.ndarray, where: str) -> np.ndarray:
    """``K`` as a 3×3 float array; SourceError unless it is a pinhole matrix the node and trainer accept
    (``msg_fields.intrinsics_problem``: the same rule, so an import never writes a CameraInfo they refuse)."""
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    problem = intrinsics_problem(K) if np.allclose(K[2], [0, 0, 1]) else 'a last row other than 0 0 1'
    if problem:
        raise SourceError(f'{where}: not a usable pinhole intrinsics matrix ({problem}): {K.reshape(-1).tolist()}')
    return K


def read_intrinsics(path: Path, camera: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(K, P)`` from a calibration file: ``P`` is the 3×4 projection row (``None`` for the ``K:`` format).

    ``camera`` picks ``P{camera}`` / ``P_rect_0{camera}`` (or bare row ``camera``); otherwise the ``K:`` line,
    else the first projection row."""
    rows = read_rows(path)
    p_rows = [(n, v) for n, v in rows if v.size == 12 and (n is None or n.startswith('P'))]
    if camera is not None:
        for name, values in p_rows:
            if name in (f'P{camera}', f'P_rect_0{camera}', f'P_rect_{camera:02d}'):
                P = values.reshape(3, 4)
                return check_K(P[:, :3], f'{path} ({name})'), P
        bare = [v for n, v in p_rows if n is None]
        if len(bare) > camera:
            P = bare[camera].reshape(3, 4)
            return check_K(P[:, :3], f'{path} (row {camera + 1})'), P
    for name, values in rows:
        if name == 'K' and values.size == 9:
            return check_K(values, f'{path} (K)'), None
    if p_rows:
        name, values = p_rows[0]
        P = values.reshape(3, 4)
        return check_K(P[:, :3], f'{path} ({name or "row 1"})'), P
    want = f'P{camera}, ' if camera is not None else ''
    raise SourceError(f'{path}: no intrinsics found (expected a "K: fx 0 cx 0 fy cy 0 0 1" line, a {want}"P0: …" '
                      'row of 12 numbers or a bare row of 12 numbers)')


def scale_K(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Intrinsics after resizing by ``sx``, ``sy`` with pixel centres at integer coordinates (docs/CONVENTIONS.md):
    ``u' = (u + 0.5)·sx − 0.5``, so ``fx' = sx·fx``, ``cx' = (cx + 0.5)·sx − 0.5`` (numpy twin of
    ``selfdepth_ros.geometry.camera.scale_intrinsics``)."""
    A = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
    return A @ np.asarray(K, dtype=np.float64)


@dataclass(frozen=True)
class KittiRawCalib:
    """The matrices of one KITTI raw calibration day for camera ``camera`` (``image_0{camera}``)."""
    camera: int
    P_rect: np.ndarray
    """3×4 ``P_rect_0{camera}``."""
    R_rect: np.ndarray
    """4×4 with ``R_rect_00`` in the top-left block (every camera is rectified into camera 0's rectified frame)."""
    Tr_velo_to_cam: np.ndarray
    """4×4 from ``calib_velo_to_cam.txt`` (``R``, ``T``)."""
    Tr_imu_to_velo: np.ndarray | None
    """4×4 from ``calib_imu_to_velo.txt`` when present (needed for OXTS poses)."""

    @property
    def K(self) -> np.ndarray:
        return self.P_rect[:, :3]

    @property
    def T_cam_velo(self) -> np.ndarray:
        """4×4 from the Velodyne to rectified camera ``camera`` (``P_rect = K·[I | t]``, ``t = K⁻¹·P[:, 3]``)."""
        T = np.eye(4)
        T[:3, 3] = np.linalg.solve(self.K, self.P_rect[:, 3])
        return T @ self.R_rect @ self.Tr_velo_to_cam


def _rigid(rows: dict[str, np.ndarray], path: Path) -> np.ndarray:
    if 'R' not in rows or 'T' not in rows or rows['R'].size != 9 or rows['T'].size != 3:
        raise SourceError(f'{path}: needs "R:" (9 numbers) and "T:" (3 numbers) rows')
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = rows['R'].reshape(3, 3), rows['T']
    return T


def _find(paths: tuple[Path, ...], name: str, required: bool) -> Path | None:
    for p in paths:
        if p.is_dir() and (p / name).is_file():
            return p / name
        if p.name == name and p.is_file():
            return p
    if required:
        where = ', '.join(str(p) for p in paths)
        raise SourceError(f'{paths[0] / name if paths[0].is_dir() else name}: KITTI raw calibration file not found '
                          f'(looked in {where}; pass --calib DIR with calib_cam_to_cam.txt and calib_velo_to_cam.txt)')
    return None


def read_kitti_raw_calib(paths: tuple[Path, ...], camera: int) -> KittiRawCalib:
    """Read ``calib_cam_to_cam.txt``, ``calib_velo_to_cam.txt`` (and ``calib_imu_to_velo.txt`` if present) from
    the given folders or files."""
    for p in paths:
        if not p.exists():
            raise SourceError(f'{p}: calibration path not found')
    cam_path = _find(paths, 'calib_cam_to_cam.txt', True)
    velo_path = _find(paths, 'calib_velo_to_cam.txt', True)
    imu_path = _find(paths, 'calib_imu_to_velo.txt', False)
    cam = {n: v for n, v in read_rows(cam_path) if n}
    key = f'P_rect_0{camera}'
    if key not in cam or cam[key].size != 12:
        raise SourceError(f'{cam_path}: no "{key}:" row of 12 numbers')
    if 'R_rect_00' not in cam or cam['R_rect_00'].size != 9:
        raise SourceError(f'{cam_path}: no "R_rect_00:" row of 9 numbers')
    P = cam[key].reshape(3, 4)
    check_K(P[:, :3], f'{cam_path} ({key})')
    R = np.eye(4)
    R[:3, :3] = cam['R_rect_00'].reshape(3, 3)
    velo = _rigid({n: v for n, v in read_rows(velo_path) if n}, velo_path)
    imu = _rigid({n: v for n, v in read_rows(imu_path) if n}, imu_path) if imu_path else None
    return KittiRawCalib(camera, P, R, velo, imu)
