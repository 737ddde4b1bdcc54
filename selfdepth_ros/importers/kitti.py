"""KITTI odometry sequence folders and KITTI raw drive folders.

- **kitti-odometry**: ``image_0/`` (or ``image_l/``, ``image_2/``, …) of PNGs, ``calib.txt`` (``P0: …`` rows or
  bare 12-number rows), optional ``poses.txt`` (one 3×4 row-major ``[R|t]`` per frame, camera 0 in the first
  frame's camera 0) → ``/gt/odom``, optional ``times.txt`` (seconds) → stamps.
- **kitti-raw**: a ``…_sync`` drive folder with ``image_02/data/*.png`` (else image_03, image_00, image_01),
  ``image_0N/timestamps.txt``, optional ``velodyne_points/data/*.bin`` → ``/gt/depth`` (``lidar.py``) and
  optional ``oxts/data/*.txt`` → ``/gt/odom`` (``oxts.py``, needs ``calib_imu_to_velo.txt``). The calibration
  folder (``calib_cam_to_cam.txt``, ``calib_velo_to_cam.txt``) is ``--calib`` or the drive's parent folder.
"""
from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np

from selfdepth_ros.importers import lidar, oxts
from selfdepth_ros.importers.calib import read_intrinsics, read_kitti_raw_calib
from selfdepth_ros.importers.source import (Frame, ImportOptions, Source, SourceError, iter_images, list_images,
                                            pair_by_stem, read_matrix_rows, require_dir, select_indices)

__all__ = ['ODOMETRY_IMAGE_DIRS', 'find_odometry_images', 'find_raw_camera', 'open_kitti_odometry',
           'open_kitti_raw', 'read_times', 'read_raw_timestamps']

ODOMETRY_IMAGE_DIRS = (('image_0', 0), ('image_l', 0), ('image_2', 2), ('image_1', 1), ('image_r', 1),
                       ('image_3', 3))
"""Image folders of a KITTI odometry sequence, in order of preference, with their camera (P row) index."""
RAW_CAMERAS = (2, 3, 0, 1)


def find_odometry_images(folder: Path) -> tuple[Path, int] | None:
    for name, camera in ODOMETRY_IMAGE_DIRS:
        if (folder / name).is_dir() and any(p.suffix.lower() == '.png' for p in (folder / name).iterdir()):
            return folder / name, camera
    return None


def find_raw_camera(folder: Path) -> int | None:
    return next((c for c in RAW_CAMERAS if (folder / f'image_0{c}' / 'data').is_dir()), None)


def _check_count(path: Path, what: str, got: int, frames: int, folder: Path) -> None:
    if got != frames:
        raise SourceError(f'{path}: {got} {what} but {folder} has {frames} frames (need one per frame)')


