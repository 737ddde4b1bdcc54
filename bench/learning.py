"""Does training learn? Both recipes trained on synthetic drives for a fixed budget, scored on held-out drives.

    .venv/bin/python -m bench.learning                       # small recipes (CPU), default budget
    .venv/bin/python -m bench.learning --steps 3000 --full   # full-size recipes (GPU)

Training drives and held-out drives have different seeds (different streets, vehicles and paths). Reported
per recipe, on the held-out drives, next to the untrained network and a constant-depth predictor:
abs rel and δ<1.25 (median-scaled, caps 1e-3..80 m), abs rel on moving-object pixels (same per-image ratio),
and ego-motion ATE (whole drive and 5-frame snippets, Sim(3)-aligned). Writes bench/results/learning.json and
bench/results/learning.png (loss curves and the metric table as bars).
"""
from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
import torch

from selfdepth_ros.cli import main as selfdepth
from training.cli import build_dataset
from training.config import load_config
from training.evaluation import constant_depth_scores, evaluate_depth, evaluate_ego_motion, load_held_out
from training.trainer import RunOptions, Trainer

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ('dynamic_scenes', 'monodepth_baseline')


def make_bags(folder: Path, seeds: list[int], frames: int, width: int, height: int) -> list[Path]:
    bags = []
    for seed in seeds:
        out = folder / f'drive_s{seed}_n{frames}_{width}x{height}'
        if not out.exists():
            rc = selfdepth(['simulate', '--out', str(out), '--frames', str(frames), '--seed', str(seed),
                            '--width', str(width), '--height', str(height), '--quiet'])
            if rc != 0:
                raise RuntimeError(f'selfdepth simulate failed for seed {seed}')
        bags.append(out)
    return bags


def score(trainer: Trainer, held_out: list[dict]) -> dict[str, float]:
    rows = []
    for drive in held_out:
        depth = evaluate_depth(trainer.depth_net, drive['rgb'], drive['depth'], drive['moving'])
        ego = evaluate_ego_motion(trainer.depth_net, trainer.motion_net, drive['rgb'], drive['pose'])
        rows.append({**depth, **ego})
    keys = ('abs_rel', 'a1', 'abs_rel_dynamic', 'ate', 'snippet_ate')
    return {k: float(np.nanmean([r[k] for r in rows])) for k in keys}


def run(args: argparse.Namespace) -> dict:
    suffix = '' if args.full else '_small'
    probe = load_config(ROOT / f'config/train/dynamic_scenes{suffix}.yaml')
    W, H = probe.data.width, probe.data.height
    bag_dir = Path(args.bag_dir)
    bag_dir.mkdir(parents=True, exist_ok=True)
    train_bags = make_bags(bag_dir, args.train_seeds, args.frames, W, H)
    test_bags = make_bags(bag_dir, args.test_seeds, args.test_frames, W, H)
    held_out = [load_held_out(b, W, H) for b in test_bags]
    const = [constant_depth_scores(d['depth'], d['moving']) for d in held_out]
    result: dict = {'budget_steps': args.steps, 'train_seeds': args.train_seeds, 'test_seeds': args.test_seeds,
                    'size': [H, W], 'device': 'cuda' if torch.cuda.is_available() else 'cpu',
                    'constant_depth': {k: float(np.mean([c[k] for c in const]))
                                       for k in ('abs_rel', 'a1', 'abs_rel_dynamic')}, 'recipes': {}}
    for recipe in RECIPES:
        overrides = {'log': {'progress_bar': not args.quiet, 'image_every': max(args.steps // 4, 1),
                             'checkpoint_every': args.steps}}
        if args.lr:
            overrides['optim'] = {'lr': args.lr}
        cfg = load_config(ROOT / f'config/train/{recipe}{suffix}.yaml', overrides)
        run_dir = Path(args.out_dir) / recipe
        trainer = Trainer(cfg, build_dataset(cfg, [str(b) for b in train_bags]),
                          RunOptions(out=run_dir, max_steps=args.steps))
        untrained = score(trainer, held_out)
        start = time.perf_counter()
        trainer.fit()
        seconds = time.perf_counter() - start
        trained = score(trainer, held_out)
        with (run_dir / 'metrics.csv').open(newline='') as fh:
            curve = [(int(r['step']), float(r['loss/total'])) for r in csv.DictReader(fh)]
        result['recipes'][recipe] = {'untrained': untrained, 'trained': trained, 'train_seconds': seconds,
                                     'loss_curve': curve}
        print(f'[{recipe}] untrained {untrained}\n[{recipe}] trained   {trained}', flush=True)
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in result['recipes'].items():
        steps, losses = zip(*r['loss_curve']) if r['loss_curve'] else ((), ())
        ax1.plot(steps, losses, label=name)
    ax1.set(xlabel='step', ylabel='training loss (total)', title='loss')
    ax1.legend()
    metrics = ('abs_rel', 'abs_rel_dynamic')
    bars = {'constant depth': [result['constant_depth'][m] for m in metrics]}
    for name, r in result['recipes'].items():
        bars[f'{name} untrained'] = [r['untrained'][m] for m in metrics]
        bars[f'{name} trained'] = [r['trained'][m] for m in metrics]
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars.items()):
        ax2.bar(np.arange(len(metrics)) + i * width, values, width, label=label)
    ax2.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, ['abs rel (all)', 'abs rel (moving)'])
    ax2.set(title=f"held-out drives, {result['budget_steps']} steps", ylabel='lower is better')
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--steps', type=int, default=1500, help='training steps per recipe (the fixed budget)')
    p.add_argument('--lr', type=float, help='override the recipes\' learning rate')
    p.add_argument('--full', action='store_true', help='full-size recipes (GPU) instead of the _small ones')
    p.add_argument('--frames', type=int, default=120, help='frames per training drive')
    p.add_argument('--test-frames', type=int, default=40, help='frames per held-out drive')
    p.add_argument('--train-seeds', type=int, nargs='+', default=[1, 2, 3])
    p.add_argument('--test-seeds', type=int, nargs='+', default=[101, 102])
    p.add_argument('--bag-dir', default=str(ROOT / '.cache' / 'bench_bags'))
    p.add_argument('--out-dir', default='/tmp/selfdepth_bench_learning')
    p.add_argument('--results', default=str(ROOT / 'bench' / 'results'))
    p.add_argument('--quiet', action='store_true')
    args = p.parse_args(argv)
    result = run(args)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / 'learning.json').write_text(json.dumps(result, indent=2))
    plot(result, results / 'learning.png')
    print(f'wrote {results / "learning.json"} and {results / "learning.png"}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
