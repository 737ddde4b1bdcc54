"""Depth net: multi-scale shapes for both configs, positive softplus depth, gradients, input checks."""
import pytest
import torch
import torch.nn.functional as F

from selfdepth_ros.models import NUM_SCALES, DepthNet, ModelConfig


@pytest.mark.parametrize('cfg', [ModelConfig(), ModelConfig.small()], ids=['full', 'small'])
def test_multiscale_shapes_and_positive_depth(cfg):
    torch.manual_seed(0)
    net = DepthNet(cfg).eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, cfg.height, cfg.width))
    assert len(out) == NUM_SCALES == 4
    assert [tuple(d.shape) for d in out] == [(1, 1, cfg.height >> s, cfg.width >> s) for s in range(4)]
    for d in out:
        assert torch.isfinite(d).all() and (d >= cfg.min_depth).all()


def test_depth_is_softplus_plus_offset(tiny):
    """The head is softplus(conv) + min_depth: with a zero conv and bias b, depth = log(1 + e^b) + min_depth."""
    net = DepthNet(tiny.replace(min_depth=0.25)).eval()
    head = net.decoder.depthconv0[1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-3.0)
        depth = net(torch.rand(1, 3, 64, 64))[0]
    torch.testing.assert_close(depth, torch.full_like(depth, F.softplus(torch.tensor(-3.0)).item() + 0.25))


@pytest.mark.parametrize('norm', ['randln', 'batch'])
def test_gradient_reaches_every_parameter(norm, tiny):
    torch.manual_seed(0)
    net = DepthNet(tiny.replace(norm=norm)).train()
    out = net(torch.rand(2, 3, 64, 64))
    sum(d.log().mean() for d in out).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_eval_output_does_not_depend_on_the_batch(tiny):
    torch.manual_seed(0)
    net = DepthNet(tiny).eval()
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(x[1:2])[0], net(x)[0][1:2], atol=1e-5, rtol=1e-5)


def test_randln_noise_only_when_training(tiny):
    torch.manual_seed(0)
    net = DepthNet(tiny)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        a, b = net.train()(x)[0], net.train()(x)[0]
        c, d = net.eval()(x)[0], net.eval()(x)[0]
    assert not torch.allclose(a, b)
    torch.testing.assert_close(c, d)


@pytest.mark.parametrize('shape, message', [((1, 4, 64, 192), r'rgb must be B×3×H×W, got shape \(1, 4, 64, 192\)'),
                                            ((1, 3, 60, 192), 'multiples of 32 and at least 64'),
                                            ((3, 64, 192), 'rgb must be B×3×H×W')])
def test_bad_input_is_named(shape, message, tiny):
    with pytest.raises(ValueError, match=message):
        DepthNet(tiny)(torch.rand(*shape))
