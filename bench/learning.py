"""Does training learn? Both recipes trained on synthetic drives for a fixed budget, scored on held-out drives.

    .venv/bin/python -m bench.learning                       # small recipes (CPU), default budget
    .venv/bin/python -m bench.learning --steps 3000 --full   # full-size recipes (GPU)

Training drives and held-out drives have different seeds (different streets, vehicles and paths); drives are
rendered at the simulator's 416×128 camera and resized to the recipe's network size, as a real camera's images
are. Each recipe is trained once per ``--seeds`` value (initial weights and data order), so one lucky run cannot
pass for learning. Reported per recipe and seed, on the held-out drives, next to the untrained network and a
constant-depth predictor: abs rel and δ<1.25 (median-scaled, caps 1e-3..80 m), abs rel on moving-object pixels
(same per-image ratio), and ego-motion ATE (whole drive and 5-frame snippets, Sim(3)-aligned). The verdict
line says whether every dynamic-scenes run beat its untrained start and the constant predictor by ``MARGIN``.
Writes bench/results/learning.json and bench/results/learning.png (loss curves and the metric table as bars).
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
from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.evaluation import constant_depth_scores, evaluate_depth, evaluate_ego_motion, load_held_out
from selfdepth_ros_training.trainer import RunOptions, Trainer

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ('dynamic_scenes', 'monodepth_baseline')
MARGIN = 0.85  # "learned": trained abs rel below 85 % of both the untrained net's and the constant predictor's
KEYS = ('abs_rel', 'a1', 'abs_rel_dynamic', 'ate', 'snippet_ate')


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
    return {k: float(np.nanmean([r[k] for r in rows])) for k in KEYS}


def mean_over(runs: list[dict], key: str) -> dict[str, float]:
    return {k: float(np.nanmean([r[key][k] for r in runs])) for k in KEYS}


def verdict(result: dict) -> tuple[bool, str]:
    """(every dynamic-scenes seed learned by MARGIN, one line saying so and how it compares to the baseline)."""
    const = result['constant_depth']['abs_rel']
    runs = result['recipes']['dynamic_scenes']['runs']
    learned = [r['trained']['abs_rel'] < MARGIN * min(r['untrained']['abs_rel'], const) for r in runs]
    line = (f'dynamic_scenes learned in {sum(learned)}/{len(runs)} seeds '
            f'(trained abs rel < {MARGIN} x min(untrained, constant {const:.3f}))')
    base = result['recipes'].get('monodepth_baseline')
    if base:
        dyn, ref = (result['recipes'][n]['trained']['abs_rel_dynamic']
                    for n in ('dynamic_scenes', 'monodepth_baseline'))
        line += f'; moving-object abs rel: dynamic_scenes {dyn:.3f} vs monodepth_baseline {ref:.3f}'
    return all(learned), line


def run(args: argparse.Namespace) -> dict:
    suffix = '' if args.full else '_small'
    probe = load_config(ROOT / f'config/train/dynamic_scenes{suffix}.yaml')
    W, H = probe.data.width, probe.data.height
    bag_dir = Path(args.bag_dir)
    bag_dir.mkdir(parents=True, exist_ok=True)
    train_bags = make_bags(bag_dir, args.train_seeds, args.frames, args.render_width, args.render_height)
    test_bags = make_bags(bag_dir, args.test_seeds, args.test_frames, args.render_width, args.render_height)
    held_out = [load_held_out(b, W, H) for b in test_bags]
    const = [constant_depth_scores(d['depth'], d['moving']) for d in held_out]
    result: dict = {'budget_steps': args.steps, 'train_seeds': args.train_seeds, 'test_seeds': args.test_seeds,
                    'recipe_seeds': args.seeds, 'size': [H, W], 'render_size': [args.render_height, args.render_width],
                    'device': 'cuda' if torch.cuda.is_available() else 'cpu', 'threads': torch.get_num_threads(),
                    'constant_depth': {k: float(np.mean([c[k] for c in const]))
                                       for k in ('abs_rel', 'a1', 'abs_rel_dynamic')}, 'recipes': {}}
    for recipe in args.recipes:
        runs = []
        for seed in args.seeds:
            overrides = {'seed': seed, 'log': {'progress_bar': not args.quiet, 'image_every': max(args.steps // 4, 1),
                                               'checkpoint_every': args.steps}}
            if args.lr:
                overrides['optim'] = {'lr': args.lr}
            cfg = load_config(ROOT / f'config/train/{recipe}{suffix}.yaml', overrides)
            run_dir = Path(args.out_dir) / f'{recipe}_seed{seed}'
            trainer = Trainer(cfg, build_dataset(cfg, [str(b) for b in train_bags]),
                              RunOptions(out=run_dir, max_steps=args.steps))
            untrained = score(trainer, held_out)
            start = time.perf_counter()
            trainer.fit()
            seconds = time.perf_counter() - start
            trained = score(trainer, held_out)
            with (run_dir / 'metrics.csv').open(newline='') as fh:
                curve = [(int(r['step']), float(r['loss/total'])) for r in csv.DictReader(fh)]
            runs.append({'seed': seed, 'untrained': untrained, 'trained': trained, 'train_seconds': seconds,
                         'loss_curve': curve})
            print(f'[{recipe} seed {seed}] untrained {untrained}\n[{recipe} seed {seed}] trained   {trained}',
                  flush=True)
        result['recipes'][recipe] = {'untrained': mean_over(runs, 'untrained'), 'trained': mean_over(runs, 'trained'),
                                     'runs': runs}
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in result['recipes'].items():
        for run in r['runs']:
            steps, losses = zip(*run['loss_curve']) if run['loss_curve'] else ((), ())
            ax1.plot(steps, losses, label=f"{name} seed {run['seed']}")
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
    ax2.set(title=f"held-out drives, {result['budget_steps']} steps, mean of {len(result['recipe_seeds'])} seeds",
            ylabel='lower is better')
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--steps', type=int, default=600, help='training steps per recipe (the fixed budget)')
    p.add_argument('--lr', type=float, help='override the recipes\' learning rate')
    p.add_argument('--full', action='store_true', help='full-size recipes (GPU) instead of the _small ones')
    p.add_argument('--frames', type=int, default=200, help='frames per training drive')
    p.add_argument('--test-frames', type=int, default=30, help='frames per held-out drive')
    p.add_argument('--train-seeds', type=int, nargs='+', default=[1, 2, 3, 4],
                   help='simulator seeds of the training drives')
    p.add_argument('--test-seeds', type=int, nargs='+', default=[7, 8], help='simulator seeds of held-out drives')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1], help='recipe seeds: one training run each')
    p.add_argument('--recipes', nargs='+', default=list(RECIPES), choices=RECIPES)
    p.add_argument('--render-width', type=int, default=416, help='width the drives are rendered at')
    p.add_argument('--render-height', type=int, default=128)
    p.add_argument('--bag-dir', default=str(ROOT / '.cache' / 'bench_bags'))
    p.add_argument('--out-dir', default='/tmp/selfdepth_bench_learning')
    p.add_argument('--results', default=str(ROOT / 'bench' / 'results'))
    p.add_argument('--quiet', action='store_true')
    p.add_argument('--smoke', action='store_true', help='a plumbing check (tiny budgets): report the verdict, exit 0')
    args = p.parse_args(argv)
    result = run(args)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / 'learning.json').write_text(json.dumps(result, indent=2))
    plot(result, results / 'learning.png')
    ok, line = verdict(result) if 'dynamic_scenes' in result['recipes'] else (True, 'dynamic_scenes not run')
    result['verdict'] = {'learned': ok, 'summary': line}
    (results / 'learning.json').write_text(json.dumps(result, indent=2))
    print(f'wrote {results / "learning.json"} and {results / "learning.png"}')
    print(('LEARNED: ' if ok else 'DID NOT LEARN: ') + line)
    return 0 if ok or args.smoke else 1


if __name__ == '__main__':
    raise SystemExit(main())
