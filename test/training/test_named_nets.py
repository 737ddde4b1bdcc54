"""Nets by name: a part's training-only net is built, trained and checkpointed beside depth and motion; the data
a part consumes is checked before the first step."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from selfdepth_ros_training.config import config_from_dict
from selfdepth_ros_training.methods import METHODS, Method, Part
from selfdepth_ros_training.methods.dynamic_scenes import DYNAMIC_SCENES
from selfdepth_ros_training.methods.scale_prior import SCALE_PRIOR
from selfdepth_ros_training.trainer import RunOptions, Trainer, TrainingError

_spec = importlib.util.spec_from_file_location('training_fakes', Path(__file__).with_name('fakes.py'))
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)


@dataclass
class CriticWeights:
    critic: float = 0.0
    critic_needs_gt: bool = False


def _critic_terms(w, batch, out, nets):
    return {'critic': w.critic * nets['critic'](out.depths.log()).abs().mean()}


CRITIC = Part('critic', CriticWeights, _critic_terms, enabled=lambda w: w.critic > 0,
              nets={'critic': lambda model: torch.nn.Conv2d(1, 1, 3, padding=1)})
GT_CRITIC = Part('critic', CriticWeights, _critic_terms, enabled=lambda w: w.critic > 0, data=('depth_gt',),
                 nets={'critic': lambda model: torch.nn.Conv2d(1, 1, 3, padding=1)})


def _config(name, **loss):
    return config_from_dict({
        'method': name, 'seed': 1,
        'model': {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
        'data': {'height': 64, 'width': 64, 'batch_size': 2},
        'loss': loss, 'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 2, 'progress_bar': False}})


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(METHODS, 'toy_critic', Method('toy_critic', DYNAMIC_SCENES, parts=(SCALE_PRIOR, CRITIC)))
    monkeypatch.setitem(METHODS, 'toy_gt', Method('toy_gt', DYNAMIC_SCENES, parts=(GT_CRITIC,)))


def test_a_parts_net_is_held_by_name_and_trained(toy, tmp_path):
    trainer = Trainer(_config('toy_critic', critic=1.0), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=2))
    assert list(trainer.nets) == ['depth', 'motion', 'critic']
    before = trainer.nets['critic'].weight.detach().clone()
    trainer.fit()
    assert not torch.equal(before, trainer.nets['critic'].weight)
    off = Trainer(_config('toy_critic'), fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'off', max_steps=1))
    assert list(off.nets) == ['depth', 'motion']  # a part that is off adds no net


def test_the_data_a_part_consumes_is_checked_first(toy, tmp_path):
    with pytest.raises(TrainingError, match=r"method 'toy_gt' .* consumes \['depth_gt'\] per sample; the dataset "
                                            r"gives \['K', 'has_intrinsics', 'images', 'stamps_ns'\]"):
        Trainer(_config('toy_gt', critic=1.0), fakes.RandomPairs(n=4), RunOptions(out=tmp_path))


def test_checkpoints_hold_every_net_by_name_and_resume_restores_them(toy, tmp_path):
    from selfdepth_ros.checkpoint import CheckpointError, build_models, load_checkpoint, save_checkpoint

    cfg = _config('toy_critic', critic=1.0)
    first = Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'a', max_steps=2))
    first.fit()
    path = tmp_path / 'a' / 'checkpoints' / 'step_0000002.pt'
    raw = torch.load(path, weights_only=True)
    assert set(raw['nets']) == {'critic'} and 'nets_sha256' in raw
    ckpt = load_checkpoint(path)
    depth, motion = build_models(ckpt)  # the runtime: depth and motion only, the critic ignored
    assert all(torch.equal(v, first.depth_net.state_dict()[k]) for k, v in depth.state_dict().items())
    resumed = Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'a', max_steps=3, resume=True))
    assert torch.equal(resumed.nets['critic'].weight, first.nets['critic'].weight)

    raw['nets']['critic']['weight'] = raw['nets']['critic']['weight'] + 1.0
    torch.save(raw, tmp_path / 'tampered.pt')
    with pytest.raises(CheckpointError, match='training-only nets do not match'):
        load_checkpoint(tmp_path / 'tampered.pt')

    old = tmp_path / 'old' / 'checkpoints' / 'step_0000002.pt'  # as written before nets had names: no 'nets'
    save_checkpoint(old, model_config=ckpt['model_config'], depth_net=ckpt['depth_net'],
                    motion_net=ckpt['motion_net'], step=2)
    assert 'nets' not in torch.load(old, weights_only=True)
    tuned = Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'b', init=str(old), max_steps=1))
    assert set(tuned.nets) == {'depth', 'motion', 'critic'}  # --init from it: the critic starts fresh
    with pytest.raises(CheckpointError, match="--resume: the checkpoint has no net 'critic'"):
        Trainer(cfg, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'old', resume=True))


@dataclass
class DuelWeights:
    duel: bool = False
    adversarial: float = 0.0
    fit: float = 1.0


def _duel_terms(w, batch, out, nets):
    score = nets['judge'](out.depths.log()).mean()
    return {'adversarial': w.adversarial * score, 'judge/fit': w.fit * (score - 1.0) ** 2}


DUEL = Part('duel', DuelWeights, _duel_terms, enabled=lambda w: w.duel, optimizer='judge',
            nets={'judge': lambda model: torch.nn.Conv2d(1, 1, 3, padding=1)})


def test_a_part_with_its_own_optimiser_moves_only_its_own_nets(monkeypatch, tmp_path):
    monkeypatch.setitem(METHODS, 'toy_duel', Method('toy_duel', DYNAMIC_SCENES, parts=(DUEL,)))

    def run(out, steps=1, **loss):
        trainer = Trainer(_config('toy_duel', duel=True, **loss), fakes.RandomPairs(n=4),
                          RunOptions(out=out, max_steps=steps))
        trainer.fit()
        return trainer

    a = run(tmp_path / 'a', fit=1.0)
    assert list(a.optimizers) == ['main', 'judge']
    judge = {id(p) for p in a.nets['judge'].parameters()}
    assert not judge & {id(p) for g in a.optimizer.param_groups for p in g['params']}
    b, c = run(tmp_path / 'b', fit=0.0), run(tmp_path / 'c', fit=1.0, adversarial=5.0)
    for key, value in a.depth_net.state_dict().items():  # the judge's objective never reaches the depth net
        assert torch.equal(value, b.depth_net.state_dict()[key]), key
    assert not torch.equal(a.nets['judge'].weight, b.nets['judge'].weight)  # b's judge did not move: fit 0
    assert torch.equal(a.nets['judge'].weight, c.nets['judge'].weight)  # the main objective never reaches the judge
    assert any(not torch.equal(v, c.depth_net.state_dict()[k]) for k, v in a.depth_net.state_dict().items())
    raw = torch.load(tmp_path / 'a' / 'checkpoints' / 'step_0000001.pt', weights_only=True)
    assert set(raw['optimizers']) == {'judge'} and raw['optimizers']['judge']['state']
    resumed = Trainer(_config('toy_duel', duel=True, fit=1.0), fakes.RandomPairs(n=4),
                      RunOptions(out=tmp_path / 'a', max_steps=2, resume=True))
    state = resumed.optimizers['judge'].state_dict()['state']
    assert all(torch.equal(state[i]['exp_avg'], a.optimizers['judge'].state_dict()['state'][i]['exp_avg'])
               for i in state)
