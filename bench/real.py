"""The real-data benchmark: import real footage, fine-tune the shipped model on it, score it beside the baselines.

    .venv/bin/python -m bench.real                       # 3 recipe seeds, ~12 min on one CPU core
    .venv/bin/python -m bench.real --seeds 0 --steps 50  # quick look

Everything goes through the product's own commands (``selfdepth import / simulate / train / eval``):

1. import ``../shared/data/real/``: ``kitti_depth_snippet`` (11 independent frames with LiDAR, **evaluation only**),
   the KITTI odometry snippet (51 frames, poses) and the dash-cam video (no intrinsics);
2. per recipe seed, fine-tune the shipped model with ``config/train/real_finetune_small.yaml``:
   - ``real_in_loop`` (default): on the KITTI odometry snippet (the drive it is then scored on, as a robot would;
     listed three times, so sampled 3x as often) beside the dash-cam video (intrinsics learned) and a synthetic
     drive, which keep the depth from forgetting other streets;
   - ``snippet`` (``--variants snippet``): on the odometry snippet alone;
3. score every model: single-frame depth on ``kitti_depth_snippet`` (abs rel, no crop and the Garg crop, beside the
   best constant depth), and the ego-motion on the odometry snippet (5-frame snippet ATE under the scale-only
   SfMLearner/monodepth2 protocol and under Sim(3), whole-drive ATE and RPE, beside straight-ahead constant speed);
4. report the intrinsics the ``real_in_loop`` runs learned for the dash-cam and check them against its geometry.

Writes bench/results/real.json and real.png; prints the table with medians over seeds. Exits 1 when a fine-tune
made the depth on ``kitti_depth_snippet`` worse than the shipped model's (the guard the issue asks for).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = next((p for p in (ROOT.parent / 'shared' / 'data' / 'real', Path('/work/shared/data/real')) if p.is_dir()), None)
SHIPPED = ROOT / 'selfdepth_ros' / 'data' / 'selfdepth_small.pt'
RECIPE = ROOT / 'config' / 'train' / 'real_finetune_small.yaml'
# The drive is listed three times (sampled 3x as often) beside the other footage; 'snippet' (the drive alone) is
# not in the default run: its depth on other streets gets worse (config/train/real_finetune_small.yaml).
VARIANTS = {'real_in_loop': ('odo', 'odo', 'odo', 'dash', 'sim1'), 'snippet': ('odo',)}
DEFAULT_VARIANTS = ['real_in_loop']


def run(*argv: str) -> None:
    from selfdepth_ros.cli import main as selfdepth
    rc = selfdepth([str(a) for a in argv])
    if rc:
        raise SystemExit(f'bench.real: `selfdepth {" ".join(map(str, argv))}` exited {rc}')


def make_bags(work: Path) -> dict[str, Path]:
    bags = {'depth': work / 'kitti_depth', 'odo': work / 'kitti_odometry', 'dash': work / 'dashcam',
            'sim1': work / 'sim1', 'sim2': work / 'sim2'}
    sources = {'depth': REAL / 'kitti_depth_snippet', 'odo': REAL / 'kitti_odometry_snippet',
               'dash': REAL / 'video' / 'solidWhiteRight.mp4'}
    for name, src in sources.items():
        if not bags[name].exists():
            run('import', src, '--out', bags[name])
    for i, name in ((1, 'sim1'), (2, 'sim2')):
        if not bags[name].exists():
            run('simulate', '--out', bags[name], '--frames', 100, '--seed', i, '--quiet')
    return bags


def score(ckpt: Path, bags: dict[str, Path], work: Path) -> dict:
    """Depth on kitti_depth_snippet (no crop, Garg crop) and trajectory on the odometry snippet, with baselines."""
    out: dict = {}
    for crop in ('none', 'garg'):
        js = work / f'{ckpt.parent.parent.name}_{ckpt.stem}_depth_{crop}.json'
        run('eval', '--checkpoint', ckpt, '--bag', bags['depth'], '--crop', crop, '--json', js, '--force',
            '--device', 'cpu')
        d = json.loads(js.read_text())
        out[f'abs_rel_{crop}'] = d['depth']['abs_rel']
        out[f'constant_abs_rel_{crop}'] = d['baselines']['constant_depth']['depth']['abs_rel']
        out[f'a1_{crop}'] = d['depth']['a1']
    for protocol in ('sfmlearner', 'sim3'):
        js = work / f'{ckpt.parent.parent.name}_{ckpt.stem}_traj_{protocol}.json'
        run('eval', '--checkpoint', ckpt, '--bag', bags['odo'], '--snippet-protocol', protocol, '--json', js,
            '--force', '--device', 'cpu')
        t = json.loads(js.read_text())
        base = t['baselines']['straight_ahead']
        out[f'snippet_ate_{protocol}'] = t['trajectory']['snippet_ate']['mean']
        out[f'straight_snippet_ate_{protocol}'] = base['snippet_ate']['mean']
        if protocol == 'sim3':
            out.update(ate=t['trajectory']['ate']['rmse'], rpe=t['trajectory']['rpe']['trans_rmse'],
                       straight_ate=base['ate']['rmse'], straight_rpe=base['rpe']['trans_rmse'])
    return out


def learned_camera(ckpt: Path) -> dict | None:
    """The dash-cam intrinsics a run learned, at the video's 960×540, with a plausibility verdict (the checkpoint's
    ``camera`` is the KITTI CameraInfo's in a mixed run; the learned one is ``train_config.learned_camera``)."""
    from selfdepth_ros.checkpoint import load_checkpoint
    cam = (load_checkpoint(ckpt).get('train_config') or {}).get('learned_camera')
    if not cam:
        return None
    K = np.asarray(cam['K'], float)
    sx, sy = 960 / cam['width'], 540 / cam['height']
    fx, fy = K[0, 0] * sx, K[1, 1] * sy
    cx, cy = (K[0, 2] + 0.5) * sx - 0.5, (K[1, 2] + 0.5) * sy - 0.5
    hfov = math.degrees(2 * math.atan(960 / (2 * fx)))
    ok = abs(cx - 479.5) < 0.1 * 960 and abs(cy - 269.5) < 0.1 * 540 and 40 <= hfov <= 120 and 0.8 < fy / fx < 1.25
    return {'fx': fx, 'fy': fy, 'cx': cx, 'cy': cy, 'hfov_deg': hfov, 'plausible': bool(ok),
            'check': 'principal point within 10 % of the image centre, horizontal FOV 40-120 deg (dash-cams), '
                     'square pixels within 25 %'}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='python -m bench.real', description=__doc__.split('\n\n')[0])
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--steps', type=int, default=None, help='fine-tuning steps (default: the recipe, 150)')
    p.add_argument('--variants', nargs='+', choices=sorted(VARIANTS), default=DEFAULT_VARIANTS)
    p.add_argument('--init', type=Path, default=SHIPPED, help='the model to fine-tune (default: the shipped one)')
    p.add_argument('--work', type=Path, help='folder for bags and runs (default: a new temporary folder)')
    p.add_argument('--out', type=Path, default=ROOT / 'bench' / 'results')
    args = p.parse_args(argv)
    if REAL is None:
        print('bench.real: ../shared/data/real not found beside the checkout')
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix='selfdepth_real_'))
    work.mkdir(parents=True, exist_ok=True)
    bags = make_bags(work)
    results: dict = {'shipped': score(args.init, bags, work), 'runs': {}}
    cameras = []
    for variant in args.variants:
        for seed in args.seeds:
            out = work / f'{variant}_s{seed}'
            steps = ['--max-steps', args.steps] if args.steps else []
            run('train', '--config', RECIPE, '--init', args.init, '--bags', *[bags[b] for b in VARIANTS[variant]],
                '--out', out, '--seed', seed, '--no-progress', '--force', *steps)
            ckpt = sorted((out / 'checkpoints').glob('step_*.pt'))[-1]
            results['runs'][f'{variant}/{seed}'] = r = score(ckpt, bags, work)
            if variant == 'real_in_loop':
                r['dashcam_camera'] = cam = learned_camera(ckpt)
                cameras.append(cam)
            print(f'[bench.real] {variant} seed {seed}: ' + json.dumps({k: round(v, 4) for k, v in r.items()
                                                                      if isinstance(v, float)}), flush=True)
    results['median'] = {v: {k: float(np.median([r[k] for key, r in results['runs'].items()
                                                  if key.startswith(v + '/')]))
                             for k in results['shipped']} for v in args.variants}
    results['config'] = {'seeds': args.seeds, 'steps': args.steps, 'recipe': str(RECIPE.relative_to(ROOT)),
                         'init': str(args.init)}
    worse = [k for k, r in results['runs'].items() if r['abs_rel_none'] > results['shipped']['abs_rel_none']]
    start, ate_key = results['shipped'], 'snippet_ate_sfmlearner'
    results['verdict'] = {'depth_worse_than_shipped': worse, 'snippet_ate_median_vs_straight': {
        v: m[ate_key] / start['straight_' + ate_key] for v, m in results['median'].items()},
        'snippet_ate_median_below_start': {v: m[ate_key] < start[ate_key] for v, m in results['median'].items()}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / 'real.json').write_text(json.dumps(results, indent=2))
    print(table(results))
    for v, ratio in results['verdict']['snippet_ate_median_vs_straight'].items():
        print(f'{v}: median snippet ATE (scale-only) = {ratio:.2f}x straight-ahead, '
              f"{'below' if results['verdict']['snippet_ate_median_below_start'][v] else 'NOT below'} the start model's")
    plot(results, args.out / 'real.png')
    if worse:
        print(f'FAIL: fine-tunes made kitti_depth_snippet depth worse than the shipped model: {worse}')
        return 1
    return 0


