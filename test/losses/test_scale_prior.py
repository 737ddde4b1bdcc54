"""depth_scale_prior: analytic values, gradient, bad input."""
import math

import pytest
import torch

from selfdepth_ros_training.losses.scale_prior import depth_scale_prior


def test_zero_at_the_nominal_scale_and_squared_log_ratio_elsewhere():
    depth = torch.full((2, 1, 4, 6), 10.0)
    assert float(depth_scale_prior(depth, 10.0)) == pytest.approx(0.0, abs=1e-12)
    assert float(depth_scale_prior(2 * depth, 10.0)) == pytest.approx(math.log(2) ** 2, rel=1e-6)
    # Only the geometric mean matters: 5 m and 20 m average to 10 m in log space.
    mixed = torch.cat([torch.full((1, 1, 4, 6), 5.0), torch.full((1, 1, 4, 6), 20.0)])
    assert float(depth_scale_prior(mixed, 10.0)) == pytest.approx(0.0, abs=1e-10)


def test_gradient_matches_finite_differences():
    depth = (torch.rand(2, 1, 3, 5, dtype=torch.float64) * 30 + 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda d: depth_scale_prior(d, 7.0), (depth,))


def test_pulls_a_runaway_depth_back():
    depth = torch.full((1, 1, 2, 2), 1000.0, requires_grad=True)
    depth_scale_prior(depth, 10.0).backward()
    assert bool((depth.grad > 0).all())  # gradient descent lowers the depth


def test_bad_input():
    with pytest.raises(ValueError, match='metres must be > 0'):
        depth_scale_prior(torch.ones(1, 1, 2, 2), 0.0)
    with pytest.raises(ValueError, match='depth'):
        depth_scale_prior(torch.ones(2, 2), 1.0)
