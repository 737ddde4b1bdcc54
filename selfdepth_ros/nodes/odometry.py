"""Visual odometry from per-frame ego-motion: pose integration, twist and an honest covariance.

Ego-motion follows docs/CONVENTIONS.md: ``(R, t)`` maps frame t−1 camera coordinates to frame t
(``X_t = R·X_{t−1} + t``), so ``T_odom_cam_t = T_odom_cam_{t−1} · inv([R | t])``.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def rotation_log(R: np.ndarray) -> np.ndarray:
    """Axis-angle vector (radians) of a 3×3 rotation (scipy's rotation vector; exact near 0 and π)."""
    return Rotation.from_matrix(np.asarray(R, dtype=np.float64)).as_rotvec()


class OdometryIntegrator:
    """Integrates scaled ego-motion into ``T_odom_cam`` and reports twist and covariance.

    Covariance (6×6, x y z rx ry rz): the nets give no uncertainty, so it is a stated model, not a
    measurement — each step adds ``(translation_noise·|Δp| + 1e-3 m)²`` per axis to the position variance
    and ``(rotation_noise·|Δθ| + 1e-3 rad)²`` to the rotation variance (random-walk drift). In relative
    scale mode the metric covariance is meaningless, so ``covariance()`` returns None ("unknown").
    """

    def __init__(self, translation_noise: float = 0.05, rotation_noise: float = 0.05) -> None:
        self.translation_noise, self.rotation_noise = float(translation_noise), float(rotation_noise)
        self.reset()

    def reset(self) -> None:
        """Back to the odom origin (identity pose, zero twist and covariance)."""
        self.T_odom_cam = np.eye(4)
        self.linear = np.zeros(3)
        self.angular = np.zeros(3)
        self._var = np.zeros(6)
        self.steps = 0

    def step(self, R: np.ndarray, t: np.ndarray, dt_s: float | None) -> np.ndarray:
        """Apply one ego-motion ``cam_t ← cam_{t−1}`` (already scaled); returns the new ``T_odom_cam`` (4×4).

        Twist, in the camera frame at t: ``v = −t/Δt`` (the camera's displacement expressed in cam_t axes)
        and ``ω = −log(R)/Δt``. With no ``dt_s`` the twist is left zero.
        """
        R = np.asarray(R, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64).reshape(3)
        step = np.eye(4)
        step[:3, :3], step[:3, 3] = R.T, -R.T @ t  # inv([R | t]) = pose of cam_t in cam_{t−1}
        self.T_odom_cam = self.T_odom_cam @ step
        rot = rotation_log(R)
        if dt_s and dt_s > 0:
            self.linear, self.angular = -t / dt_s, -rot / dt_s
        else:
            self.linear, self.angular = np.zeros(3), np.zeros(3)
        self._var[:3] += (self.translation_noise * np.linalg.norm(t) + 1e-3) ** 2
        self._var[3:] += (self.rotation_noise * np.linalg.norm(rot) + 1e-3) ** 2
        self.steps += 1
        return self.T_odom_cam

    def covariance(self, metric: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(pose_cov, twist_cov)`` 6×6, or ``(None, None)`` when the scale is not metric."""
        if not metric:
            return None, None
        pose = np.diag(self._var)
        twist = np.diag(np.r_[np.full(3, (self.translation_noise * np.linalg.norm(self.linear) + 1e-3) ** 2),
                              np.full(3, (self.rotation_noise * np.linalg.norm(self.angular) + 1e-3) ** 2)])
        return pose, twist


def camera_to_base(T_odom_cam: np.ndarray, linear: np.ndarray, angular: np.ndarray,
                   T_base_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-express camera odometry for a body frame that carries the camera at the fixed mount ``T_base_cam``.

    The odom frame is the *base* frame at the first pose (REP 105: a vehicle's odom is level with its base,
    not the optical frame's z-forward axes): ``T_odom_base = M · T_odom_cam · M⁻¹`` with ``M = T_base_cam``
    and ``T_odom_cam`` starting at identity. The body twist moves by the adjoint of ``M``:
    ``ω_b = R_M ω_c`` and ``v_b = R_M v_c + t_M × ω_b`` (the base origin's velocity, lever arm included).

    Returns ``(T_odom_base 4×4, v_b (3,) m/s, ω_b (3,) rad/s)``, all in the base frame.
    """
    M = np.asarray(T_base_cam, dtype=np.float64)
    R, t = M[:3, :3], M[:3, 3]
    w = R @ np.asarray(angular, dtype=np.float64)
    return M @ T_odom_cam @ np.linalg.inv(M), R @ np.asarray(linear, dtype=np.float64) + np.cross(t, w), w


def rpy_pose(xyzrpy) -> np.ndarray:
    """x y z roll pitch yaw → 4×4 pose (R = Rz·Ry·Rx, the ROS/URDF convention)."""
    x, y, z, r, p, w = (float(v) for v in xyzrpy)
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler('xyz', (r, p, w)).as_matrix()  # extrinsic x, y, z = Rz·Ry·Rx
    T[:3, 3] = (x, y, z)
    return T
