"""Field values of the ROS messages we build, computed once for both builders (numpy + scipy, no ROS import).

The node (:mod:`selfdepth_ros.nodes.conversions`, rclpy classes) and the bag writer
(:mod:`selfdepth_ros.bag.messages`, rosbags classes) both fill their ``nav_msgs/Odometry`` and
``sensor_msgs/CameraInfo`` from these functions, so a message of either has the same values for the same input.
Both read a CameraInfo back with :func:`camera_info_K` (the node on arrival, the bag reader for training and
evaluation), so an absurd one is refused by the same rule, with the same reason, everywhere.

Unknown covariance: ``nav_msgs/Odometry`` and ``geometry_msgs/PoseWithCovariance`` state no rule; the one
written ROS rule is ``sensor_msgs/Imu``'s ("If you have no estimate for one of the data elements ... set element 0
of the associated covariance matrix to -1"; "a covariance matrix of all zeros will be interpreted as 'covariance
unknown'", i.e. usable data with an assumed covariance). A relative-scale pose is not a metric estimate, so a
missing covariance is ``[-1, 0, …, 0]`` (:data:`UNKNOWN_COVARIANCE`): consumers that check element 0 disregard
it instead of fusing it with a made-up (or, with zeros, infinitely confident) covariance.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

__all__ = ['UNKNOWN_COVARIANCE', 'covariance36', 'quaternion_xyzw', 'pose_fields', 'odometry_fields',
           'camera_info_fields', 'camera_info_K', 'MIN_FOCAL_PX', 'MAX_FOCAL_PX']

UNKNOWN_COVARIANCE = np.r_[-1.0, np.zeros(35)]
"""36 values: element 0 = -1, "no covariance estimate" (sensor_msgs/Imu's convention; see the module doc)."""


def covariance36(cov: Any, name: str = 'covariance') -> np.ndarray:
    """A 6×6 (or 36-value) covariance, row-major float64 (36,); ``None`` → :data:`UNKNOWN_COVARIANCE`."""
    if cov is None:
        return UNKNOWN_COVARIANCE.copy()
    c = np.asarray(cov, dtype=np.float64)
    if c.size != 36:
        raise ValueError(f'{name} must be 6×6 (or 36 values), got shape {c.shape}')
    if not np.all(np.isfinite(c)):
        raise ValueError(f'{name} has non-finite values')
    return c.reshape(-1).copy()


def quaternion_xyzw(R: Any) -> np.ndarray:
    """3×3 rotation → unit quaternion ``(x, y, z, w)`` with ``w ≥ 0`` (scipy; one sign, so builders agree)."""
    q = Rotation.from_matrix(np.asarray(R, dtype=np.float64)).as_quat()
    return -q if q[3] < 0 else q


def pose_fields(T: Any, name: str = 'pose') -> tuple[np.ndarray, np.ndarray]:
    """A finite 4×4 homogeneous pose → ``(position (3,), orientation (x, y, z, w))``; raises ValueError."""
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)) or not np.allclose(T[3], [0, 0, 0, 1]):
        raise ValueError(f'{name} must be a finite 4×4 homogeneous matrix with last row [0 0 0 1], '
                         f'got shape {T.shape}')
    return T[:3, 3].copy(), quaternion_xyzw(T[:3, :3])


def _vec3(v: Any, name: str) -> np.ndarray:
    out = np.zeros(3) if v is None else np.asarray(v, dtype=np.float64).reshape(-1)
    if out.shape != (3,):
        raise ValueError(f'{name} must have 3 values, got shape {np.shape(v)}')
    return out


def odometry_fields(T_odom_child: Any, linear: Any = None, angular: Any = None, pose_cov: Any = None,
                    twist_cov: Any = None) -> dict[str, np.ndarray]:
    """Values of a ``nav_msgs/Odometry``: ``position``, ``orientation`` (x y z w), twist ``linear``/``angular``
    (m/s, rad/s in the child frame; zeros when absent), ``pose_covariance``/``twist_covariance`` (36 values;
    :data:`UNKNOWN_COVARIANCE` when absent)."""
    position, orientation = pose_fields(T_odom_child, 'T_odom_child')
    return {'position': position, 'orientation': orientation, 'linear': _vec3(linear, 'linear'),
            'angular': _vec3(angular, 'angular'), 'pose_covariance': covariance36(pose_cov, 'pose_covariance'),
            'twist_covariance': covariance36(twist_cov, 'twist_covariance')}


def camera_info_fields(K: Any, width: int, height: int, D: Any = None,
                       distortion_model: str = 'plumb_bob') -> dict[str, Any]:
    """Values of a pinhole ``sensor_msgs/CameraInfo``: ``K`` 3×3 pixels, ``P = [K | 0]``, ``R = I``,
    ``d = D`` (default 5 zeros), binning 0 and an empty ROI (left at the message defaults)."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f'K must be 3×3, got shape {K.shape}')
    if int(width) <= 0 or int(height) <= 0:
        raise ValueError(f'width and height must be positive, got {width}×{height}')
    d = np.zeros(5) if D is None else np.asarray(D, dtype=np.float64).reshape(-1)
    return {'height': int(height), 'width': int(width), 'distortion_model': str(distortion_model), 'd': d,
            'k': K.reshape(-1).copy(), 'r': np.eye(3).reshape(-1), 'p': np.concatenate([K, np.zeros((3, 1))], 1)
            .reshape(-1)}


MIN_FOCAL_PX, MAX_FOCAL_PX = 1.0, 1e6
"""A focal length outside these (pixels) is absurd (a corrupt or unit-confused CameraInfo; < 1 px is a field of
view near 180° on a 2-pixel image), as is a non-finite one."""


def intrinsics_problem(K: np.ndarray, width: int = 0, height: int = 0) -> str | None:
    """What is absurd in a 3×3 pinhole ``K`` (None when nothing is): a non-finite value, ``fx``/``fy`` < 1 or > 1e6
    px, or (with the image size) a principal point more than one image width (height) outside the image."""
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    if not np.all(np.isfinite(K)) or not (MIN_FOCAL_PX <= fx <= MAX_FOCAL_PX and MIN_FOCAL_PX <= fy <= MAX_FOCAL_PX):
        return (f'no valid focal length (fx={fx}, fy={fy}; need finite, '
                f'{MIN_FOCAL_PX:g} <= f <= {MAX_FOCAL_PX:g} px)')
    if width > 0 and height > 0 and not (-width <= cx <= 2 * width and -height <= cy <= 2 * height):
        return (f'its principal point (cx={cx}, cy={cy}) more than one image size outside the '
                f'{width}x{height} image')
    return None


def camera_info_K(msg: Any) -> np.ndarray:
    """3×3 intrinsics of a ``sensor_msgs/CameraInfo`` (``k``; an rclpy or a rosbags message); raises ValueError
    naming what is absurd (:func:`intrinsics_problem`)."""
    K = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
    problem = intrinsics_problem(K, int(msg.width), int(msg.height))
    if problem:
        raise ValueError(f'CameraInfo.k has {problem}')
    return K
