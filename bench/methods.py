"""The methods table (issue 11): each small recipe trained with several recipe seeds, medians, beside the baselines.

    .venv/bin/python -m bench.methods                          # 4 recipes x 3 seeds, recipe steps (~1.5 h, 1 core)
    .venv/bin/python -m bench.methods --recipes sim2real_small --seeds 0 --steps 50   # quick look

Every run goes through the product's own commands (``selfdepth simulate / import / train / eval``):

- training data: the synthetic drives ``sim1`` and ``sim2`` (100 frames, seeds 1 and 2). A recipe that alternates
  sources (``data.alternate``: ``synthetic`` and ``real``) also gets the real KITTI odometry snippet as its
  ``real`` source, read self-supervised (its poses are never loaded), as a robot would adapt to its own drive;
- scores, per run:
  - held-out synthetic drive (seed 17, 60 frames, never trained on): median-scaled abs rel on all, static and
    moving-object pixels;
  - ``kitti_depth_snippet`` (11 real frames with LiDAR, evaluation only): abs rel, no crop;
  - the KITTI odometry snippet: 5-frame snippet ATE under the scale-only SfMLearner/monodepth2 protocol;
- baselines printed beside them: the best constant depth (median scaled) on the same pixels, straight-ahead
  constant-speed motion, and the shipped model.

Runs are cached in ``--work`` (``<recipe>_s<seed>/score.json``), so a rerun with another recipe adds rows.
Writes bench/results/methods.json and methods.png and prints the markdown table. The verdict lines check
issue 11's acceptance: the synthetic-supervised recipes beat 001 small on held-out synthetic depth and on moving
objects, and sim2real small beats the constant and the shipped model on ``kitti_depth_snippet``.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from bench.real import REAL, SHIPPED, run

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ('dynamic_scenes_small', 'monodepth_baseline_small', 'sim2real_small', 's3net_small')
SUPERVISED = ('sim2real_small', 's3net_small')  # the recipes with synthetic ground-truth steps
FILED_SHIPPED = 0.362  # kitti_depth_snippet abs rel of the model shipped when issue 11 was filed (its target)
METRICS = ('all', 'static', 'dynamic', 'kitti_depth', 'snippet_ate')


def make_bags(work: Path) -> dict[str, Path]:
    bags = {'sim1': work / 'sim1', 'sim2': work / 'sim2', 'held': work / 'held17', 'depth': work / 'kitti_depth',
            'odo': work / 'kitti_odometry'}
    for name, seed, frames in (('sim1', 1, 100), ('sim2', 2, 100), ('held', 17, 60)):
        if not bags[name].exists():
            run('simulate', '--out', bags[name], '--frames', frames, '--seed', seed, '--quiet')
    for name, src in (('depth', REAL / 'kitti_depth_snippet'), ('odo', REAL / 'kitti_odometry_snippet')):
        if not bags[name].exists():
            run('import', src, '--out', bags[name])
    return bags


def data_args(recipe: Path, bags: dict[str, Path]) -> list:
    """The ``selfdepth train`` data flags: ``--bags`` for one source, ``--source NAME BAG...`` per alternated one."""
    from selfdepth_ros_training.config import load_config
    alternate = dict(load_config(recipe).data.alternate or {})
    if not alternate:
        return ['--bags', bags['sim1'], bags['sim2']]
    per_source = {'synthetic': [bags['sim1'], bags['sim2']], 'real': [bags['odo']]}
    unknown = sorted(set(alternate) - set(per_source))
    if unknown:
        raise SystemExit(f'bench.methods: {recipe.name} alternates sources {unknown}; this benchmark feeds only '
                         f'{sorted(per_source)}')
    return [a for name in alternate for a in ('--source', name, *per_source[name])]


def evaluate(ckpt: Path, bags: dict[str, Path], work: Path, tag: str) -> dict:
    """The run's scores and, under ``baselines``, the constant depth's / straight ahead's on the same data."""
    def eval_json(bag: str, *extra) -> dict:
        js = work / f'{tag}_{bag}.json'
        run('eval', '--checkpoint', ckpt, '--bag', bags[bag], '--json', js, '--force', '--device', 'cpu', *extra)
        return json.loads(js.read_text())
    held, depth = eval_json('held'), eval_json('depth', '--crop', 'none')
    odo = eval_json('odo', '--snippet-protocol', 'sfmlearner')
    const = held['baselines']['constant_depth']
    score = {'all': held['depth']['abs_rel'], 'static': held['depth_static']['abs_rel'],
             'dynamic': held['depth_dynamic']['abs_rel'], 'kitti_depth': depth['depth']['abs_rel'],
             'snippet_ate': odo['trajectory']['snippet_ate']['mean']}
    score['baselines'] = {
        'constant depth': {'all': const['depth']['abs_rel'], 'static': const['depth_static']['abs_rel'],
                           'dynamic': const['depth_dynamic']['abs_rel'],
                           'kitti_depth': depth['baselines']['constant_depth']['depth']['abs_rel']},
        'straight ahead, constant speed': {'snippet_ate': odo['baselines']['straight_ahead']['snippet_ate']['mean']}}
    return score


