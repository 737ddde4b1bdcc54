"""Trainer mechanics on tiny nets and in-memory frames: exact resume after a kill, checkpoint contents,
refusal of mismatched architectures, frozen encoders, learned intrinsics."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from selfdepth_ros.checkpoint import CheckpointError, load_checkpoint
from selfdepth_ros_training.checkpointing import (checkpoint_path, list_checkpoints, newest_loadable,
                                    remove_orphaned_temp_files)
from selfdepth_ros_training.config import ConfigError, config_from_dict
from selfdepth_ros_training.trainer import RunOptions, Trainer, TrainingError

_spec = importlib.util.spec_from_file_location('training_fakes', Path(__file__).with_name('fakes.py'))
fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fakes)

TINY_MODEL = {'preset': 'small', 'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4}


def tiny_config(method='dynamic_scenes', **sections):
    frames = 2 if method == 'dynamic_scenes' else 3
    data = {'method': method, 'seed': 3,
            'model': {**TINY_MODEL, 'use_motion_field': method == 'dynamic_scenes'},
            'data': {'height': 64, 'width': 64, 'frames': frames, 'batch_size': 2},
            'schedule': {'field_burn_in_start': 1, 'field_burn_in_end': 3, 'layer_norm_ramp_steps': 2},
            'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 2, 'keep_last': 2, 'progress_bar': False}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return config_from_dict(data)


def state_of(trainer):
    params = {f'{n}.{k}': v.detach().clone() for n, net in (('d', trainer.depth_net), ('m', trainer.motion_net))
              for k, v in net.state_dict().items()}
    return params, trainer.optimizer.state_dict()


class Killed(Exception):
    pass


def test_resume_after_kill_continues_exactly(tmp_path):
    cfg = tiny_config()
    data = fakes.RandomPairs(n=7, frames=2)  # 3 batches per epoch: steps 0-5 span two epochs
    straight = Trainer(cfg, data, RunOptions(out=tmp_path / 'a', max_steps=6))
    straight.fit()

    def kill_at_3(trainer):
        if trainer.step == 3:  # after the step-2 checkpoint, part-way through epoch 0
            raise Killed
    with pytest.raises(Killed):
        Trainer(cfg, data, RunOptions(out=tmp_path / 'b', max_steps=6)).fit(on_step=kill_at_3)
    assert [s for s, _ in list_checkpoints(tmp_path / 'b')] == [2]
    resumed = Trainer(cfg, data, RunOptions(out=tmp_path / 'b', max_steps=6, resume=True))
    assert resumed.step == 2
    resumed.fit()

    (pa, oa), (pb, ob) = state_of(straight), state_of(resumed)
    assert pa.keys() == pb.keys()
    for key in pa:
        assert torch.equal(pa[key], pb[key]), key
    assert oa['state'].keys() == ob['state'].keys()
    for idx in oa['state']:
        for name, value in oa['state'][idx].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(ob['state'][idx][name])), (idx, name)
    rows = (tmp_path / 'b' / 'metrics.csv').read_text().splitlines()
    assert [r.split(',')[0] for r in rows[1:]] == ['1', '2', '3', '4', '5', '6']  # no duplicated step 3


def test_checkpoints_are_complete_weights_only_and_pruned(tmp_path):
    trainer = Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=5))
    trainer.fit()
    assert [s for s, _ in list_checkpoints(tmp_path)] == [4, 5]  # keep_last 2, final step always saved
    ckpt = load_checkpoint(tmp_path / 'checkpoints' / 'step_0000005.pt')  # weights_only=True inside
    assert ckpt['step'] == 5 and ckpt['optimizer']['state']
    assert ckpt['train_config']['recipe']['method'] == 'dynamic_scenes'
    assert ckpt['camera']['width'] == 64 and ckpt['camera']['K'][0][0] == pytest.approx(0.8 * 64)
    assert set(ckpt['rng']) >= {'torch', 'numpy', 'python'}
    assert (tmp_path / 'config.yaml').exists() and (tmp_path / 'metrics.csv').exists()


def test_resume_and_init_refuse_mismatches(tmp_path):
    Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'a', max_steps=1)).fit()
    ckpt = tmp_path / 'a' / 'checkpoints' / 'step_0000001.pt'
    wider = tiny_config(model={'encoder_width': 16})
    with pytest.raises(CheckpointError, match=r"encoder_width.*8 \(checkpoint\) vs 16"):
        Trainer(wider, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'b', init=str(ckpt)))
    with pytest.raises(TrainingError, match=r"recipe differs .*\['model'\]"):
        Trainer(wider, fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'a', resume=True))
    with pytest.raises(TrainingError, match='no checkpoint in'):
        Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'c', resume=True))
    with pytest.raises(TrainingError, match='fewer than one batch'):
        Trainer(tiny_config(), fakes.RandomPairs(n=1), RunOptions(out=tmp_path / 'd'))


def test_init_loads_weights_and_freeze_encoder_keeps_them(tmp_path):
    first = Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path / 'a', max_steps=2))
    first.fit()
    ckpt = str(tmp_path / 'a' / 'checkpoints' / 'step_0000002.pt')
    tuned = Trainer(tiny_config(seed=9), fakes.RandomPairs(n=4, seed=5),
                    RunOptions(out=tmp_path / 'b', init=ckpt, freeze_encoder=True, max_steps=2))
    assert tuned.step == 0
    before = {k: v.clone() for k, v in tuned.depth_net.state_dict().items()}
    assert all(torch.equal(before[k], v) for k, v in first.depth_net.state_dict().items())
    tuned.fit()
    after = tuned.depth_net.state_dict()
    enc = [k for k in before if k.startswith('encoder.')]
    dec = [k for k in before if k.startswith('decoder.')]
    assert all(torch.equal(before[k], after[k]) for k in enc)
    assert any(not torch.equal(before[k], after[k]) for k in dec)


def test_bags_without_camera_info_learn_intrinsics(tmp_path):
    trainer = Trainer(tiny_config(), fakes.RandomPairs(n=4, has_intrinsics=False),
                      RunOptions(out=tmp_path, max_steps=2))
    assert trainer.model_config.learn_intrinsics
    head = trainer.motion_net.foci.weight.detach().clone()
    trainer.fit()
    assert not torch.equal(head, trainer.motion_net.foci.weight)  # the intrinsics head is trained
    camera = load_checkpoint(tmp_path / 'checkpoints' / 'step_0000002.pt')['camera']
    K = torch.tensor(camera['K'])
    assert camera['width'] == 64 and K[0, 0] > 0 and K[2, 2] == 1


@pytest.mark.parametrize('method', ['dynamic_scenes', 'monodepth_baseline'])
def test_each_recipe_runs_a_step_and_writes_images(tmp_path, method):
    cfg = tiny_config(method, log={'image_every': 1})
    frames = 2 if method == 'dynamic_scenes' else 3
    trainer = Trainer(cfg, fakes.RandomPairs(n=2, frames=frames), RunOptions(out=tmp_path, max_steps=1))
    last = trainer.fit()
    assert torch.isfinite(torch.tensor(last['loss/total'])) and last['samples_per_s'] > 0
    assert (tmp_path / 'images' / 'step_0000001.png').exists()
    with pytest.raises(TrainingError, match='needs 3 frames per sample, the dataset gives 2'):
        Trainer(tiny_config('monodepth_baseline'), fakes.RandomPairs(n=2, frames=2), RunOptions(out=tmp_path / 'x'))


def test_depth_lr_factor_puts_the_depth_net_in_its_own_group(tmp_path):
    cfg = tiny_config('dynamic_scenes', optim={'lr': 1e-3, 'depth_lr_factor': 0.125})
    trainer = Trainer(cfg, fakes.RandomPairs(n=2, frames=2), RunOptions(out=tmp_path, max_steps=1))
    groups = trainer.optimizer.param_groups
    assert [g['lr'] for g in groups] == [1e-3, 1.25e-4, 1e-3]  # motion weights, depth net, output scales
    assert {id(p) for p in groups[1]['params']} == {id(p) for p in trainer.depth_net.parameters()}
    assert not {id(p) for p in trainer.depth_net.parameters()} & {id(p) for p in groups[0]['params']}
    before = [p.detach().clone() for p in trainer.depth_net.parameters()]
    trainer.fit()
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.depth_net.parameters()))  # it still trains


def test_depth_lr_factor_must_be_positive():
    with pytest.raises(ConfigError, match='depth_lr_factor'):
        tiny_config('dynamic_scenes', optim={'depth_lr_factor': 0.0})


@pytest.mark.parametrize('method', ['dynamic_scenes', 'monodepth_baseline'])
def test_scale_prior_term_and_output_scale_learning_rate(tmp_path, method):
    cfg = tiny_config(method, loss={'depth_scale_prior': 0.5, 'depth_prior_metres': 3.0},
                      optim={'lr': 1e-3, 'output_scale_lr_factor': 50.0, 'lr_decay_steps': [1], 'lr_decay_factor': 0.5})
    frames = 2 if method == 'dynamic_scenes' else 3
    trainer = Trainer(cfg, fakes.RandomPairs(n=2, frames=frames), RunOptions(out=tmp_path, max_steps=2))
    groups = trainer.optimizer.param_groups
    assert [g['lr'] for g in groups] == [1e-3, 0.05]
    scales = {id(trainer.motion_net.log_rotation_scale), id(trainer.motion_net.log_translation_scale)}
    assert {id(p) for p in groups[1]['params']} == scales
    assert not scales & {id(p) for p in groups[0]['params']}
    out = trainer.train_step(next(iter(trainer._loader(0, 0))))
    prior = float(out.losses['depth_scale_prior'])
    assert prior > 0 and float(out.losses['total']) >= prior
    trainer.fit()  # step 1 onwards: both groups decayed by the same factor
    assert [g['lr'] for g in trainer.optimizer.param_groups] == [5e-4, 0.025]


# --resume with a corrupt newest checkpoint, and temp files of a killed save (issue 12)
def _corrupt(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])  # a file cut short (a failed copy or filesystem)


def test_resume_falls_back_to_the_previous_checkpoint_when_the_newest_is_corrupt(tmp_path, capsys):
    Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=4)).fit()
    assert [s for s, _ in list_checkpoints(tmp_path)] == [2, 4]
    _corrupt(checkpoint_path(tmp_path, 4))
    resumed = Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=6, resume=True))
    assert resumed.step == 2
    err = capsys.readouterr().err
    assert 'step_0000004.pt does not load' in err and 'resuming from step_0000002.pt' in err
    resumed.fit()
    assert newest_loadable(tmp_path)[0] == checkpoint_path(tmp_path, 6)


def test_no_loadable_checkpoint_raises_the_newest_ones_error(tmp_path):
    Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=2)).fit()
    _corrupt(checkpoint_path(tmp_path, 2))
    with pytest.raises(CheckpointError):
        newest_loadable(tmp_path)


def test_orphaned_temp_files_are_removed_and_nothing_else(tmp_path):
    folder = tmp_path / 'checkpoints'
    folder.mkdir()
    orphan = folder / '.step_0000004.pt.0123456789ab.tmp'
    keep = [folder / 'notes.tmp', folder / '.step_0000004.pt.short.tmp', folder / 'step_0000002.pt']
    for path in [orphan, *keep]:
        path.write_bytes(b'x')
    assert remove_orphaned_temp_files(tmp_path) == [orphan]
    assert not orphan.exists() and all(p.exists() for p in keep)
    assert remove_orphaned_temp_files(tmp_path / 'no_such_run') == []


def test_a_new_trainer_cleans_the_temp_files_of_a_killed_save(tmp_path):
    folder = tmp_path / 'checkpoints'
    folder.mkdir(parents=True)
    orphan = folder / '.step_0000002.pt.abcdefabcdef.tmp'
    orphan.write_bytes(b'half a checkpoint')
    Trainer(tiny_config(), fakes.RandomPairs(n=4), RunOptions(out=tmp_path, max_steps=1))
    assert not orphan.exists()
