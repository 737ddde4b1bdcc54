"""KITTI raw OXTS (GPS/IMU) packets → camera poses ``T_odom_cam``, odom = the first frame's camera.

As in the KITTI raw devkit: the IMU position is a Mercator projection of (lat, lon) scaled by the cosine of the
first frame's latitude, plus the altitude; its orientation is ``Rz(yaw)·Ry(pitch)·Rx(roll)``. The camera pose
is that IMU pose times ``T_imu_cam`` (from ``calib_imu_to_velo.txt`` and the camera calibration).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from selfdepth_ros.importers.source import SourceError

__all__ = ['EARTH_RADIUS', 'read_oxts', 'oxts_imu_poses', 'camera_poses']

EARTH_RADIUS = 6378137.0
"""metres (WGS84 equatorial radius, the devkit's value)."""


def read_oxts(files: list[Path]) -> np.ndarray:
    """``N×6`` (lat, lon, alt, roll, pitch, yaw) from one OXTS packet file per frame (30 numbers each)."""
    out = []
    for path in files:
        try:
            values = [float(v) for v in path.read_text(errors='replace').split()]
        except ValueError:
            raise SourceError(f'{path}: OXTS packet is not a row of numbers') from None
        except OSError as exc:
            raise SourceError(f'{path}: unreadable OXTS packet ({exc.strerror or exc})') from None
        if len(values) < 6:
            raise SourceError(f'{path}: OXTS packet has {len(values)} numbers, expected 30')
        out.append(values[:6])
    return np.asarray(out, dtype=np.float64)


def oxts_imu_poses(oxts: np.ndarray) -> np.ndarray:
    """``N×4×4`` IMU poses in the local Mercator world frame of the devkit (x east, y north, z up)."""
    lat, lon, alt, roll, pitch, yaw = oxts.T
    scale = np.cos(lat[0] * np.pi / 180.0)
    T = np.tile(np.eye(4), (len(oxts), 1, 1))
    T[:, 0, 3] = scale * lon * np.pi * EARTH_RADIUS / 180.0
    T[:, 1, 3] = scale * EARTH_RADIUS * np.log(np.tan((90.0 + lat) * np.pi / 360.0))
    T[:, 2, 3] = alt
    T[:, :3, :3] = Rotation.from_euler('xyz', np.stack([roll, pitch, yaw], -1)).as_matrix()  # Rz·Ry·Rx
    return T


def camera_poses(oxts: np.ndarray, T_cam_imu: np.ndarray) -> np.ndarray:
    """``N×4×4`` ``T_odom_cam`` with odom = the camera at frame 0 (so pose 0 is the identity)."""
    T_w_imu = oxts_imu_poses(oxts)
    T_imu_cam = np.linalg.inv(T_cam_imu)
    T_w_cam = T_w_imu @ T_imu_cam
    return np.linalg.inv(T_w_cam[0]) @ T_w_cam
