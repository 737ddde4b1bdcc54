"""Randomized layer normalisation (001 / Gordon et al.): analytic normalisation, noise only in training."""
import pytest
import torch

from selfdepth_ros.models import RandomizedLayerNorm, randln_ramp, set_randln_ramp
from selfdepth_ros.models.layers import EPS, make_norm


def test_eval_is_per_sample_spatial_normalisation():
    torch.manual_seed(0)
    x = 3.0 + 2.0 * torch.randn(2, 4, 8, 8)
    norm = RandomizedLayerNorm(4).eval()
    y = norm(x)
    mean, var = x.mean((2, 3), keepdim=True), x.var((2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(y, (x - mean) / torch.sqrt(var + EPS))
    # Per sample: a sample's output does not depend on the rest of the batch.
    torch.testing.assert_close(norm(x[:1]), y[:1])


def test_affine_parameters_apply_per_channel():
    norm = RandomizedLayerNorm(3).eval()
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        norm.bias.copy_(torch.tensor([0.0, -1.0, 5.0]))
    x = torch.randn(1, 3, 4, 4)
    base = RandomizedLayerNorm(3).eval()(x)
    torch.testing.assert_close(norm(x), base * torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
                               + torch.tensor([0.0, -1.0, 5.0]).view(1, 3, 1, 1))


def test_training_noise_and_ramp():
    torch.manual_seed(1)
    x = torch.randn(2, 4, 8, 8) + 1.0
    norm = RandomizedLayerNorm(4, noise_std=0.5).train()
    assert not torch.allclose(norm(x), norm.eval()(x))
    norm.train()
    assert set_randln_ramp(norm, 0.0) == 1
    torch.testing.assert_close(norm(x), norm.eval()(x))


def test_noise_factor_is_truncated_to_two_std():
    from selfdepth_ros.models.layers import _truncated_noise
    noise = _truncated_noise(torch.empty(100_000), 0.5)
    assert noise.min() >= -1.0 and noise.max() <= 1.0  # 1 + noise stays in [0, 2]
    assert 0.4 < noise.std() < 0.5  # truncation shrinks the std of N(0, 0.5) to about 0.44


def test_ramp_schedule_is_001_quadratic():
    assert randln_ramp(0) == 0.0 and randln_ramp(5000) == pytest.approx(0.25) and randln_ramp(20_000) == 1.0
    assert randln_ramp(3, ramp_steps=0) == 1.0
    with pytest.raises(ValueError, match='ramp must be in'):
        set_randln_ramp(RandomizedLayerNorm(2), 1.5)


def test_make_norm_choices():
    assert isinstance(make_norm('batch', 3), torch.nn.BatchNorm2d)
    with pytest.raises(ValueError, match="norm must be 'randln' or 'batch'"):
        make_norm('instance', 3)
