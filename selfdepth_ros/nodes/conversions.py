"""rclpy message builders and readers: Image, CameraInfo, Odometry, TF, PointCloud2, DiagnosticArray.

Numpy in, rclpy messages out (and back for CameraInfo and stamps). Arrays follow docs/CONVENTIONS.md:
``H×W`` float32 depth (metres), ``H×W×3`` float32 motion, 4×4 float64 poses ``T_parent_child``.
Message ``data`` fields are set from one ``array('B')`` filled straight from the numpy buffer (one copy,
~0.15 ms for a 3.6 MB 32FC3 at 480×640); never from a Python list (~70 ms per MB) nor a numpy array (rclpy
then converts element by element, ~0.7 s for 3.6 MB).
"""
from __future__ import annotations

import array
import sys
from typing import Iterable, Mapping

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField
from std_msgs.msg import Header

from scipy.spatial.transform import Rotation

from ..image_codec import ENCODINGS, numpy_to_image
from ..msg_fields import camera_info_K, camera_info_fields, odometry_fields, quaternion_xyzw

__all__ = ['ns_to_time', 'time_to_ns', 'header', 'byte_array', 'image_msg', 'camera_info_msg', 'camera_info_K',
           'rotation_to_quaternion', 'quaternion_to_rotation', 'odometry_msg', 'transform_msg',
           'tf_message', 'pointcloud2_msg', 'diagnostic_array', 'DIAG_LEVELS']

DIAG_LEVELS = {'OK': DiagnosticStatus.OK, 'WARN': DiagnosticStatus.WARN, 'ERROR': DiagnosticStatus.ERROR,
               'STALE': DiagnosticStatus.STALE}


def ns_to_time(stamp_ns: int) -> Time:
    """Integer nanoseconds → ``builtin_interfaces/Time``."""
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nanosec)


def time_to_ns(t: Time) -> int:
    """``builtin_interfaces/Time`` → integer nanoseconds."""
    return int(t.sec) * 1_000_000_000 + int(t.nanosec)


def header(stamp_ns: int, frame_id: str) -> Header:
    return Header(stamp=ns_to_time(stamp_ns), frame_id=frame_id)


def byte_array(arr: np.ndarray) -> array.array:
    """The bytes of ``arr`` (C order) as the ``array('B')`` rclpy keeps for ``uint8[]`` fields, in one copy."""
    out = array.array('B')
    out.frombytes(memoryview(np.ascontiguousarray(arr)).cast('B'))
    return out


def image_msg(arr: np.ndarray, encoding: str, stamp_ns: int, frame_id: str) -> Image:
    """numpy ``H×W`` / ``H×W×C`` → ``sensor_msgs/Image`` (packed rows, host byte order).

    Arrays already in the encoding's dtype and shape (the node's outputs) are copied once into the message;
    anything else (casts, shape or dtype errors with their messages) goes through
    :func:`selfdepth_ros.image_codec.numpy_to_image`, which copies twice.
    """
    enc, a = ENCODINGS.get(encoding), np.asarray(arr)
    if enc is None or a.dtype != enc.dtype or a.ndim != (2 if enc.channels == 1 else 3) \
            or (a.ndim == 3 and a.shape[2] != enc.channels) or not a.dtype.isnative:
        return numpy_to_image(arr, encoding, msg_cls=Image, stamp_ns=stamp_ns, frame_id=frame_id)
    h, w = a.shape[:2]
    msg = Image(header=header(stamp_ns, frame_id), height=h, width=w, encoding=encoding,
                is_bigendian=int(sys.byteorder == 'big' and a.dtype.itemsize > 1),
                step=w * enc.channels * a.dtype.itemsize)
    msg.data = byte_array(a)
    return msg


def camera_info_msg(K: np.ndarray, width: int, height: int, stamp_ns: int, frame_id: str) -> CameraInfo:
    """Pinhole ``CameraInfo`` (plumb_bob, zero distortion, R = I, P = [K | 0]) for a ``height×width`` image; the
    values come from :func:`selfdepth_ros.msg_fields.camera_info_fields`, as the bag writer's do."""
    f = camera_info_fields(K, width, height)
    return CameraInfo(header=header(stamp_ns, frame_id), width=f['width'], height=f['height'],
                      distortion_model=f['distortion_model'], d=f['d'].tolist(), k=f['k'], r=f['r'], p=f['p'])


