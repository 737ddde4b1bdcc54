"""Where a training step's time goes (issue 15, "profile first"): data, the two nets' forward, the loss, backward,
the optimiser, and the rest (logging, checkpoints, progress), for one recipe on a synthetic drive.

    .venv/bin/python -m bench.train_profile                      # the small recipe, 60 steps after 5 warm-up
    .venv/bin/python -m bench.train_profile --config config/train/real_finetune_small.yaml --steps 30

Timers wrap the trainer's own calls (the product's code path, nothing re-implemented); torch runs eagerly on the
CPU, so a call's wall time is its compute. Writes bench/results/train_profile.json: seconds per step and the share
of each part.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def _timed(totals: dict[str, float], key: str, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start
    return wrapper


def profile(config: Path, bag: Path, steps: int, warmup: int, out: Path) -> dict:
    """Run ``warmup + steps`` steps of ``config`` on ``bag``; seconds per step of each part over the last ``steps``."""
    from selfdepth_ros_training import trainer as tr
    from selfdepth_ros_training.config import load_config
    from selfdepth_ros_training.data import build_dataset

    cfg = load_config(config, {'optim': {'max_steps': warmup + steps}, 'log': {'progress_bar': False}})
    trainer = tr.Trainer(cfg, build_dataset(cfg, [str(bag)]), tr.RunOptions(out=out, max_steps=warmup + steps))
    totals: dict[str, float] = defaultdict(float)
    trainer.depth_net.forward = _timed(totals, 'depth net forward', trainer.depth_net.forward)
    trainer.motion_net.forward = _timed(totals, 'motion net forward', trainer.motion_net.forward)
    trainer.compute_losses = _timed(totals, 'forward (nets + loss)', trainer.compute_losses)
    trainer.train_step = _timed(totals, 'step', trainer.train_step)
    patches = [(torch.Tensor, 'backward', 'backward'), (torch.optim.Adam, 'step', 'Adam step'),
               (torch.nn.utils, 'clip_grad_norm_', 'gradient clip')]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, key in patches:
        setattr(owner, name, _timed(totals, key, getattr(owner, name)))
    marks: dict[str, float] = {}

    def on_step(t: tr.Trainer) -> None:
        if t.step == warmup:
            totals.clear()
            marks['start'] = time.perf_counter()
    try:
        trainer.fit(on_step=on_step)
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)
    wall = (time.perf_counter() - marks['start']) / steps
    per = {k: v / steps for k, v in totals.items()}
    nets = per['depth net forward'] + per['motion net forward']
    parts = {'between steps (data loader, logging, checkpoints)': wall - per['step'],
             'nets forward': nets, 'loss forward': per['forward (nets + loss)'] - nets,
             'backward': per['backward'], 'optimiser (Adam, clip)': per['Adam step'] + per['gradient clip']}
    parts['rest of the step (checks, scale constraints)'] = wall - sum(parts.values())
    return {'seconds_per_step': wall, 'samples_per_s': cfg.data.batch_size / wall,
            'parts_s': parts, 'share': {k: v / wall for k, v in parts.items()},
            'threads': torch.get_num_threads(), 'batch_size': cfg.data.batch_size,
            'size': [cfg.data.height, cfg.data.width], 'config': str(config)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m bench.train_profile', description=__doc__.split('\n\n')[0])
    p.add_argument('--config', type=Path, default=ROOT / 'config' / 'train' / 'dynamic_scenes_small.yaml')
    p.add_argument('--steps', type=int, default=60)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--out', type=Path, default=ROOT / 'bench' / 'results' / 'train_profile.json')
    args = p.parse_args(argv)
    from selfdepth_ros.cli import main as selfdepth
    with tempfile.TemporaryDirectory(prefix='selfdepth_profile_') as tmp:
        bag = Path(tmp) / 'drive'
        if selfdepth(['simulate', '--out', str(bag), '--frames', '60', '--seed', '7', '--quiet']):
            return 1
        result = profile(args.config, bag, args.steps, args.warmup, Path(tmp) / 'run')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"{result['config']}: {result['seconds_per_step'] * 1e3:.0f} ms per step, "
          f"{result['samples_per_s']:.1f} samples/s on {result['threads']} thread(s)")
    for k, v in result['parts_s'].items():
        print(f'  {k:<50} {v * 1e3:7.1f} ms  {result["share"][k]:6.1%}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
