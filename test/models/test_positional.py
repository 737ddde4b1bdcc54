"""003's neural positional encoding (selfdepth_ros.models.positional, DepthNet with positional_encoding)."""
import pytest
import torch

from selfdepth_ros.checkpoint import build_models, load_checkpoint, save_checkpoint
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet
from selfdepth_ros.models.positional import NeuralPositionalEncoding, normalised_positions

TINY = ModelConfig.small(height=64, width=96, encoder_width=8, decoder_width=4, motion_refine_width=8)
NPE = TINY.replace(positional_encoding=True)


def test_positions_are_pixel_centres_from_edge_minus_one_to_edge_plus_one():
    p = normalised_positions(2, 4)
    assert p.shape == (1, 2, 2, 4)
    torch.testing.assert_close(p[0, 0, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    torch.testing.assert_close(p[0, 1, :, 0], torch.tensor([-0.5, 0.5]))
    assert normalised_positions(3, 5, batch=2).shape == (2, 2, 3, 5)


def test_positions_of_a_crop_are_the_slice_of_the_full_image_positions():
    H0, W0, h, w = 48, 80, 16, 24
    full = normalised_positions(H0, W0, dtype=torch.float64)
    for y0, x0 in [(0, 0), (5, 17), (H0 - h, W0 - w)]:
        window = torch.tensor([[2 * x0 / W0 - 1, 2 * y0 / H0 - 1, 2 * (x0 + w) / W0 - 1, 2 * (y0 + h) / H0 - 1]],
                              dtype=torch.float64)
        torch.testing.assert_close(normalised_positions(h, w, window), full[..., y0:y0 + h, x0:x0 + w],
                                   atol=1e-12, rtol=0)


def test_bad_positions_are_refused():
    with pytest.raises(ValueError, match='positive image size'):
        normalised_positions(0, 4)
    with pytest.raises(ValueError, match='window must be B×4'):
        normalised_positions(2, 4, torch.zeros(1, 3))
    with pytest.raises(ValueError, match='positions must be B×2×H×W'):
        NeuralPositionalEncoding(4)(torch.zeros(1, 3, 2, 2))


def test_the_encoding_is_differentiable():
    torch.manual_seed(0)
    npe = NeuralPositionalEncoding(3).double()
    assert torch.autograd.gradcheck(npe, (normalised_positions(3, 4, dtype=torch.float64).requires_grad_(),))


def test_the_depth_net_uses_the_full_frame_by_default_and_the_crop_window_when_given():
    torch.manual_seed(0)
    net = DepthNet(NPE).eval()
    rgb = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        default = net(rgb)[0]
        explicit = net(rgb, normalised_positions(64, 96, batch=2))[0]
        shifted = net(rgb, normalised_positions(64, 96, batch=2) + torch.tensor([0.5, 0.0]).view(1, 2, 1, 1))[0]
    torch.testing.assert_close(default, explicit)
    assert not torch.allclose(default, shifted)  # the position reaches the depth
    with pytest.raises(ValueError, match='positions must be 2×2×64×96'):
        net(rgb, normalised_positions(64, 96))
    with pytest.raises(ValueError, match='without positional_encoding'):
        DepthNet(TINY)(rgb, normalised_positions(64, 96, batch=2))


def test_the_option_adds_only_its_own_weights_and_old_configs_read_as_off():
    plain, npe = set(DepthNet(TINY).state_dict()), set(DepthNet(NPE).state_dict())
    assert plain < npe and all(k.startswith('positional.') for k in npe - plain)
    old = TINY.to_dict()
    del old['positional_encoding']
    assert ModelConfig.from_dict(old).positional_encoding is False
    with pytest.raises(ValueError, match='positional_encoding must be true or false'):
        TINY.replace(positional_encoding='yes')


def test_a_checkpoint_from_before_the_option_loads(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / 'old.pt'
    save_checkpoint(path, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY))
    raw = torch.load(path, weights_only=True)
    del raw['model_config']['positional_encoding']  # as written before the field existed
    torch.save(raw, path)
    depth_net, _ = build_models(load_checkpoint(path), device='cpu')
    assert depth_net.config.positional_encoding is False and not hasattr(depth_net, 'positional')
