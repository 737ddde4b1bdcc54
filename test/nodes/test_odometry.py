"""Odometry integration and its re-expression in a base frame (analytic cases)."""
import numpy as np
import pytest

from selfdepth_ros.nodes.odometry import OdometryIntegrator, camera_to_base, rpy_pose


def _pose(R=np.eye(3), t=(0.0, 0.0, 0.0)):
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, t
    return T


def test_base_odometry_starts_at_identity_and_follows_the_mount():
    M = _pose(np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], float), (1.0, 0.0, 1.5))  # optical z → base x
    odo = OdometryIntegrator()
    T, v, w = camera_to_base(odo.T_odom_cam, odo.linear, odo.angular, M)
    np.testing.assert_allclose(T, np.eye(4), atol=1e-12)
    odo.step(np.eye(3), np.array([0.0, 0.0, -0.5]), 0.1)  # the camera moves 0.5 m along its optical z
    T, v, w = camera_to_base(odo.T_odom_cam, odo.linear, odo.angular, M)
    np.testing.assert_allclose(T, _pose(t=(0.5, 0.0, 0.0)), atol=1e-12)
    np.testing.assert_allclose(v, [5.0, 0.0, 0.0], atol=1e-12)


def test_base_twist_includes_the_lever_arm():
    """A camera 1 m ahead of the base spinning at 1 rad/s about z: the base origin circles it at 1 m/s."""
    v, w = camera_to_base(np.eye(4), np.zeros(3), np.array([0.0, 0.0, 1.0]), _pose(t=(1.0, 0.0, 0.0)))[1:]
    np.testing.assert_allclose(w, [0, 0, 1])
    np.testing.assert_allclose(v, [0.0, -1.0, 0.0])  # ω × (−t_M) seen from the base origin
    # Finite-difference check of the same motion: base pose after dt versus before.
    dt, M = 1e-6, _pose(t=(1.0, 0.0, 0.0))
    c, s = np.cos(dt), np.sin(dt)
    T_cam = _pose(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]))
    step = M @ T_cam @ np.linalg.inv(M)
    assert step[:3, 3] / dt == pytest.approx(v, abs=1e-5)


def test_rpy_pose_of_the_standard_optical_mount():
    """REP 103: roll −90°, yaw −90° turns optical (z forward, x right, y down) into base (x forward, z up)."""
    T = rpy_pose([1.0, 0.0, 1.5, -np.pi / 2, 0.0, -np.pi / 2])
    np.testing.assert_allclose(T, _pose(np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], float), (1.0, 0.0, 1.5)),
                               atol=1e-12)
