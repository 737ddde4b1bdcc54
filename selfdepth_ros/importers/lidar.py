"""Velodyne scans (KITTI ``.bin``) projected into a camera as sparse ground-truth depth.

The method of ``shared/data/real/kitti_depth_snippet/README.md`` ("How depth was made"), so that bags imported
from KITTI raw carry the same kind of depth as that snippet:

1. ``p = P_rect · R_rect_00 · Tr_velo_to_cam · X`` for every point ``X = (x, y, z, 1)`` of the scan;
2. ``depth = p[2]`` (z along the optical axis, including ``P_rect``'s small z offset);
3. points with ``depth <= 0.1`` m are dropped;
4. ``u = round(p[0] / depth)``, ``v = round(p[1] / depth)`` with 0-based pixel centres;
5. only pixels inside the image are kept, the **nearest** point per pixel wins;
6. float32 metres, NaN where no point landed (no uint16 quantisation: the bag stores ``32FC1``).

No densification, no motion compensation, no occlusion filtering.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from selfdepth_ros.importers.source import SourceError

__all__ = ['MIN_DEPTH', 'read_velodyne_bin', 'project_points']

MIN_DEPTH = 0.1
"""Points at or nearer than this (metres along the optical axis) are dropped."""


def read_velodyne_bin(path: Path) -> np.ndarray:
    """A KITTI Velodyne scan (``float32`` x y z reflectance per point) → ``N×4`` float32."""
    try:
        raw = np.fromfile(path, dtype=np.float32)
    except OSError as exc:
        raise SourceError(f'{path}: unreadable Velodyne scan ({exc.strerror or exc})') from None
    if raw.size % 4:
        raise SourceError(f'{path}: Velodyne scan size {raw.size * 4} bytes is not a multiple of 16 '
                          '(float32 x y z reflectance per point)')
    return raw.reshape(-1, 4)


def project_points(points: np.ndarray, P_rect: np.ndarray, R_rect: np.ndarray, Tr_velo_to_cam: np.ndarray,
                   size: tuple[int, int]) -> np.ndarray:
    """Sparse depth image (``H×W`` float32 metres, NaN = no return) of ``points`` (``N×3`` or ``N×4``, Velodyne
    frame) for an image of ``size = (width, height)``; see the module docstring for the method."""
    w, h = size
    X = np.ones((len(points), 4), dtype=np.float64)
    X[:, :3] = np.asarray(points, dtype=np.float64)[:, :3]
    M = np.asarray(P_rect, np.float64) @ np.asarray(R_rect, np.float64) @ np.asarray(Tr_velo_to_cam, np.float64)
    p = X @ M.T
    depth = p[:, 2]
    keep = depth > MIN_DEPTH
    p, depth = p[keep], depth[keep]
    u = np.round(p[:, 0] / depth)
    v = np.round(p[:, 1] / depth)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    u, v, depth = u[inside].astype(np.int64), v[inside].astype(np.int64), depth[inside]
    out = np.full(h * w, np.inf)
    np.minimum.at(out, v * w + u, depth)  # nearest return per pixel, independent of point order
    out[np.isinf(out)] = np.nan
    return out.reshape(h, w).astype(np.float32)
