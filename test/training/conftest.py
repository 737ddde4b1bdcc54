"""Synthetic drives written as bags once per test session (``selfdepth simulate``)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='session')
def sim_bag(tmp_path_factory):
    """``sim_bag(seed, frames, width=192, height=64, moving_objects=4)`` -> path of a synthetic-drive bag
    (cached per session)."""
    from selfdepth_ros.cli import main as selfdepth

    root = tmp_path_factory.mktemp('sim_bags')
    made: dict[tuple, Path] = {}

    def make(seed: int, frames: int, width: int = 192, height: int = 64, moving_objects: int = 4) -> Path:
        key = (seed, frames, width, height, moving_objects)
        if key not in made:
            out = root / f'drive_s{seed}_n{frames}_{width}x{height}_m{moving_objects}'
            rc = selfdepth(['simulate', '--out', str(out), '--frames', str(frames), '--seed', str(seed),
                            '--width', str(width), '--height', str(height),
                            '--moving-objects', str(moving_objects), '--quiet'])
            assert rc == 0, f'selfdepth simulate failed for {key}'
            made[key] = out
        return made[key]

    return make


@pytest.fixture
def tiny_recipe(tmp_path):
    """A copy of ``dynamic_scenes_small.yaml`` with tiny nets at 64×64, batch 2, logging every step."""
    def make(**data) -> Path:
        recipe = yaml.safe_load((ROOT / 'config/train/dynamic_scenes_small.yaml').read_text())
        recipe['model'].update(encoder_width=8, decoder_width=4, motion_refine_width=4)
        recipe['data'].update(height=64, width=64, batch_size=2, **data)
        recipe['log'].update(every=1, checkpoint_every=2, image_every=2)
        path = tmp_path / 'tiny.yaml'
        path.write_text(yaml.safe_dump(recipe))
        return path
    return make
