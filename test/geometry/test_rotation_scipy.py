"""Rotations agree with scipy's ``Rotation`` (issue 12): the torch conversions the losses differentiate
(001 Euler = intrinsic XYZ, axis-angle = rotation vector), and the numpy ones that now are scipy: the node's
rotation log (exact at π, where inverse Rodrigues divides by sin π) and URDF roll-pitch-yaw mount, the simulator's
yaw and the KITTI OXTS attitude (both ``Rz·Ry·Rx``)."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from selfdepth_ros.geometry import axis_angle_to_matrix, euler_to_matrix, matrix_to_axis_angle, matrix_to_euler
from selfdepth_ros.importers.oxts import oxts_imu_poses
from selfdepth_ros.nodes.odometry import rotation_log, rpy_pose
from selfdepth_ros.sim.trajectory import rot_z

ANGLES = np.random.default_rng(0).uniform(-1.4, 1.4, (16, 3))


def _axis(axis: int, angle: float) -> np.ndarray:
    """A single-axis rotation written out by hand (the reference, independent of scipy's Euler code)."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R = np.eye(3)
    R[i, i] = R[j, j] = c
    R[i, j], R[j, i] = -s, s
    return R


def test_torch_euler_is_scipys_intrinsic_xyz():
    R = euler_to_matrix(torch.from_numpy(ANGLES)).numpy()
    np.testing.assert_allclose(R, Rotation.from_euler('XYZ', ANGLES).as_matrix(), atol=1e-12)
    np.testing.assert_allclose(matrix_to_euler(torch.from_numpy(R)).numpy(),
                               Rotation.from_matrix(R).as_euler('XYZ'), atol=1e-9)


def test_torch_axis_angle_is_scipys_rotation_vector():
    rotvec = ANGLES * 0.8
    R = axis_angle_to_matrix(torch.from_numpy(rotvec)).numpy()
    np.testing.assert_allclose(R, Rotation.from_rotvec(rotvec).as_matrix(), atol=1e-9)
    np.testing.assert_allclose(matrix_to_axis_angle(torch.from_numpy(R)).numpy(), rotvec, atol=1e-6)


@pytest.mark.parametrize('angle', [0.0, 1e-12, 0.3, np.pi - 1e-9, np.pi])
def test_rotation_log_is_exact_from_zero_to_pi(angle):
    axis = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
    log = rotation_log(Rotation.from_rotvec(axis * angle).as_matrix())
    if angle == np.pi:  # the axis sign is not unique at π
        log *= np.sign(log @ axis)
    np.testing.assert_allclose(log, axis * angle, atol=1e-9)


def test_rpy_and_oxts_attitude_are_rz_ry_rx():
    for roll, pitch, yaw in ANGLES:
        expected = _axis(2, yaw) @ _axis(1, pitch) @ _axis(0, roll)
        np.testing.assert_allclose(rpy_pose([1.0, 2.0, 3.0, roll, pitch, yaw])[:3, :3], expected, atol=1e-12)
        np.testing.assert_allclose(rot_z(yaw), _axis(2, yaw), atol=1e-15)
    oxts = np.concatenate([np.full((len(ANGLES), 3), [49.0, 8.4, 110.0]), ANGLES], 1)
    expected = np.stack([_axis(2, y) @ _axis(1, p) @ _axis(0, r) for r, p, y in ANGLES])
    np.testing.assert_allclose(oxts_imu_poses(oxts)[:, :3, :3], expected, atol=1e-12)
