"""Every recipe in config/train/ trains for 2 steps on CPU: tiny nets at 64×64 on a short synthetic drive, read
through the recipe's own data path (topics, pair selection), so a recipe key the trainer cannot honour fails here."""
from pathlib import Path

import pytest
import torch

from selfdepth_ros.checkpoint import load_checkpoint
from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.trainer import RunOptions, Trainer

RECIPES = sorted((Path(__file__).resolve().parents[2] / 'config' / 'train').glob('*.yaml'))
SHRINK = {'model': {'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
          'data': {'height': 64, 'width': 64, 'batch_size': 2, 'num_workers': 0},
          'log': {'every': 1, 'image_every': 2, 'checkpoint_every': 2, 'progress_bar': False}}


def test_the_recipes_are_found():
    assert len(RECIPES) >= 6


@pytest.mark.parametrize('recipe', RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_trains_two_steps(recipe, sim_bag, tmp_path):
    native = load_config(recipe)
    scale = SHRINK['data']['width'] / native.data.width  # parallax in pixels shrinks with the image
    cfg = load_config(recipe, {**SHRINK, 'data': {**SHRINK['data'],
                                                  'min_parallax_px': native.data.min_parallax_px * scale}})
    bag = sim_bag(0, 12, width=128, height=96)
    data = {name: build_dataset(cfg, [str(bag)], verbose=False, source=name) for name in cfg.data.alternate} or \
        build_dataset(cfg, [str(bag)], verbose=False)  # a recipe's sources all read the synthetic drive here
    trainer = Trainer(cfg, data, RunOptions(out=tmp_path, max_steps=2))
    before = {k: v.clone() for k, v in trainer.depth_net.state_dict().items()}
    last = trainer.fit()
    assert trainer.step == 2 and torch.isfinite(torch.tensor(last['loss/total']))
    assert any(not torch.equal(before[k], v) for k, v in trainer.depth_net.state_dict().items())
    ckpt = load_checkpoint(tmp_path / 'checkpoints' / 'step_0000002.pt')
    assert ckpt['train_config']['recipe']['method'] == cfg.method
    assert (tmp_path / 'images' / 'step_0000002.png').exists()
