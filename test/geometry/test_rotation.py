"""Euler (001 convention) and axis-angle rotations (selfdepth_ros.geometry.rotation)."""
import math

import pytest
import torch

from selfdepth_ros.geometry import axis_angle_to_matrix, euler_to_matrix, matrix_to_axis_angle, matrix_to_euler


def _rx(a):
    c, s = math.cos(a), math.sin(a)
    return torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64)


def _ry(a):
    c, s = math.cos(a), math.sin(a)
    return torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)


def _rz(a):
    c, s = math.cos(a), math.sin(a)
    return torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)


def test_euler_is_rx_ry_rz_on_column_vectors():
    angles = torch.tensor([[0.3, -0.7, 1.1]], dtype=torch.float64)
    expected = _rx(0.3) @ _ry(-0.7) @ _rz(1.1)
    assert torch.allclose(euler_to_matrix(angles)[0], expected, atol=1e-15)


def test_euler_single_axis_matches_axis_angle():
    for axis in range(3):
        v = torch.zeros(1, 3, dtype=torch.float64)
        v[0, axis] = 0.4
        assert torch.allclose(euler_to_matrix(v), axis_angle_to_matrix(v), atol=1e-12)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_euler_round_trip_and_orthonormal(dtype):
    g = torch.Generator().manual_seed(0)
    angles = (torch.rand(64, 3, generator=g, dtype=dtype) - 0.5) * torch.tensor([2 * math.pi, 3.0, 2 * math.pi],
                                                                              dtype=dtype)
    R = euler_to_matrix(angles)
    assert R.shape == (64, 3, 3) and R.dtype == dtype
    eye = torch.eye(3, dtype=dtype).expand(64, 3, 3)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(R @ R.transpose(1, 2), eye, atol=tol)
    assert torch.allclose(torch.linalg.det(R), torch.ones(64, dtype=dtype), atol=tol)
    assert torch.allclose(matrix_to_euler(R), angles, atol=10 * tol)


def test_matrix_to_euler_at_gimbal_lock_returns_an_equivalent_rotation():
    R = euler_to_matrix(torch.tensor([[0.3, math.pi / 2, -0.2]], dtype=torch.float64))
    assert torch.allclose(euler_to_matrix(matrix_to_euler(R)), R, atol=1e-7)


def test_euler_accepts_any_leading_shape():
    assert euler_to_matrix(torch.zeros(2, 4, 5, 3)).shape == (2, 4, 5, 3, 3)


def test_axis_angle_round_trip():
    g = torch.Generator().manual_seed(1)
    axis = torch.nn.functional.normalize(torch.randn(32, 3, generator=g, dtype=torch.float64), dim=1)
    angle = torch.rand(32, 1, generator=g, dtype=torch.float64) * 3.0 + 1e-3
    aa = axis * angle
    R = axis_angle_to_matrix(aa)
    assert torch.allclose(matrix_to_axis_angle(R), aa, atol=1e-6)
    # Rodrigues: the axis is fixed by R.
    assert torch.allclose((R @ axis[..., None])[..., 0], axis, atol=1e-12)


def test_rotation_errors():
    with pytest.raises(ValueError, match=r'angles must have shape \.\.\.×3'):
        euler_to_matrix(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r'R must have shape \.\.\.×3×3'):
        matrix_to_euler(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match='angles must be a floating-point tensor'):
        euler_to_matrix(torch.zeros(2, 3, dtype=torch.int64))
