"""Recipes: every shipped YAML validates; bad keys, types and ranges fail with messages that name them."""
from pathlib import Path

import pytest

from selfdepth_ros_training.config import (ConfigError, DynamicScenesWeights, MonodepthWeights, ScheduleConfig, TrainConfig,
                             config_from_dict, load_config)
from selfdepth_ros_training.methods import METHODS

RECIPES = Path(__file__).resolve().parents[2] / 'config' / 'train'


@pytest.mark.parametrize('name', ['dynamic_scenes', 'dynamic_scenes_small', 'monodepth_baseline',
                                  'monodepth_baseline_small', 'real_finetune_small'])
def test_shipped_recipes_validate(name):
    cfg = load_config(RECIPES / f'{name}.yaml')
    model = cfg.model_config()
    assert (model.height, model.width) == (cfg.data.height, cfg.data.width)
    if cfg.method == 'dynamic_scenes':
        assert isinstance(cfg.loss, DynamicScenesWeights) and cfg.data.frames == 2 and model.use_motion_field
    else:
        assert isinstance(cfg.loss, MonodepthWeights) and cfg.data.frames == 3 and not model.use_motion_field
    if name.endswith('small'):
        assert (cfg.data.height, cfg.data.width) == (64, 192) and model.encoder_width < 64


def test_real_finetune_recipe_is_the_small_recipe_plus_its_documented_changes():
    small, real = load_config(RECIPES / 'dynamic_scenes_small.yaml'), load_config(RECIPES / 'real_finetune_small.yaml')
    assert real.loss.automask and not small.loss.automask
    assert (real.optim.lr, real.optim.depth_lr_factor, real.optim.init_rotation_scale) == (2e-4, 0.125, 0.36)
    assert real.optim.max_steps == 300 and small.optim.depth_lr_factor == 1.0
    assert real.model_config() == small.model_config()  # it fine-tunes the shipped model's architecture
    with pytest.raises(ConfigError, match='init_rotation_scale must be >= 0'):
        config_from_dict({'optim': {'init_rotation_scale': -1.0}})


def test_dynamic_scenes_recipe_has_the_001_reference_values():
    cfg = load_config(RECIPES / 'dynamic_scenes.yaml')
    reference = dict(rgb_consistency=2.0, ssim=3.0, depth_smoothing=0.002, rotation_cycle_consistency=0.002,
                     translation_cycle_consistency=0.1, motion_smoothing=2.0, motion_drift=0.4)
    assert {k: getattr(cfg.loss, k) for k in reference} == reference
    assert (cfg.optim.lr, cfg.optim.beta1, cfg.optim.grad_clip_norm) == (2e-4, 0.9, 10.0)
    assert (cfg.data.height, cfg.data.width, cfg.data.batch_size) == (128, 416, 16)
    assert (cfg.schedule.field_burn_in_start, cfg.schedule.field_burn_in_end) == (10_000, 20_000)
    small = load_config(RECIPES / 'dynamic_scenes_small.yaml')
    assert {k: getattr(small.loss, k) for k in reference} == reference
    assert cfg.loss.depth_scale_prior == 0.0 and small.loss.depth_scale_prior > 0  # ours, in the CPU recipe only
    assert small.schedule.field_burn_in_end < cfg.schedule.field_burn_in_start  # ramps in early (see the recipe)


def test_loss_weight_names_match_the_loss_module():
    from selfdepth_ros_training.losses.dynamic_scenes import DEFAULT_WEIGHTS
    weights = config_from_dict({}).loss.__dict__
    prior = {'depth_scale_prior': 0.0, 'depth_prior_metres': 10.0, 'automask': False,  # ours, off by default
             'supervised_depth': 0.0, 'supervised_source': 'synthetic', 'supervised_min_depth': 0.01,
             'supervised_max_depth': 80.0,  # 004's supervised part, off by default
             'pseudo_labels': 0.0, 'pseudo_label_regions': 'motion', 'pseudo_label_threshold': 0.05,
             'pseudo_label_outliers': 0.1,  # 002's pseudo-label part, off by default
             'relative_depth': 0.0, 'relative_depth_labels': 'self'}  # 000's bins head, off by default
    assert {k: weights.pop(k) for k in prior} == prior
    assert weights == DEFAULT_WEIGHTS


def test_frames_default_to_the_methods_count():
    assert config_from_dict({}).data.frames == 2
    assert config_from_dict({'method': 'monodepth_baseline'}).data.frames == 3