def rotation_to_quaternion(R: np.ndarray) -> np.ndarray:
    """3×3 rotation → unit quaternion ``(x, y, z, w)``, ``w ≥ 0`` (scipy, :func:`selfdepth_ros.msg_fields.quaternion_xyzw`)."""
    return quaternion_xyzw(R)


def quaternion_to_rotation(q: Iterable[float]) -> np.ndarray:
    """Quaternion ``(x, y, z, w)`` → 3×3 rotation matrix (normalised first; scipy)."""
    return Rotation.from_quat(np.asarray(list(q), dtype=np.float64)).as_matrix()


def _check_pose(T: np.ndarray, name: str) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        raise ValueError(f'{name} must be a finite 4×4 pose, got shape {T.shape}')
    return T


def odometry_msg(T_odom_child: np.ndarray, stamp_ns: int, odom_frame: str, child_frame: str,
                 linear: np.ndarray | None = None, angular: np.ndarray | None = None,
                 pose_cov: np.ndarray | None = None, twist_cov: np.ndarray | None = None) -> Odometry:
    """``nav_msgs/Odometry``: pose ``T_odom_child`` (4×4), twist in the child frame (m/s, rad/s).

    Values from :func:`selfdepth_ros.msg_fields.odometry_fields` (the bag writer uses the same): covariances
    6×6 (x, y, z, rot x, rot y, rot z); ``None`` → element 0 = ``-1`` ("no estimate", ``sensor_msgs/Imu``'s
    rule; see :mod:`selfdepth_ros.msg_fields`), more honest than zeros.
    """
    f = odometry_fields(T_odom_child, linear, angular, pose_cov, twist_cov)
    msg = Odometry(header=header(stamp_ns, odom_frame), child_frame_id=child_frame)
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z = (float(v) for v in f['position'])
    q.x, q.y, q.z, q.w = (float(v) for v in f['orientation'])
    tw = msg.twist.twist
    tw.linear.x, tw.linear.y, tw.linear.z = (float(v) for v in f['linear'])
    tw.angular.x, tw.angular.y, tw.angular.z = (float(v) for v in f['angular'])
    msg.pose.covariance, msg.twist.covariance = f['pose_covariance'], f['twist_covariance']
    return msg


def transform_msg(T_parent_child: np.ndarray, stamp_ns: int, parent: str, child: str) -> TransformStamped:
    """``geometry_msgs/TransformStamped`` for the 4×4 pose of ``child`` in ``parent``."""
    T = _check_pose(T_parent_child, 'T_parent_child')
    msg = TransformStamped(header=header(stamp_ns, parent), child_frame_id=child)
    tr, q = msg.transform.translation, msg.transform.rotation
    tr.x, tr.y, tr.z = (float(v) for v in T[:3, 3])
    q.x, q.y, q.z, q.w = (float(v) for v in rotation_to_quaternion(T[:3, :3]))
    return msg


def tf_message(transforms: list[TransformStamped]):
    """``tf2_msgs/TFMessage`` (generated by :mod:`selfdepth_ros.nodes.tf2_msgs_gen` where no wheel exists)."""
    from tf2_msgs.msg import TFMessage
    return TFMessage(transforms=list(transforms))


def pointcloud2_msg(points: np.ndarray, stamp_ns: int, frame_id: str) -> PointCloud2:
    """``N×3`` float32 points (metres) → unorganised ``PointCloud2`` with float32 fields x, y, z."""
    pts = np.ascontiguousarray(np.asarray(points, dtype=np.float32))
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f'points must be N×3, got {pts.shape}')
    fields = [PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1) for i, n in enumerate('xyz')]
    return PointCloud2(header=header(stamp_ns, frame_id), height=1, width=int(pts.shape[0]), fields=fields,
                       is_bigendian=False, point_step=12, row_step=12 * int(pts.shape[0]),
                       data=byte_array(pts), is_dense=True)


def diagnostic_array(stamp_ns: int, statuses: list[tuple[str, str, str, Mapping[str, object]]],
                     hardware_id: str = '') -> DiagnosticArray:
    """``DiagnosticArray`` from ``(name, level 'OK'|'WARN'|'ERROR'|'STALE', message, {key: value})`` tuples."""
    out = DiagnosticArray(header=header(stamp_ns, ''))
    for name, level, message, values in statuses:
        out.status.append(DiagnosticStatus(
            level=DIAG_LEVELS[level], name=name, message=message, hardware_id=hardware_id,
            values=[KeyValue(key=str(k), value=str(v)) for k, v in values.items()]))
    return out