def train_and_score(recipe: str, seed: int, steps: int | None, bags: dict[str, Path], work: Path) -> dict:
    out = work / f'{recipe}_s{seed}'
    cached = out / 'score.json'
    if cached.is_file():
        return json.loads(cached.read_text())
    config = ROOT / 'config' / 'train' / f'{recipe}.yaml'
    run('train', '--config', config, *data_args(config, bags), '--out', out, '--seed', seed, '--no-progress',
        '--force', *(['--max-steps', steps] if steps else []))
    ckpt = sorted((out / 'checkpoints').glob('step_*.pt'))[-1]
    score = {**evaluate(ckpt, bags, work, f'{recipe}_s{seed}'), 'checkpoint': str(ckpt)}
    cached.write_text(json.dumps(score, indent=2))
    return score


def summarise(runs: dict[str, dict[int, dict]]) -> dict[str, dict[str, float]]:
    """Median and range over seeds, per recipe and metric."""
    return {recipe: {m: {'median': float(np.median([s[m] for s in by_seed.values()])),
                         'min': float(min(s[m] for s in by_seed.values())),
                         'max': float(max(s[m] for s in by_seed.values()))} for m in METRICS}
            for recipe, by_seed in runs.items()}


def table(result: dict) -> str:
    head = ('| recipe (median of seeds, range) | held-out synthetic: all | static | moving objects | '
            'kitti_depth_snippet | KITTI snippet ATE (scale-only), m |\n|---|---|---|---|---|---|')
    fmt = {'snippet_ate': '{:.4f}'}
    lines = [head]
    for name, row in result['baselines'].items():
        cells = [fmt.get(m, '{:.3f}').format(row[m]) if m in row else '' for m in METRICS]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    for recipe, row in result['median'].items():
        cells = []
        for m in METRICS:
            f = fmt.get(m, '{:.3f}')
            cells.append(f"**{f.format(row[m]['median'])}** ({f.format(row[m]['min'])}–{f.format(row[m]['max'])})")
        lines.append(f"| {recipe}, seeds {result['seeds'][recipe]} | {' | '.join(cells)} |")
    return '\n'.join(lines)


def verdict(result: dict) -> list[tuple[bool, str]]:
    med, checks = result['median'], []
    core = med.get('dynamic_scenes_small')
    for recipe in (r for r in SUPERVISED if r in med):
        if core:
            for m in ('all', 'dynamic'):
                a, b = med[recipe][m]['median'], core[m]['median']
                checks.append((a < b, f'{recipe} held-out synthetic {m} {a:.3f} vs 001 small {b:.3f}'))
    if 'sim2real_small' in med:
        k = med['sim2real_small']['kitti_depth']['median']
        for name, ref in (('constant', result['baselines']['constant depth']['kitti_depth']),
                          ('the model shipped when issue 11 was filed', FILED_SHIPPED)):
            checks.append((k < ref, f'sim2real_small kitti_depth_snippet {k:.3f} vs {name} {ref:.3f}'))
    return checks


