"""Builders of ``rosbags`` message objects (Header, Image, CompressedImage, CameraInfo, Odometry) and back.

All objects come from one typestore (:func:`selfdepth_ros.image_codec.rosbags_typestore`, ROS 2 Kilted
definitions, identical to Humble's for these types). Stamps are integer nanoseconds; poses are 4×4
homogeneous ``T_parent_child`` numpy arrays (metres).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from selfdepth_ros.image_codec import encode_compressed, header_for, numpy_to_image, rosbags_typestore

__all__ = ['IMAGE', 'COMPRESSED_IMAGE', 'CAMERA_INFO', 'ODOMETRY', 'header_for', 'stamp_ns_of', 'image_msg',
           'compressed_image_msg', 'camera_info_msg', 'odometry_msg', 'pose_matrix_of', 'types']

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
ODOMETRY = 'nav_msgs/msg/Odometry'


def types() -> dict[str, type]:
    """The typestore's message classes by name (``'sensor_msgs/msg/Image'`` → class)."""
    return rosbags_typestore().types


def stamp_ns_of(header: Any) -> int:
    """``header.stamp`` as integer nanoseconds."""
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def image_msg(arr: np.ndarray, encoding: str, stamp_ns: int, frame_id: str) -> Any:
    """``sensor_msgs/Image`` from an HWC array (see :func:`selfdepth_ros.image_codec.numpy_to_image`)."""
    return numpy_to_image(arr, encoding, stamp_ns=stamp_ns, frame_id=frame_id)


def compressed_image_msg(arr_rgb: np.ndarray, fmt: str, stamp_ns: int, frame_id: str) -> Any:
    """``sensor_msgs/CompressedImage`` (``format`` = 'jpeg' or 'png') from an ``H×W×3`` uint8 RGB array."""
    data = np.frombuffer(encode_compressed(arr_rgb, fmt), dtype=np.uint8)
    return types()[COMPRESSED_IMAGE](header=header_for(stamp_ns, frame_id), format=fmt, data=data)


def camera_info_msg(K: np.ndarray, width: int, height: int, stamp_ns: int, frame_id: str,
                    D: np.ndarray | None = None, distortion_model: str = 'plumb_bob') -> Any:
    """``sensor_msgs/CameraInfo`` of a pinhole camera: ``K`` 3×3 pixels, ``P = [K | 0]``, ``R = I``,
    ``d = D`` (default 5 zeros)."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f'K must be 3×3, got shape {K.shape}')
    if int(width) <= 0 or int(height) <= 0:
        raise ValueError(f'width and height must be positive, got {width}×{height}')
    t = types()
    d = np.zeros(5) if D is None else np.asarray(D, dtype=np.float64).reshape(-1)
    P = np.concatenate([K, np.zeros((3, 1))], axis=1)
    roi = t['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return t[CAMERA_INFO](
        header=header_for(stamp_ns, frame_id), height=int(height), width=int(width),
        distortion_model=distortion_model, d=d, k=K.reshape(-1).copy(), r=np.eye(3).reshape(-1), p=P.reshape(-1),
        binning_x=0, binning_y=0, roi=roi)


def _pose_msg(T: np.ndarray) -> Any:
    t = types()
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.allclose(T[3], [0, 0, 0, 1]):
        raise ValueError(f'pose must be a 4×4 homogeneous matrix with last row [0 0 0 1], got {T.shape}')
    x, y, z, w = Rotation.from_matrix(T[:3, :3]).as_quat()  # scipy order: x, y, z, w
    return t['geometry_msgs/msg/Pose'](
        position=t['geometry_msgs/msg/Point'](x=T[0, 3], y=T[1, 3], z=T[2, 3]),
        orientation=t['geometry_msgs/msg/Quaternion'](x=x, y=y, z=z, w=w))


def _covariance(cov: np.ndarray | None, name: str) -> np.ndarray:
    if cov is None:
        return np.zeros(36)
    cov = np.asarray(cov, dtype=np.float64)
    if cov.size != 36:
        raise ValueError(f'{name} must be 6×6 (or 36 values), got shape {cov.shape}')
    return cov.reshape(-1).copy()


def odometry_msg(T_odom_child: np.ndarray, stamp_ns: int, frame_id: str, child_frame_id: str,
                 twist: np.ndarray | None = None, pose_covariance: np.ndarray | None = None,
                 twist_covariance: np.ndarray | None = None) -> Any:
    """``nav_msgs/Odometry``: pose = ``T_odom_child`` (4×4), twist = ``[vx vy vz wx wy wz]`` (m/s, rad/s, in
    ``child_frame_id``) or zeros, covariances 6×6 row-major (zeros when absent)."""
    t = types()
    tw = np.zeros(6) if twist is None else np.asarray(twist, dtype=np.float64).reshape(-1)
    if tw.shape != (6,):
        raise ValueError(f'twist must have 6 values [vx vy vz wx wy wz], got shape {np.shape(twist)}')
    vec = t['geometry_msgs/msg/Vector3']
    twist_msg = t['geometry_msgs/msg/Twist'](linear=vec(x=tw[0], y=tw[1], z=tw[2]),
                                            angular=vec(x=tw[3], y=tw[4], z=tw[5]))
    return t[ODOMETRY](
        header=header_for(stamp_ns, frame_id), child_frame_id=child_frame_id,
        pose=t['geometry_msgs/msg/PoseWithCovariance'](pose=_pose_msg(T_odom_child),
                                                       covariance=_covariance(pose_covariance, 'pose_covariance')),
        twist=t['geometry_msgs/msg/TwistWithCovariance'](twist=twist_msg,
                                                         covariance=_covariance(twist_covariance, 'twist_covariance')))


def pose_matrix_of(pose: Any) -> np.ndarray:
    """``geometry_msgs/Pose`` → 4×4 float64 homogeneous matrix (quaternion normalised)."""
    q = pose.orientation
    quat = np.array([q.x, q.y, q.z, q.w], dtype=np.float64)
    n = np.linalg.norm(quat)
    if not np.isfinite(n) or n < 1e-9:
        raise ValueError(f'pose has an invalid quaternion {quat.tolist()}')
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(quat / n).as_matrix()
    T[:3, 3] = [pose.position.x, pose.position.y, pose.position.z]
    return T
