"""SE(3) poses (selfdepth_ros.geometry.pose) and the 001 motion convention of docs/CONVENTIONS.md."""
import pytest
import torch

from selfdepth_ros.geometry import compose_pose, euler_to_matrix, invert_pose, make_pose, relative_pose


def _random_pose(n, seed):
    g = torch.Generator().manual_seed(seed)
    R = euler_to_matrix((torch.rand(n, 3, generator=g, dtype=torch.float64) - 0.5) * 2)
    return make_pose(R, torch.randn(n, 3, generator=g, dtype=torch.float64))


def test_make_pose_layout():
    T = make_pose(torch.eye(3)[None], torch.tensor([[1.0, 2.0, 3.0]]))
    assert T.shape == (1, 4, 4)
    assert torch.equal(T[0, :, 3], torch.tensor([1.0, 2.0, 3.0, 1.0]))
    assert torch.equal(T[0, 3, :3], torch.zeros(3))


def test_invert_and_compose_give_identity():
    T = _random_pose(5, 0)
    eye = torch.eye(4, dtype=torch.float64).expand(5, 4, 4)
    assert torch.allclose(compose_pose(T, invert_pose(T)), eye, atol=1e-12)
    assert torch.allclose(invert_pose(T), torch.linalg.inv(T), atol=1e-12)


def test_relative_pose_maps_cam1_points_to_cam2():
    """X2 = R·X1 + T_ego for a world point, with (R, T_ego) the blocks of T_cam2_cam1."""
    T_odom_cam1, T_odom_cam2 = _random_pose(3, 1), _random_pose(3, 2)
    X_odom = torch.tensor([1.0, -2.0, 7.0, 1.0], dtype=torch.float64)
    X1 = (invert_pose(T_odom_cam1) @ X_odom)[..., :3]
    X2 = (invert_pose(T_odom_cam2) @ X_odom)[..., :3]
    T21 = relative_pose(T_odom_cam1, T_odom_cam2)
    R, t = T21[:, :3, :3], T21[:, :3, 3]
    assert torch.allclose((R @ X1[..., None])[..., 0] + t, X2, atol=1e-12)


def test_pose_errors():
    with pytest.raises(ValueError, match=r't must have shape B×3, got \(3,\)'):
        make_pose(torch.eye(3)[None], torch.zeros(3))
    with pytest.raises(ValueError, match=r'T must have shape B×4×4'):
        invert_pose(torch.eye(4))
    with pytest.raises(ValueError, match='batch sizes differ'):
        compose_pose(_random_pose(2, 0), _random_pose(3, 0))
