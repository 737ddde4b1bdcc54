"""Motion net: outputs and shapes, 001 output scales, burn-in, auto-mask, intrinsics head, gradients."""
import math

import pytest
import torch

from selfdepth_ros.models import ModelConfig, MotionNet


def _pair(cfg, batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, 3, cfg.height, cfg.width)
    depth_shape = (batch, 1, cfg.height, cfg.width)
    return (torch.rand(shape, generator=gen), 1 + 10 * torch.rand(depth_shape, generator=gen),
            torch.rand(shape, generator=gen), 1 + 10 * torch.rand(depth_shape, generator=gen))


@pytest.mark.parametrize('cfg', [ModelConfig(learn_intrinsics=True), ModelConfig.small()], ids=['full', 'small'])
def test_output_shapes(cfg):
    torch.manual_seed(0)
    with torch.no_grad():
        out = MotionNet(cfg).eval()(*_pair(cfg, batch=1))
    assert out.rotation.shape == out.translation.shape == (1, 3)
    assert out.residual.shape == (1, 3, cfg.height, cfg.width)
    assert (out.intrinsics is None) != cfg.learn_intrinsics
    if cfg.learn_intrinsics:
        assert out.intrinsics.shape == (1, 3, 3)


def test_output_scales_start_at_001_and_respect_the_floor(tiny):
    cfg = tiny
    net = MotionNet(cfg).eval()
    assert net.rotation_scale.item() == pytest.approx(0.01) and net.translation_scale.item() == pytest.approx(0.01)
    inputs = _pair(cfg)
    with torch.no_grad():
        base = net(*inputs)
        net.log_rotation_scale.fill_(math.log(1e-5))  # below the floor: the forward uses 0.001
        floored = net(*inputs)
    torch.testing.assert_close(floored.rotation, base.rotation * 0.1)
    net.constrain_scales_()
    assert net.rotation_scale.item() == pytest.approx(0.001)
    assert net.log_rotation_scale.item() == pytest.approx(math.log(0.001))


def test_linear_scales_of_old_checkpoints_load_into_log_space(tiny):
    net = MotionNet(tiny)
    state = net.state_dict()
    del state['log_rotation_scale'], state['log_translation_scale']
    state['rotation_scale'], state['translation_scale'] = torch.tensor(0.05), torch.tensor(0.0001)
    net.load_state_dict(state)
    assert net.rotation_scale.item() == pytest.approx(0.05)
    assert net.translation_scale.item() == pytest.approx(0.001)  # below the floor: loaded at the floor


def test_field_scale_burn_in_and_disabled_field(tiny):
    cfg = tiny
    torch.manual_seed(0)
    net = MotionNet(cfg).eval()
    inputs = _pair(cfg)
    with torch.no_grad():
        full = net(*inputs)
        net.field_scale = 0.25
        quarter = net(*inputs)
        net.field_scale = 0.0
        zero = net(*inputs)
    torch.testing.assert_close(quarter.residual, 0.25 * full.residual)
    assert zero.residual.abs().max() == 0
    torch.testing.assert_close(zero.translation, full.translation)  # the ego-motion is not affected
    static = MotionNet(tiny.replace(use_motion_field=False))
    assert not hasattr(static, 'refine')
    assert static(*inputs).residual.abs().max() == 0


def test_auto_mask_zeroes_pixels_below_the_batch_mean_magnitude(tiny):
    torch.manual_seed(0)
    inputs = _pair(tiny)
    plain = MotionNet(tiny).eval()
    masked = MotionNet(tiny.replace(motion_auto_mask=True)).eval()
    masked.load_state_dict(plain.state_dict())
    with torch.no_grad():
        field, out = plain(*inputs).residual, masked(*inputs).residual
    magnitude = field.norm(dim=1, keepdim=True)
    keep = magnitude > magnitude.mean()
    assert 0 < keep.float().mean() < 1
    torch.testing.assert_close(out, field * keep)


def test_depth_input_is_scale_free(tiny):
    """Multiplying both depth maps by the same factor (the monocular scale) changes nothing."""
    torch.manual_seed(0)
    cfg = tiny
    net = MotionNet(cfg).eval()
    rgb1, d1, rgb2, d2 = _pair(cfg)
    with torch.no_grad():
        a, b = net(rgb1, d1, rgb2, d2), net(rgb1, 7.0 * d1, rgb2, 7.0 * d2)
    for x, y in zip(a[:3], b[:3]):
        torch.testing.assert_close(x, y, atol=1e-6, rtol=1e-4)


def test_intrinsics_head_formula(tiny):
    """fx = softplus(a)·W, cx = (o + 0.5)·W − 0.5: with zeroed heads K is (ln2·W, ln2·H, (W−1)/2, (H−1)/2)."""
    cfg = tiny.replace(learn_intrinsics=True)
    net = MotionNet(cfg).eval()
    with torch.no_grad():
        for conv in (net.foci, net.offsets):
            conv.weight.zero_()
        net.foci.bias.zero_()
        K = net(*_pair(cfg, batch=1)).intrinsics[0]
    ln2 = torch.log(torch.tensor(2.0)).item()
    expected = torch.tensor([[ln2 * 64, 0, 31.5], [0, ln2 * 64, 31.5], [0, 0, 1]])
    torch.testing.assert_close(K, expected)


@pytest.mark.parametrize('norm', ['randln', 'batch'])
def test_gradient_reaches_every_parameter_and_the_depth(norm, tiny):
    torch.manual_seed(0)
    cfg = tiny.replace(norm=norm, learn_intrinsics=True)
    net = MotionNet(cfg).train()
    rgb1, d1, rgb2, d2 = _pair(cfg)
    d1.requires_grad_(True)
    out = net(rgb1, d1, rgb2, d2)
    (out.rotation.square().sum() + out.translation.square().sum() + out.residual.square().mean()
     + out.intrinsics.sum()).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    assert d1.grad is not None and d1.grad.abs().sum() > 0


def test_mismatched_inputs_are_named(tiny):
    cfg = tiny.replace(width=128)
    rgb1, d1, rgb2, d2 = _pair(cfg)
    with pytest.raises(ValueError, match=r'depth2 must be B×1×H×W'):
        MotionNet(cfg)(rgb1, d1, rgb2, rgb2)
    with pytest.raises(ValueError, match='must share H×W'):
        MotionNet(cfg)(rgb1, d1, rgb2[..., :64], d2[..., :64])


def test_rescale_rotation_keeps_every_output_and_sets_the_scale():
    import math

    from selfdepth_ros.models import ModelConfig, MotionNet
    torch.manual_seed(0)
    net = MotionNet(ModelConfig.small(motion_scale_init=0.05)).eval()
    with torch.no_grad():
        net.background_motion.weight.normal_(0, 0.1)  # a trained-looking head (the default starts random anyway)
    x = [torch.rand(2, 3, 64, 192), 1 + torch.rand(2, 1, 64, 192), torch.rand(2, 3, 64, 192), 1 + torch.rand(2, 1, 64, 192)]
    with torch.no_grad():
        before = net(*x)
        net.rescale_rotation_(0.4)
        after = net(*x)
    assert math.isclose(float(net.rotation_scale), 0.4, rel_tol=1e-6)
    torch.testing.assert_close(after.rotation, before.rotation, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(after.translation, before.translation)
    with pytest.raises(ValueError, match='rotation scale must be >'):
        net.rescale_rotation_(0.0)

