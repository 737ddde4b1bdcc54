"""ModelConfig: defaults (001), the small preset, validation messages, dict round trip."""
import pytest

from selfdepth_ros.models import ModelConfig


def test_defaults_are_001():
    cfg = ModelConfig()
    assert (cfg.encoder_depth, cfg.encoder_width, cfg.height, cfg.width) == (18, 64, 128, 416)
    assert cfg.norm == 'randln' and cfg.randln_noise_std == 0.5 and cfg.use_motion_field
    assert (cfg.motion_scale_init, cfg.translation_scale_init, cfg.motion_scale_floor) == (0.01, 0.01, 0.001)


def test_output_scales_start_at_their_own_inits():
    from selfdepth_ros.models import MotionNet
    net = MotionNet(ModelConfig.small(motion_scale_init=0.02, translation_scale_init=0.3))
    assert float(net.rotation_scale.detach()) == pytest.approx(0.02)
    assert float(net.translation_scale.detach()) == pytest.approx(0.3)


def test_zero_initialised_motion_head_predicts_no_ego_motion_but_still_learns():
    import torch
    from selfdepth_ros.models import MotionNet
    net = MotionNet(ModelConfig.small(norm='batch', zero_init_motion_head=True)).eval()
    rgb, depth = torch.rand(2, 3, 64, 192), torch.rand(2, 1, 64, 192) + 1
    out = net(rgb, depth, rgb.flip(-1), depth)
    assert float(out.rotation.detach().abs().max()) == 0 and float(out.translation.detach().abs().max()) == 0
    out.translation[:, 2].sum().backward()
    assert float(net.background_motion.weight.grad.abs().max()) > 0


def test_small_preset_and_overrides():
    cfg = ModelConfig.small(learn_intrinsics=True)
    assert (cfg.height, cfg.width, cfg.encoder_width) == (64, 192, 16) and cfg.learn_intrinsics


def test_dict_round_trip():
    cfg = ModelConfig.small(norm='batch', encoder_depth=34)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize('field, value, message', [
    ('encoder_depth', 50, 'encoder_depth must be one of'),
    ('norm', 'group', 'norm must be one of'),
    ('height', 100, 'height must be a multiple of 32 pixels, at least 64'),
    ('width', 32, 'width must be a multiple of 32 pixels, at least 64'),
    ('encoder_width', 2, 'encoder_width must be an int >= 4'),
    ('min_depth', 0.0, 'min_depth must be > 0'),
    ('randln_noise_std', 0.8, 'randln_noise_std must be in'),
    ('motion_scale_floor', 0.1, 'motion_scale_floor <= motion_scale_init'),
    ('translation_scale_init', 1e-4, 'motion_scale_floor <= translation_scale_init'),
])
def test_invalid_fields_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**{field: value})


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match=r"unknown ModelConfig field\(s\) \['encoder_widht'\]"):
        ModelConfig.from_dict({'encoder_widht': 32})