def table(results: dict) -> str:
    rows = [('shipped', results['shipped'])] + [(f'{v} (median)', m) for v, m in results['median'].items()]
    s = results['shipped']
    head = ('| model | depth abs rel (no crop / Garg) | snippet ATE scale-only, m | snippet ATE Sim(3), m | ATE, m | '
            'RPE, m |\n|---|---|---|---|---|---|')
    lines = [head, f"| best constant depth | {s['constant_abs_rel_none']:.3f} / {s['constant_abs_rel_garg']:.3f} | | | | |",
             f"| straight ahead, constant speed | | {s['straight_snippet_ate_sfmlearner']:.4f} | "
             f"{s['straight_snippet_ate_sim3']:.4f} | {s['straight_ate']:.2f} | {s['straight_rpe']:.3f} |"]
    for name, r in rows:
        lines.append(f"| {name} | {r['abs_rel_none']:.3f} / {r['abs_rel_garg']:.3f} | {r['snippet_ate_sfmlearner']:.4f} | "
                     f"{r['snippet_ate_sim3']:.4f} | {r['ate']:.2f} | {r['rpe']:.3f} |")
    return '\n'.join(lines)


def plot(results: dict, path: Path) -> None:
    os.environ.setdefault('MPLBACKEND', 'Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    names = ['constant' if i == 0 else n for i, n in enumerate(['constant', 'shipped', *results['median']])]
    s = results['shipped']
    depth = [s['constant_abs_rel_none'], s['abs_rel_none']] + [m['abs_rel_none'] for m in results['median'].values()]
    axes[0].bar(names, depth, color=['grey', 'tab:blue'] + ['tab:green'] * len(results['median']))
    for key, r in results['runs'].items():
        axes[0].plot(names.index(key.split('/')[0]), r['abs_rel_none'], 'k.')
    axes[0].set_title('kitti_depth_snippet abs rel (median scaled)')
    names[0] = 'straight ahead'
    ate = [s['straight_snippet_ate_sfmlearner'], s['snippet_ate_sfmlearner']] + \
        [m['snippet_ate_sfmlearner'] for m in results['median'].values()]
    axes[1].bar(names, ate, color=['grey', 'tab:blue'] + ['tab:green'] * len(results['median']))
    for key, r in results['runs'].items():
        axes[1].plot(names.index(key.split('/')[0]), r['snippet_ate_sfmlearner'], 'k.')
    axes[1].set_title('KITTI odometry snippet: 5-frame ATE (scale-only), m')
    for ax in axes:
        ax.tick_params(axis='x', labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == '__main__':
    raise SystemExit(main())
