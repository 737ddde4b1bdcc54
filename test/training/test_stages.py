"""A run in stages: each stage's loss section is the recipe's changed by its keys, the stage is a pure function
of the step (so --resume lands in the right one), and bad stage lists name the problem."""
import importlib.util
from pathlib import Path

import pytest

from selfdepth_ros_training.config import ConfigError, config_from_dict, stage_at
from selfdepth_ros_training.trainer import RunOptions, Trainer

_spec = importlib.util.spec_from_file_location('training_fakes', Path(__file__).with_name('fakes.py'))
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

STAGED = {'model': {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
          'data': {'height': 64, 'width': 64, 'batch_size': 2},
          'loss': {'ssim': 1.0},
          'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 2, 'progress_bar': False},
          'stages': [{'name': 'first', 'until': 2, 'loss': {'depth_scale_prior': 0.5}}, {'name': 'second'}]}


def test_stage_weights_and_boundaries():
    cfg = config_from_dict(STAGED)
    first, second = cfg.stages
    assert (first.loss.depth_scale_prior, first.loss.ssim) == (0.5, 1.0)  # the recipe's loss, changed
    assert (second.loss.depth_scale_prior, second.loss.ssim) == (0.0, 1.0)
    assert [stage_at(cfg.stages, k) for k in range(5)] == [0, 0, 1, 1, 1]
    assert stage_at((), 7) == 0
    assert config_from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize('stages, message', [
    ([{'name': 'a'}, {'name': 'b'}], 'every stage but the last needs until'),
    ([{'name': 'a', 'until': 3}, {'name': 'a'}], "names must be distinct and non-empty, got ['a', 'a']"),
    ([{'name': 'a', 'until': 3}, {'name': 'b', 'until': 2}, {'name': 'c'}], 'until must be increasing'),
    ([{'name': 'a', 'loss': {'sim': 1}}], "stage 'a': stages[0].loss: unknown key 'sim'; valid keys: "),
])
def test_bad_stages_are_named(stages, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict({'stages': stages})
    assert message in str(info.value)


def test_the_trainer_switches_stage_and_resumes_into_the_right_one(tmp_path):
    cfg = config_from_dict(STAGED)
    trainer = Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=2))
    terms = []
    step = trainer.train_step
    trainer.train_step = lambda batch: terms.append(set((out := step(batch)).losses)) or out
    trainer.fit()
    assert ['depth_scale_prior' in t for t in terms] == [True, True]
    resumed = Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=4, resume=True))
    assert resumed.method is resumed.steps[1]
    last = resumed.fit()
    assert 'loss/depth_scale_prior' not in last and last['stage'] == 1
    rows = (tmp_path / 'metrics.csv').read_text().splitlines()
    assert rows[0].split(',').count('stage') == 1
