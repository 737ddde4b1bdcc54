"""The combined 001 loss against the authors' reference (golden values) and its interface."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from selfdepth_ros.geometry import euler_to_matrix, warp_coordinates
from selfdepth_ros_training.losses import DEFAULT_WEIGHTS, DynamicScenesLoss, dynamic_scenes_loss, swap_pair_order

# A copy of ../shared/golden (computed by google-research depth_and_motion_learning, see its README.md).
GOLDEN = Path(__file__).parent / 'golden'


def _golden_inputs(dtype=torch.float64):
    data = np.load(GOLDEN / 'dynamic_scenes_loss_case.npz')
    t = {k: torch.from_numpy(data[k]) for k in data.files}
    nchw = lambda x: x.permute(0, 3, 1, 2).to(dtype)  # noqa: E731 (golden arrays are NHWC)
    inputs = dict(rgb=nchw(t['rgb']), depth=t['depth'][:, None].to(dtype), rotation_angles=t['rotation'].to(dtype),
                  background_translation=nchw(t['background_translation']),
                  residual_translation=nchw(t['residual_translation']), intrinsics=t['intrinsics'].to(dtype))
    return inputs, t


def test_golden_warp_matches_reference():
    x, ref = _golden_inputs()
    T = x['residual_translation'] + x['background_translation']
    uv, z, valid = warp_coordinates(x['depth'], x['intrinsics'], euler_to_matrix(x['rotation_angles']), T)
    H, W = x['depth'].shape[-2:]
    # The reference clamps p' into the image (our resample() clamps the same way via border padding).
    assert torch.allclose(uv[:, 0].clamp(0, W - 1), ref['warped_x'].double(), atol=1e-4, rtol=0)
    assert torch.allclose(uv[:, 1].clamp(0, H - 1), ref['warped_y'].double(), atol=1e-4, rtol=0)
    assert torch.allclose(z[:, 0], ref['warped_z'].double(), rtol=1e-5, atol=0)
    assert torch.equal(valid[:, 0], ref['warp_mask'])


@pytest.mark.parametrize('dtype,rtol', [(torch.float64, 1e-5), (torch.float32, 1e-4)])
def test_golden_terms_match_reference(dtype, rtol):
    x, _ = _golden_inputs(dtype)
    golden = json.loads((GOLDEN / 'dynamic_scenes_loss_case.json').read_text())
    out = dynamic_scenes_loss(**x)
    assert set(golden['terms']) == set(DEFAULT_WEIGHTS)
    for name, value in golden['terms'].items():
        assert out[name].item() == pytest.approx(value, rel=rtol, abs=0), name
    assert out['total'].item() == pytest.approx(golden['total'], rel=rtol)


def test_each_weight_scales_its_term_only():
    x, _ = _golden_inputs()
    base = dynamic_scenes_loss(**x)
    for name in DEFAULT_WEIGHTS:
        out = dynamic_scenes_loss(**x, weights={name: 2 * DEFAULT_WEIGHTS[name]})
        assert out[name].item() == pytest.approx(2 * base[name].item(), rel=1e-12)
        others = [k for k in DEFAULT_WEIGHTS if k != name]
        assert all(out[k].item() == base[k].item() for k in others)


def test_zero_sparsity_weight_switches_motion_smoothing_to_wrap_around():
    x, _ = _golden_inputs()
    out = dynamic_scenes_loss(**x, weights={'motion_drift': 0.0})
    assert out['motion_drift'].item() == 0.0
    assert out['motion_smoothing'].item() != dynamic_scenes_loss(**x)['motion_smoothing'].item()


def test_gradients_reach_every_prediction():
    x, _ = _golden_inputs()
    leaves = {k: x[k].clone().requires_grad_() for k in
              ('depth', 'rotation_angles', 'background_translation', 'residual_translation', 'intrinsics')}
    out = dynamic_scenes_loss(**{**x, **leaves})
    out['total'].backward()
    for name, leaf in leaves.items():
        assert torch.isfinite(leaf.grad).all() and leaf.grad.abs().sum() > 0, name


def test_module_equals_function_and_maps():
    x, _ = _golden_inputs()
    module_out = DynamicScenesLoss()(**x)
    fn_out = dynamic_scenes_loss(**x, return_maps=True)
    assert module_out['total'].item() == fn_out['total'].item()
    assert fn_out['occlusion_mask'].shape == (4, 1, 32, 48)
    assert fn_out['warped_rgb'].shape == (4, 3, 32, 48)
    assert bool(((fn_out['depth_proximity_weight'] >= 0) & (fn_out['depth_proximity_weight'] <= 1)).all())


def test_swap_pair_order_pairs_sample_i_with_i_plus_b():
    assert swap_pair_order(torch.arange(6)).tolist() == [3, 4, 5, 0, 1, 2]


def test_interface_errors():
    x, _ = _golden_inputs()
    with pytest.raises(ValueError, match=r"unknown loss weight\(s\) \['rgb'\]"):
        dynamic_scenes_loss(**x, weights={'rgb': 1.0})
    with pytest.raises(ValueError, match='odd batch of 3'):
        dynamic_scenes_loss(**{k: v[:3] for k, v in x.items()})
    with pytest.raises(ValueError, match=r'depth must have shape 4×1×32×48, got \(4, 32, 48\)'):
        dynamic_scenes_loss(**{**x, 'depth': x['depth'][:, 0]})
    with pytest.raises(ValueError, match=r'background_translation must have shape 4×3'):
        dynamic_scenes_loss(**{**x, 'background_translation': x['background_translation'][:, :, 0, 0].T})


def test_identity_automask_keeps_exactly_the_pixels_where_warping_helps():
    from selfdepth_ros_training.losses.dynamic_scenes import identity_automask
    g = torch.Generator().manual_seed(0)
    target = torch.rand(1, 3, 12, 16, generator=g)
    other = torch.rand(1, 3, 12, 16, generator=g)
    # left half: the warp reproduces the target exactly (warping helps); right half: the un-warped frame equals
    # the target (a static camera / an object moving with it) while the warp is off
    warped = torch.where(torch.arange(16) < 8, target, other)
    unwarped = torch.where(torch.arange(16) < 8, other, target)
    mask = identity_automask(target, warped, unwarped)
    assert mask.shape == (1, 1, 12, 16) and mask.dtype == torch.bool
    assert mask[..., 1:-1, 1:7].all()          # interior of the left half (the 3x3 SSIM window mixes at the seam)
    assert not mask[..., 9:].any()             # right half: identity is as good or better: dropped


def test_automask_option_changes_only_the_photometric_terms():
    from selfdepth_ros_training.losses.dynamic_scenes import dynamic_scenes_loss
    g = torch.Generator().manual_seed(1)
    B, H, W = 2, 16, 24
    rgb = torch.rand(2 * B, 3, H, W, generator=g)
    depth = 5 + torch.rand(2 * B, 1, H, W, generator=g)
    rot = torch.zeros(2 * B, 3)
    trans = torch.zeros(2 * B, 3)
    trans[:, 2] = 0.1
    field = torch.zeros(2 * B, 3, H, W)
    K = torch.tensor([[20.0, 0, 11.5], [0, 20.0, 7.5], [0, 0, 1]]).expand(2 * B, 3, 3)
    plain = dynamic_scenes_loss(rgb, depth, rot, trans, field, K)
    masked = dynamic_scenes_loss(rgb, depth, rot, trans, field, K, automask=True)
    assert masked['rgb_consistency'] < plain['rgb_consistency']
    assert torch.allclose(masked['depth_smoothing'], plain['depth_smoothing'])