def test_model_section_is_built_once_and_typed():
    from selfdepth_ros.models import ModelConfig
    cfg = config_from_dict({'model': {'preset': 'small', 'encoder_width': 8}, 'data': {'height': 64, 'width': 64}})
    assert isinstance(cfg.model, ModelConfig) and cfg.model is cfg.model_config()
    assert (cfg.model.encoder_width, cfg.model.decoder_width, cfg.model.height) == (8, 8, 64)
    assert config_from_dict(cfg.to_dict()) == cfg  # the built section reads back as itself


@pytest.mark.parametrize('data, message', [
    ({'data': {'batchsize': 3}}, "data: unknown key 'batchsize'; valid keys: height, width, frames"),
    ({'optimizer': {}}, "unknown key 'optimizer'; valid keys: method, seed, model, data, optim"),
    ({'data': {'batch_size': '3'}}, 'data.batch_size: expected an integer, got str'),
    ({'data': {'random_flip': 1}}, 'data.random_flip: expected true/false'),
    ({'optim': {'lr': -1}}, 'optim: lr must be in (0, 1)'),
    ({'optim': {'lr_decay_steps': [1, 'a']}}, 'optim.lr_decay_steps[1]: expected an integer'),
    ({'method': 'foo'}, f"method: expected one of {sorted(METHODS)}, got 'foo'"),  # every method module's name
    ({'loss': {'ssim_alpha': 0.5}}, "loss: unknown key 'ssim_alpha'; valid keys: "),  # the last part's keys come first
    ({'loss': {'ssim': -1.0}}, 'loss: ssim must be >= 0'),
    ({'loss': {'depth_prior_metres': 0}}, 'loss: depth_prior_metres must be > 0'),
    ({'optim': {'output_scale_lr_factor': 0}}, 'optim: output_scale_lr_factor must be > 0'),
    ({'model': {'encoder_widht': 3}}, "model: unknown key 'encoder_widht'; valid keys: preset, encoder_depth"),
    ({'model': {'encoder_width': 2}}, 'model: ModelConfig.encoder_width must be an int >= 4'),
    ({'model': {'preset': 'huge'}}, "preset: expected 'default' or 'small'"),
    ({'model': {'height': 96}}, 'the model is 96 but data.height is 128'),
    ({'data': {'height': 100}}, 'multiples of 32'),
    ({'data': {'frames': 3}}, "data.frames: method 'dynamic_scenes' uses 2 frames per sample, got 3"),
    ({'schedule': {'field_burn_in_start': 5, 'field_burn_in_end': 2}}, 'field_burn_in_end (2) must be >='),
    ({'log': {'keep_last': 0}}, 'log: keep_last must be >= 1'),
    ({'data': {'alternate': {'real': -1}}}, 'data: alternate: alternation weights must be integers >= 0'),
    ({'data': {'alternate': {'real': 'two'}}}, 'data: alternate: alternation weights must be integers >= 0'),
])
def test_bad_recipes_name_the_key(data, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert message in str(info.value)


def test_yaml_quirks_and_overrides(tmp_path):
    path = tmp_path / 'r.yaml'
    path.write_text('method: monodepth_baseline\ndata: {frames: 3}\noptim: {lr: 2e-4}\n')  # YAML reads 2e-4 as str
    cfg = load_config(path, {'data': {'batch_size': 2}})
    assert cfg.optim.lr == 2e-4 and cfg.data.batch_size == 2 and isinstance(cfg.loss, MonodepthWeights)
    path.write_text('data: [1, 2\n')
    with pytest.raises(ConfigError, match='not valid YAML'):
        load_config(path)
    with pytest.raises(FileNotFoundError, match='training recipe not found'):
        load_config(tmp_path / 'missing.yaml')


def test_round_trip_through_to_dict():
    cfg = load_config(RECIPES / 'monodepth_baseline_small.yaml')
    again = config_from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again, TrainConfig)


def test_field_burn_in_schedule():
    s = ScheduleConfig(field_burn_in_start=10, field_burn_in_end=20)
    assert [s.field_scale(k) for k in (0, 9, 10, 15, 20, 99)] == [0.0, 0.0, 0.0, 0.5, 1.0, 1.0]
    assert ScheduleConfig(field_burn_in_start=0, field_burn_in_end=0).field_scale(0) == 1.0