def _increasing(path: Path, times_ns: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(np.diff(times_ns) <= 0)
    if bad.size:
        raise SourceError(f'{path}:{bad[0] + 2}: timestamps must increase strictly')
    return times_ns


def read_times(path: Path) -> np.ndarray:
    """KITTI odometry ``times.txt`` (one time in seconds per line) → int64 ns."""
    seconds = read_matrix_rows(path, 1, 'times file')[:, 0]
    return _increasing(path, np.round(seconds * 1e9).astype(np.int64))


def read_raw_timestamps(path: Path) -> np.ndarray:
    """KITTI raw ``timestamps.txt`` (``2011-09-26 13:02:25.964389445`` per line, taken as UTC) → epoch int64 ns."""
    out = []
    for lineno, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
        if not line.strip():
            continue
        try:
            date, clock = line.split()
            y, mo, d = (int(x) for x in date.split('-'))
            hh, mm, ss = clock.split(':')
            sec, _, frac = ss.partition('.')
            whole = calendar.timegm((y, mo, d, int(hh), int(mm), int(sec), 0, 0, 0))
            out.append(whole * 1_000_000_000 + int((frac + '000000000')[:9]))
        except ValueError:
            raise SourceError(f'{path}:{lineno}: not a KITTI timestamp "YYYY-MM-DD hh:mm:ss.fffffffff"') from None
    if not out:
        raise SourceError(f'{path}: timestamps file is empty')
    return _increasing(path, np.asarray(out, dtype=np.int64))


def _kitti_poses(path: Path, frames: int, folder: Path) -> np.ndarray:
    rows = read_matrix_rows(path, 12, 'KITTI poses (12 numbers per line)')
    _check_count(path, 'poses', len(rows), frames, folder)
    T = np.tile(np.eye(4), (len(rows), 1, 1))
    T[:, :3, :] = rows.reshape(-1, 3, 4)
    return T


def open_kitti_odometry(path: Path, opts: ImportOptions) -> Source:
    require_dir(path, 'KITTI odometry sequence folder')
    found = find_odometry_images(path)
    if found is None:
        raise SourceError(f'{path}: no image_0/, image_l/ or image_2/ folder of PNGs (not a KITTI odometry sequence)')
    image_dir, camera = found
    files = list_images(image_dir, ('.png',))
    if len(opts.calib) > 1:
        raise SourceError(f'{opts.calib[1]}: kitti-odometry takes one --calib file')
    calib = opts.calib[0] if opts.calib else path / 'calib.txt'
    K, P = read_intrinsics(calib, camera)
    notes = [f'{len(files)} frames in {image_dir}, intrinsics from {calib}']
    poses = None
    pose_path = opts.poses or (path / 'poses.txt' if (path / 'poses.txt').exists() else None)
    if pose_path is not None:
        poses = _kitti_poses(pose_path, len(files), image_dir)
        if P is not None and camera != 0:  # poses are camera 0's: move them to this camera, odom = its frame 0
            T_cam0_cam = np.eye(4)
            T_cam0_cam[:3, 3] = -np.linalg.solve(K, P[:, 3])
            poses = np.linalg.inv(T_cam0_cam) @ poses @ T_cam0_cam
        notes.append(f'ground-truth poses from {pose_path} → /gt/odom')
    times = None
    if (path / 'times.txt').is_file():
        times = read_times(path / 'times.txt')
        _check_count(path / 'times.txt', 'times', len(times), len(files), image_dir)
        notes.append(f'stamps from {path / "times.txt"}')
    indices = select_indices(len(files), opts.every, opts.max_frames)

    def frames():
        for i, img, enc in iter_images(files, indices):
            yield Frame(i, img, enc, pose=None if poses is None else poses[i],
                        time_ns=None if times is None else int(times[i]))

    return Source('kitti-odometry', path, frames, len(indices), K, opts.fps or 10.0, notes=notes)


def open_kitti_raw(path: Path, opts: ImportOptions) -> Source:
    require_dir(path, 'KITTI raw drive folder')
    camera = find_raw_camera(path)
    if camera is None:
        raise SourceError(f'{path}: no image_02/data/ (or image_00..03/data/) folder (not a KITTI raw drive)')
    image_dir = path / f'image_0{camera}' / 'data'
    files = list_images(image_dir, ('.png',))
    calib_paths = tuple(opts.calib) or (path.parent,)
    cal = read_kitti_raw_calib(calib_paths, camera)
    notes = [f'{len(files)} frames in {image_dir}, calibration from {", ".join(map(str, calib_paths))}']
    times = None
    ts_path = image_dir.parent / 'timestamps.txt'
    if ts_path.is_file():
        times = read_raw_timestamps(ts_path)
        _check_count(ts_path, 'timestamps', len(times), len(files), image_dir)
        notes.append(f'stamps from {ts_path}')
    scans = None
    velo_dir = path / 'velodyne_points' / 'data'
    if velo_dir.is_dir():
        scans = pair_by_stem(files, velo_dir, '.bin', 'Velodyne scan')
        notes.append(f'LiDAR from {velo_dir} projected with P_rect_0{camera}·R_rect_00·Tr_velo_to_cam → /gt/depth')
    poses = None
    oxts_dir = path / 'oxts' / 'data'
    if oxts_dir.is_dir():
        if cal.Tr_imu_to_velo is None:
            notes.append(f'{oxts_dir} ignored: no calib_imu_to_velo.txt beside the calibration')
        else:
            packets = pair_by_stem(files, oxts_dir, '.txt', 'OXTS packet')
            poses = oxts.camera_poses(oxts.read_oxts(packets), cal.T_cam_velo @ cal.Tr_imu_to_velo)
            notes.append(f'OXTS poses from {oxts_dir} → /gt/odom')
    indices = select_indices(len(files), opts.every, opts.max_frames)

    def frames():
        for i, img, enc in iter_images(files, indices):
            depth = None
            if scans is not None:
                depth = lidar.project_points(lidar.read_velodyne_bin(scans[i]), cal.P_rect, cal.R_rect,
                                             cal.Tr_velo_to_cam, (img.shape[1], img.shape[0]))
            yield Frame(i, img, enc, depth=depth, pose=None if poses is None else poses[i],
                        time_ns=None if times is None else int(times[i]))

    return Source('kitti-raw', path, frames, len(indices), cal.K.copy(), opts.fps or 10.0, absolute_times=True,
                  notes=notes)