def against_shipped(result: dict) -> list[str]:
    """Informational: each recipe's medians against today's shipped model (fine-tuned on the real snippet)."""
    ref = result['baselines']['shipped model']
    return [f"{recipe}: kitti_depth_snippet {row['kitti_depth']['median']:.3f} vs shipped {ref['kitti_depth']:.3f}, "
            f"snippet ATE {row['snippet_ate']['median']:.4f} vs shipped {ref['snippet_ate']:.4f}"
            for recipe, row in result['median'].items()]


def plot(result: dict, path: Path) -> None:
    os.environ.setdefault('MPLBACKEND', 'Agg')
    import matplotlib.pyplot as plt
    panels = (('all', 'held-out synthetic abs rel'), ('dynamic', 'held-out synthetic, moving objects'),
              ('kitti_depth', 'kitti_depth_snippet abs rel'), ('snippet_ate', 'KITTI snippet ATE (scale-only), m'))
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.8))
    for ax, (m, title) in zip(axes, panels):
        base = [(n, r[m]) for n, r in result['baselines'].items() if m in r]
        names = [n for n, _ in base] + list(result['median'])
        values = [v for _, v in base] + [r[m]['median'] for r in result['median'].values()]
        ax.bar(range(len(names)), values, color=['grey'] * len(base) + ['tab:green'] * len(result['median']))
        for i, recipe in enumerate(result['median'], start=len(base)):
            ax.plot([i] * len(result['runs'][recipe]), [s[m] for s in result['runs'][recipe].values()], 'k.')
        ax.set_xticks(range(len(names)), [n.replace('_small', '').replace(', ', ',\n') for n in names],
                      rotation=60, fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.suptitle('issue 11 methods: bars = median of recipe seeds, dots = seeds, grey = baselines', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m bench.methods', description=__doc__.split('\n\n')[0])
    p.add_argument('--recipes', nargs='+', default=[r for r in RECIPES
                                                    if (ROOT / 'config' / 'train' / f'{r}.yaml').is_file()])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--steps', type=int, help="training steps per run (default: each recipe's optim.max_steps)")
    p.add_argument('--work', type=Path, default=ROOT / '.cache' / 'bench_methods', help='bags, runs, cached scores')
    p.add_argument('--out', type=Path, default=ROOT / 'bench' / 'results')
    args = p.parse_args(argv)
    if REAL is None:
        print('bench.methods: ../shared/data/real not found beside the checkout')
        return 2
    for recipe in args.recipes:
        if not (ROOT / 'config' / 'train' / f'{recipe}.yaml').is_file():
            p.error(f'no recipe config/train/{recipe}.yaml')
    args.work.mkdir(parents=True, exist_ok=True)
    bags = make_bags(args.work)
    shipped = evaluate(SHIPPED, bags, args.work, 'shipped')
    runs: dict[str, dict[int, dict]] = {}
    for recipe in args.recipes:
        for seed in args.seeds:
            score = runs.setdefault(recipe, {})[seed] = train_and_score(recipe, seed, args.steps, bags, args.work)
            print(f'[bench.methods] {recipe} seed {seed}: ' +
                  ', '.join(f'{m} {score[m]:.4f}' for m in METRICS), flush=True)
    result = {'steps': args.steps or 'recipe', 'seeds': {r: sorted(s) for r, s in runs.items()},
              'baselines': {**shipped['baselines'], 'shipped model': {m: shipped[m] for m in METRICS}},
              'runs': runs, 'median': summarise(runs)}
    result['verdict'] = [{'ok': ok, 'check': line} for ok, line in verdict(result)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'methods.json').write_text(json.dumps(result, indent=2))
    plot(result, args.out / 'methods.png')
    print(table(result))
    for line in against_shipped(result):
        print('[info] ' + line)
    for v in result['verdict']:
        print(('PASS ' if v['ok'] else 'FAIL ') + v['check'])
    print(f"wrote {args.out / 'methods.json'} and {args.out / 'methods.png'}")
    return 0 if all(v['ok'] for v in result['verdict']) else 1


if __name__ == '__main__':
    raise SystemExit(main())
