"""Edge-aware disparity smoothness, 001 eq. (5)."""
import math

import pytest
import torch

from selfdepth_ros_training.losses import EdgeAwareSmoothness, edge_aware_smoothness


def test_constant_disparity_has_zero_smoothness_loss():
    image = torch.rand(2, 3, 8, 9, dtype=torch.float64)
    assert edge_aware_smoothness(torch.full((2, 1, 8, 9), 0.3, dtype=torch.float64), image).item() == 0


def test_linear_ramp_on_flat_image_is_the_slope():
    """d = a + b·u on a constant image: mean|∂u d| = b/mean(d), ∂v d = 0, weights exp(0) = 1."""
    u = torch.arange(10, dtype=torch.float64).view(1, 1, 1, 10).expand(1, 1, 6, 10)
    disp = 1.0 + 0.1 * u
    image = torch.full((1, 3, 6, 10), 0.5, dtype=torch.float64)
    expected = 0.1 / disp.mean().item()
    assert edge_aware_smoothness(disp, image).item() == pytest.approx(expected, rel=1e-12)
    assert edge_aware_smoothness(disp, image, normalize=False).item() == pytest.approx(0.1, rel=1e-12)


def test_image_edge_weakens_smoothing_across_it():
    """A disparity step at an image edge of height 1 is penalised e^-1 times as much as without the edge."""
    disp = torch.ones(1, 1, 4, 6, dtype=torch.float64)
    disp[..., 3:] = 2.0
    flat = torch.zeros(1, 3, 4, 6, dtype=torch.float64)
    edge = flat.clone()
    edge[..., 3:] = 1.0
    without = edge_aware_smoothness(disp, flat, normalize=False)
    with_edge = edge_aware_smoothness(disp, edge, normalize=False)
    assert with_edge.item() == pytest.approx(without.item() * math.exp(-1), rel=1e-12)


def test_scale_invariance_and_module():
    disp = torch.rand(2, 1, 8, 9, dtype=torch.float64) + 0.1
    image = torch.rand(2, 3, 8, 9, dtype=torch.float64)
    a = edge_aware_smoothness(disp, image)
    assert edge_aware_smoothness(7.0 * disp, image).item() == pytest.approx(a.item(), rel=1e-12)
    assert EdgeAwareSmoothness(weight=0.5)(disp, image).item() == pytest.approx(0.5 * a.item())


def test_gradcheck_and_errors():
    disp = (torch.rand(1, 1, 5, 6, dtype=torch.float64) + 0.1).requires_grad_()
    image = torch.rand(1, 3, 5, 6, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda d: edge_aware_smoothness(d, image), (disp,))
    with pytest.raises(ValueError, match=r'image must have shape B×C×5×6, got \(1, 3, 4, 6\)'):
        edge_aware_smoothness(disp, image[..., :4, :])
    with pytest.raises(ValueError, match=r'disparity must have shape B×1×H×W'):
        edge_aware_smoothness(image, image)
