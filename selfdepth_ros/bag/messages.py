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
from selfdepth_ros.msg_fields import camera_info_fields, odometry_fields

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
    ``d = D`` (default 5 zeros); values from :func:`selfdepth_ros.msg_fields.camera_info_fields` (as the node's)."""
    f = camera_info_fields(K, width, height, D, distortion_model)
    t = types()
    roi = t['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return t[CAMERA_INFO](header=header_for(stamp_ns, frame_id), height=f['height'], width=f['width'],
                          distortion_model=f['distortion_model'], d=f['d'], k=f['k'], r=f['r'], p=f['p'],
                          binning_x=0, binning_y=0, roi=roi)


def odometry_msg(T_odom_child: np.ndarray, stamp_ns: int, frame_id: str, child_frame_id: str,
                 twist: np.ndarray | None = None, pose_covariance: np.ndarray | None = None,
                 twist_covariance: np.ndarray | None = None) -> Any:
    """``nav_msgs/Odometry``: pose = ``T_odom_child`` (4×4), twist = ``[vx vy vz wx wy wz]`` (m/s, rad/s, in
    ``child_frame_id``) or zeros, covariances 6×6 row-major. Values from
    :func:`selfdepth_ros.msg_fields.odometry_fields`, as the node's: an absent covariance is "unknown"
    (element 0 = -1, :data:`selfdepth_ros.msg_fields.UNKNOWN_COVARIANCE`)."""
    tw = np.zeros(6) if twist is None else np.asarray(twist, dtype=np.float64).reshape(-1)
    if tw.shape != (6,):
        raise ValueError(f'twist must have 6 values [vx vy vz wx wy wz], got shape {np.shape(twist)}')
    f = odometry_fields(T_odom_child, tw[:3], tw[3:], pose_covariance, twist_covariance)
    t = types()
    vec, pnt = t['geometry_msgs/msg/Vector3'], t['geometry_msgs/msg/Point']
    (px, py, pz), (qx, qy, qz, qw) = f['position'], f['orientation']
    pose = t['geometry_msgs/msg/Pose'](position=pnt(x=px, y=py, z=pz),
                                       orientation=t['geometry_msgs/msg/Quaternion'](x=qx, y=qy, z=qz, w=qw))
    (lx, ly, lz), (ax, ay, az) = f['linear'], f['angular']
    twist_msg = t['geometry_msgs/msg/Twist'](linear=vec(x=lx, y=ly, z=lz), angular=vec(x=ax, y=ay, z=az))
    return t[ODOMETRY](
        header=header_for(stamp_ns, frame_id), child_frame_id=child_frame_id,
        pose=t['geometry_msgs/msg/PoseWithCovariance'](pose=pose, covariance=f['pose_covariance']),
        twist=t['geometry_msgs/msg/TwistWithCovariance'](twist=twist_msg, covariance=f['twist_covariance']))


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
