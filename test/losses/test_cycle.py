"""Motion cycle consistency, 001 eq. (6)."""
import pytest
import torch

from selfdepth_ros.geometry import euler_to_matrix, pixel_grid
from selfdepth_ros_training.losses import (MotionCycleConsistency, motion_cycle_consistency, rotation_cycle_loss,
                             translation_cycle_loss)

B, H, W = 2, 6, 8


def _motion(seed):
    g = torch.Generator().manual_seed(seed)
    R1 = euler_to_matrix(0.1 * torch.randn(B, 3, generator=g, dtype=torch.float64))
    T1 = torch.randn(B, 3, H, W, generator=g, dtype=torch.float64)
    return R1, T1


def _inverse_at_shift(R1, T1, shift):
    """Backward field on frame 2's grid that exactly undoes T1 for pixels moved ``shift`` columns right."""
    T2 = torch.zeros_like(T1)
    T2[..., shift:] = -(R1.transpose(1, 2) @ T1[..., :W - shift].reshape(B, 3, -1)).reshape(B, 3, H, W - shift)
    uv = pixel_grid(H, W, dtype=torch.float64)[:2].expand(B, -1, -1, -1).clone()
    uv[:, 0] += shift
    mask = torch.ones(B, 1, H, W, dtype=torch.float64)
    mask[..., W - shift:] = 0  # those pixels leave the image
    return T2, uv, mask


def test_cycle_loss_is_zero_for_exactly_inverse_motions():
    R1, T1 = _motion(0)
    T2, uv, mask = _inverse_at_shift(R1, T1, shift=2)
    out = motion_cycle_consistency(R1, T1, R1.transpose(1, 2), T2, uv, mask)
    assert out['rotation'].item() == pytest.approx(0, abs=1e-24)
    assert out['translation'].item() == pytest.approx(0, abs=1e-24)


def test_cycle_loss_of_non_inverse_motions_matches_analytic_values():
    R1, T1 = _motion(1)
    # same translation instead of the opposite: ‖R₁R₁ᵀT₁ + T₁‖² / (2‖T₁‖²) = 2 on every masked pixel
    T2 = (R1.transpose(1, 2) @ T1.reshape(B, 3, -1)).reshape(B, 3, H, W)
    uv = pixel_grid(H, W, dtype=torch.float64)[:2].expand(B, -1, -1, -1)
    mask = torch.zeros(B, 1, H, W, dtype=torch.float64)
    mask[..., :4] = 1
    assert translation_cycle_loss(R1, T1, T2, mask).item() == pytest.approx(2 * 0.5, rel=1e-12)
    assert motion_cycle_consistency(R1, T1, R1, T2, uv, mask)['translation'].item() == pytest.approx(1.0, rel=1e-12)
    # same rotation twice instead of the inverse
    eye = torch.eye(3, dtype=torch.float64)
    expected = (((R1 @ R1 - eye) ** 2).mean((1, 2)) / (2 * ((R1 - eye) ** 2).mean((1, 2)))).mean()
    assert rotation_cycle_loss(R1, R1).item() == pytest.approx(expected.item(), rel=1e-12)
    assert rotation_cycle_loss(R1, R1).item() > 1.0


def test_no_gradient_through_the_sampling_grid():
    R1, T1 = _motion(2)
    T2, uv, mask = _inverse_at_shift(R1, T1, shift=1)
    uv = (uv + 0.3).requires_grad_()
    T1 = (T1 + 0.1).requires_grad_()
    motion_cycle_consistency(R1, T1, R1.transpose(1, 2), T2, uv, mask)['translation'].backward()
    assert uv.grad is None and T1.grad.abs().sum() > 0


def test_module_weights_the_two_terms():
    R1, T1 = _motion(3)
    T2, uv, mask = _inverse_at_shift(R1, T1, shift=1)
    R2 = euler_to_matrix(torch.full((B, 3), 0.05, dtype=torch.float64))
    out = motion_cycle_consistency(R1, T1, R2, T2 + 0.1, uv, mask)
    value = MotionCycleConsistency(rotation_weight=0.5, translation_weight=3.0)(R1, T1, R2, T2 + 0.1, uv, mask)
    assert value.item() == pytest.approx(0.5 * out['rotation'].item() + 3.0 * out['translation'].item())


def test_cycle_errors():
    R1, T1 = _motion(4)
    with pytest.raises(ValueError, match=r'mask must have shape 2×1×6×8'):
        translation_cycle_loss(R1, T1, T1, torch.ones(2, 6, 8))
    with pytest.raises(ValueError, match=r'R2 must have shape B×3×3'):
        rotation_cycle_loss(R1, R1[0])
