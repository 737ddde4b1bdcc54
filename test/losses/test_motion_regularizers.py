"""Motion-field regularisers of 001: L_g1 (eq. 2), L_1/2 (eq. 3), combined (eq. 4)."""
import math

import pytest
import torch

from selfdepth_ros_training.losses import (MotionFieldRegularization, group_smoothness, motion_field_regularization,
                             normalize_motion_field, sqrt_sparsity)


def _piecewise_field():
    """Zero background with one rigid object (constant translation) in rows 3..6, columns 4..8."""
    field = torch.zeros(1, 3, 10, 12, dtype=torch.float64)
    field[:, :, 3:7, 4:9] = torch.tensor([0.3, -0.1, 0.2], dtype=torch.float64).view(1, 3, 1, 1)
    return field


def test_group_smoothness_zero_for_constant_fields():
    const = torch.ones(2, 3, 10, 12, dtype=torch.float64) * torch.tensor([1.0, -2.0, 0.5]).view(1, 3, 1, 1)
    assert group_smoothness(const).item() == pytest.approx(0, abs=1e-11)
    assert group_smoothness(const, wrap_around=True).item() == pytest.approx(0, abs=1e-11)


def test_group_smoothness_is_zero_inside_pieces_and_positive_exactly_at_edges():
    field = _piecewise_field()
    tv = group_smoothness(field, reduction='none')  # B×C×(H−1)×(W−1), pixel (v, u) ↦ tv[v−1, u−1]
    assert tv.shape == (1, 3, 9, 11)
    edge = torch.zeros(10, 12, dtype=torch.bool)
    inside = torch.zeros(10, 12, dtype=torch.bool)
    inside[3:7, 4:9] = True
    # backward differences: a pixel is on an edge if it differs from its upper or left neighbour
    edge[1:, :] |= inside[1:, :] != inside[:-1, :]
    edge[:, 1:] |= inside[:, 1:] != inside[:, :-1]
    positive = tv[0].sum(0) > 1e-9
    assert torch.equal(positive, edge[1:, 1:])
    # analytic value per channel: 16 pixels see one jump |j|, the top-left corner sees two (√2·|j|)
    jumps = torch.tensor([0.3, 0.1, 0.2], dtype=torch.float64)
    assert int(positive.sum()) == 17
    assert torch.allclose(tv[0].sum((1, 2)), jumps * (16 + math.sqrt(2)), rtol=1e-9)
    assert torch.allclose(group_smoothness(field), tv.mean())


def test_sqrt_sparsity_is_l1_like_for_small_and_sublinear_for_large_values():
    m = torch.tensor(1.0, dtype=torch.float64)

    def penalty(x):  # per-element penalty with the scale m held fixed
        return sqrt_sparsity(torch.full((1, 1, 2, 2), x, dtype=torch.float64), mean_abs=m).item()

    base = penalty(0.0)
    assert base == pytest.approx(2.0)  # 2m
    for x in (1e-4, 1e-3):
        assert penalty(x) - base == pytest.approx(x, rel=1e-3)  # ≈ L1 (+ the constant 2m)
    # large values: grows like 2·sqrt(m·x), i.e. ×10 for ×100
    assert (penalty(1e6) / penalty(1e4)) == pytest.approx(10.0, rel=2e-2)
    assert penalty(1e4) - base < 0.05 * 1e4


def test_sqrt_sparsity_gradient_is_l1_gradient_for_small_entries():
    """With the reference's self-normalising m: entries far below the mean get the L1 gradient 1/N."""
    field = torch.full((1, 1, 1, 100), 1.0, dtype=torch.float64)
    field[..., :10] = 1e-6
    field[..., -1] = 1e4
    field.requires_grad_()
    sqrt_sparsity(field).backward()
    n = field.numel()
    assert torch.allclose(field.grad[..., :10] * n, torch.ones(10, dtype=torch.float64), rtol=1e-3)
    assert field.grad[..., -1].item() * n < 0.1  # the outlier is penalised far less than by L1


def test_sqrt_sparsity_is_self_normalising():
    field = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    assert sqrt_sparsity(5.0 * field).item() == pytest.approx(5.0 * sqrt_sparsity(field).item(), rel=1e-12)


def test_normalize_motion_field_divides_by_rms_of_total():
    residual = _piecewise_field()
    total = residual + torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64).view(1, 3, 1, 1)
    rms = (total ** 2).sum(1).mean().sqrt()
    assert torch.allclose(normalize_motion_field(residual, total), residual / rms)


def test_combined_regularisation_and_module():
    residual = _piecewise_field()
    total = residual + 1.0
    out = motion_field_regularization(residual, total, smoothness_weight=2.0, sparsity_weight=0.4)
    n = normalize_motion_field(residual, total)
    assert out['motion_smoothing'].item() == pytest.approx(2.0 * group_smoothness(n).item())
    assert out['motion_drift'].item() == pytest.approx(0.4 * sqrt_sparsity(n).item())
    assert MotionFieldRegularization()(residual, total).item() == pytest.approx(out['total'].item())


def test_regulariser_errors():
    with pytest.raises(ValueError, match=r'field must have shape B×C×H×W'):
        group_smoothness(torch.zeros(3, 4, 5))
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'none'"):
        group_smoothness(torch.zeros(1, 3, 4, 5), reduction='sum')
    with pytest.raises(ValueError, match=r'residual must have shape B×3×H×W'):
        normalize_motion_field(torch.zeros(1, 2, 4, 5), torch.zeros(1, 2, 4, 5))
