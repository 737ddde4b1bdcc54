"""Learning is real: a brief CI-sized run of the small dynamic-scenes recipe must clearly improve held-out depth.

If the losses were disconnected from the nets (or the warp pointed the wrong way), the held-out abs rel would
not move from the untrained value and this test fails. Slow (a few minutes on 2 cores): ``make test-slow``.
"""
from pathlib import Path

import pytest

from training.cli import build_dataset
from training.config import load_config
from training.trainer import RunOptions, Trainer

ROOT = Path(__file__).resolve().parents[2]
STEPS = 150


@pytest.mark.slow
def test_small_dynamic_scenes_recipe_improves_held_out_abs_rel(tmp_path, sim_bag):
    from training.evaluation import constant_depth_scores, evaluate_depth, load_held_out

    cfg = load_config(ROOT / 'config/train/dynamic_scenes_small.yaml',
                      {'optim': {'lr': 5e-4}, 'log': {'progress_bar': False, 'image_every': 0}})
    trainer = Trainer(cfg, build_dataset(cfg, [str(sim_bag(1, 40))]), RunOptions(out=tmp_path, max_steps=STEPS))
    held_out = load_held_out(sim_bag(7, 16), cfg.data.width, cfg.data.height)
    before = evaluate_depth(trainer.depth_net, held_out['rgb'], held_out['depth'], held_out['moving'])
    constant = constant_depth_scores(held_out['depth'])
    trainer.fit()
    after = evaluate_depth(trainer.depth_net, held_out['rgb'], held_out['depth'], held_out['moving'])
    print(f'abs rel: constant {constant["abs_rel"]:.3f}, untrained {before["abs_rel"]:.3f}, '
          f'trained {after["abs_rel"]:.3f} after {STEPS} steps')
    assert after['abs_rel'] < 0.85 * before['abs_rel']
    assert after['abs_rel'] < 0.9 * constant['abs_rel']
