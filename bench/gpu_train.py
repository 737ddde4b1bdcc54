"""Helpers of ``bench/gpu_train.sh`` (the one-GPU training run); each is a subcommand, run from the repo root:

    python3 bench/gpu_train.py check --device cuda            # torch + CUDA, the trainer's deps, no ROS needed
    python3 bench/gpu_train.py block-ros DIR                  # a PYTHONPATH folder in which `import rclpy` fails
    python3 bench/gpu_train.py train --train-seconds 300 --deadline EPOCH -- <selfdepth train arguments>
    python3 bench/gpu_train.py strip CKPT OUT.pt [--max-mib 16] # fp16 weights, no optimiser/RNG state
    python3 bench/gpu_train.py summary --work W --out OUT ...  # OUT/gpu_train.json and one summary line

``strip`` keeps the checkpoint format (``selfdepth_ros/ckpt/1``): ``load_checkpoint`` reads it with
``weights_only=True`` and ``build_models``/``load_state_dict`` copy the fp16 tensors into the fp32 nets (upcast on
load; nothing in ``selfdepth_ros/checkpoint.py`` changes). Tensors under :data:`FP32_BELOW` elements (biases,
BatchNorm statistics, the motion net's output scales) stay fp32: 0.4 % of the bytes.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python3 bench/gpu_train.py) without the package installed
    sys.path.insert(0, str(ROOT))

FP32_BELOW = 1024
"""Floating tensors with fewer elements than this stay fp32 in a stripped checkpoint."""
MIB = 2 ** 20

# What `selfdepth simulate / import / train / eval` import outside the standard library and torch (measured by
# running them with every ROS module blocked, SMOKE=1; the AST scan in test/bench/test_gpu_train_script.py keeps
# it complete), with the pip name of each (all in requirements-core.txt).
DEPS = {'numpy': 'numpy', 'scipy': 'scipy', 'cv2': 'opencv-python-headless', 'yaml': 'PyYAML', 'tqdm': 'tqdm',
        'rosbags': 'rosbags', 'mcap': 'mcap', 'lz4': 'lz4', 'zstandard': 'zstandard', 'kornia': 'kornia',
        'matplotlib': 'matplotlib', 'evo': 'evo'}
ROS_MODULES = ('rclpy', 'rcl_interfaces', 'rosidl_runtime_py', 'rosidl_parser', 'rosbag2_py', 'sensor_msgs',
               'std_msgs', 'nav_msgs', 'geometry_msgs', 'tf2_msgs', 'tf2_ros', 'diagnostic_msgs', 'builtin_interfaces',
               'ament_index_python')
CLI_MODULES = ('selfdepth_ros.cli', 'selfdepth_ros.sim.cli', 'selfdepth_ros.importers.cli', 'selfdepth_ros_training.cli',
               'selfdepth_ros.eval.cli')


# ---------------------------------------------------------------------------------------------------- check
def missing_deps() -> list[str]:
    """``'module (pip name): error'`` for each of :data:`DEPS` that does not import."""
    out = []
    for module, pip_name in DEPS.items():
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - a broken install raises more than ImportError
            out.append(f'{module} (pip {pip_name}): {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ""}')
    return out


def ros_modules_loaded() -> list[str]:
    return sorted(m for m in sys.modules if m.split('.')[0] in ROS_MODULES)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError as exc:
        print(f'[check] torch does not import ({exc}): the GPU host must provide a CUDA build of torch')
        return 3
    cuda = torch.cuda.is_available()
    name = torch.cuda.get_device_name(0) if cuda else '-'
    print(f'[check] python {sys.version.split()[0]}, torch {torch.__version__}, cuda available: {cuda} ({name})')
    problems = []
    if args.device == 'cuda' and not cuda:
        problems.append('torch.cuda.is_available() is False (DEVICE=cuda): a CUDA build of torch and a visible GPU '
                        'are needed')
    missing = missing_deps()
    problems += [f'missing Python dependency {m}' for m in missing]
    if not missing:
        for module in CLI_MODULES:
            try:
                importlib.import_module(module)
            except Exception as exc:  # noqa: BLE001
                problems.append(f'{module} does not import: {type(exc).__name__}: {exc}')
        if loaded := ros_modules_loaded():
            problems.append(f'importing the CLIs loaded ROS modules {loaded} (the GPU host has no ROS)')
    for p in problems:
        print(f'[check] {p}')
    if missing:
        print('[check] carry a wheel folder and rerun with WHEELS=<folder> (pip install --no-index --find-links)')
    return 3 if problems else 0


def cmd_block_ros(args: argparse.Namespace) -> int:
    """Write packages named like ROS's Python modules that raise ImportError, to prepend to PYTHONPATH: proves
    the pipeline runs on a host without ROS even where the venv has the ROS wheels."""
    folder = Path(args.dir)
    for name in ROS_MODULES:
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / '__init__.py').write_text(
            f"raise ImportError('{name} is blocked by bench/gpu_train.sh (BLOCK_ROS=1): the GPU host has no ROS')\n")
    print(f'[block-ros] {len(ROS_MODULES)} ROS modules blocked under {folder}')
    return 0


# ---------------------------------------------------------------------------------------------------- train
def budget_hook(stop_at: float, on_step=None, info: dict | None = None, clock=time.time):
    """A ``Trainer.fit`` ``on_step`` callback that ends the run once ``clock() >= stop_at``: it sets the trainer's
    ``max_steps`` to the step just taken, so the loop exits as at ``max_steps`` and writes its final checkpoint.
    ``on_step`` (if any) runs first; ``info['stopped_by_time_at']`` records the step."""
    def hook(trainer) -> None:
        if on_step is not None:
            on_step(trainer)
        if clock() >= stop_at and trainer.step < trainer.max_steps:
            if info is not None:
                info['stopped_by_time_at'] = trainer.step
            print(f'[gpu_train] time budget reached: stopping at step {trainer.step} of {trainer.max_steps}',
                  flush=True)
            trainer.max_steps = trainer.step
    return hook


def cmd_train(args: argparse.Namespace) -> int:
    """``selfdepth train`` with cuDNN autotuning on and a wall-clock budget: the loop stops after the step that
    passes ``--train-seconds`` (counted from the start of the loop) or the absolute ``--deadline``, whichever comes
    first, and the trainer then writes its final checkpoint as at ``max_steps``."""
    import torch
    from selfdepth_ros_training import trainer as trainer_mod
    from selfdepth_ros_training.cli import main as train_main
    torch.backends.cudnn.benchmark = True  # fixed input size: let cuDNN pick the fastest kernels
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    fit = trainer_mod.Trainer.fit
    info: dict = {}

    def timed_fit(self, on_step=None):
        start, first = time.time(), self.step
        stop_at = min(start + args.train_seconds if args.train_seconds else math.inf, args.deadline or math.inf)
        try:
            return fit(self, budget_hook(stop_at, on_step, info))
        finally:
            info.update(fit_seconds=time.time() - start, steps=self.step - first, final_step=self.step,
                        batch_size=self.cfg.data.batch_size, num_samples=len(self.dataset))
    trainer_mod.Trainer.fit = timed_fit
    try:
        rc = train_main(args.train_args)
    finally:
        trainer_mod.Trainer.fit = fit
        if args.info:
            Path(args.info).write_text(json.dumps(info, indent=2))
    return rc


# ---------------------------------------------------------------------------------------------------- strip
def strip_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Write ``dst``: ``src``'s nets with floating tensors of >= :data:`FP32_BELOW` elements in fp16, no
    optimiser or RNG state; model config, camera, step and train config kept (``selfdepth_ros/ckpt/1``)."""
    import torch
    from selfdepth_ros.checkpoint import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(src)

    def half(state: dict) -> dict:
        out = {}
        for k, v in state.items():
            small = v.numel() < FP32_BELOW or not v.is_floating_point()
            out[k] = v if small else v.to(torch.float16)
            if not small and not torch.isfinite(out[k]).all():  # outside fp16's range: keep it exact
                out[k] = v
        return out
    train_config = dict(ckpt.get('train_config') or {})
    train_config['stripped_from'] = {'file': Path(src).name, 'weights': f'float16 (tensors >= {FP32_BELOW} '
                                                                        'elements), upcast on load'}
    return save_checkpoint(dst, model_config=ckpt['model_config'], depth_net=half(ckpt['depth_net']),
                           motion_net=half(ckpt['motion_net']), camera=ckpt.get('camera'), step=ckpt['step'],
                           optimizer=None, train_config=train_config, rng=None)


def cmd_strip(args: argparse.Namespace) -> int:
    from selfdepth_ros.checkpoint import build_models, load_checkpoint
    dst = strip_checkpoint(args.src, args.dst)
    build_models(load_checkpoint(dst))  # it loads into the architecture it names
    size = dst.stat().st_size
    print(f'[strip] {args.src} ({Path(args.src).stat().st_size / MIB:.1f} MiB) -> {dst} ({size / MIB:.2f} MiB, '
          'fp16 weights, no optimiser)')
    if size > args.max_mib * MIB:
        print(f'[strip] {dst} is {size / MIB:.2f} MiB, over the {args.max_mib:g} MiB per file that comes back')
        return 1
    return 0


# -------------------------------------------------------------------------------------------------- summary
def _get(d: dict | None, *keys: str) -> float | None:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return float(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else None


def eval_figures(path: Path) -> dict:
    """The headline figures of one ``selfdepth eval --json`` file (missing sections give None)."""
    if not path.is_file():
        return {'missing': str(path)}
    d = json.loads(path.read_text())
    return {'abs_rel': _get(d, 'depth', 'abs_rel'), 'a1': _get(d, 'depth', 'a1'),
            'constant_abs_rel': _get(d, 'baselines', 'constant_depth', 'depth', 'abs_rel'),
            'snippet_ate': _get(d, 'trajectory', 'snippet_ate', 'mean'),
            'straight_snippet_ate': _get(d, 'baselines', 'straight_ahead', 'snippet_ate', 'mean'),
            'ate': _get(d, 'trajectory', 'ate', 'rmse'), 'frames': d.get('frames')}


def read_curve(metrics_csv: Path, every: int = 1) -> list[dict]:
    if not metrics_csv.is_file():
        return []
    with metrics_csv.open(newline='') as fh:
        rows = list(csv.DictReader(fh))
    keep = ('step', 'loss/total', 'samples_per_s')
    return [{k: float(r[k]) for k in keep if r.get(k) not in (None, '')} for r in rows[::every]]


def cmd_summary(args: argparse.Namespace) -> int:
    work, out = Path(args.work), Path(args.out)
    phases = {}
    if (work / 'phases.tsv').is_file():
        for line in (work / 'phases.tsv').read_text().splitlines():
            name, seconds = line.split('\t')
            phases[name] = round(float(seconds), 2)
    train = json.loads((work / 'train_info.json').read_text()) if (work / 'train_info.json').is_file() else {}
    curve = read_curve(work / 'run' / 'metrics.csv')
    rates = [r['samples_per_s'] for r in curve if 'samples_per_s' in r]
    steps = int(train.get('steps', 0))
    evals = {name: eval_figures(out / f'eval_{name}.json')
             for name in ('kitti_depth', 'kitti_depth_garg', 'kitti_odometry', 'sim_heldout')}
    shipped = {name: eval_figures(work / f'shipped_{name}.json') for name in ('kitti_depth', 'kitti_odometry')}
    ckpt = out / args.checkpoint_name
    depth, odo = evals['kitti_depth'], evals['kitti_odometry']
    s_depth, s_odo = shipped['kitti_depth'], shipped['kitti_odometry']

    def below(a, *bs):
        return None if a is None or any(b is None for b in bs) else bool(all(a < b for b in bs))
    verdict = {
        'depth_beats_constant_and_shipped': below(depth.get('abs_rel'), depth.get('constant_abs_rel'),
                                                  s_depth.get('abs_rel')),
        'depth_below_0.30': below(depth.get('abs_rel'), 0.30),
        'snippet_ate_below_0.7x_straight_and_shipped': below(
            odo.get('snippet_ate'), 0.7 * odo['straight_snippet_ate'] if odo.get('straight_snippet_ate') else None,
            s_odo.get('snippet_ate')),
        'note': 'kitti_depth_snippet is held out (never trained on); the odometry snippet is in the training set',
    }
    summary = {
        'benchmark': 'gpu_train', 'smoke': bool(args.smoke), 'device': args.device, 'gpu': args.gpu,
        'recipe': args.recipe, 'config': json.loads(args.config) if args.config else {},
        'steps': steps, 'final_step': train.get('final_step'), 'stopped_by_time_at': train.get('stopped_by_time_at'),
        'batch_size': train.get('batch_size'), 'num_samples': train.get('num_samples'),
        'samples_per_s': (steps * train['batch_size'] / train['fit_seconds']) if steps and train.get('fit_seconds')
        else None,
        'samples_per_s_logged_median': sorted(rates)[len(rates) // 2] if rates else None,
        'wall_seconds': phases,
        'train_setup_seconds': round(phases['train'] - train['fit_seconds'], 2) if 'train' in phases and
        train.get('fit_seconds') else None,  # process start, bag indexing and pair selection (one core)
        'eval': evals, 'shipped_eval': shipped, 'verdict': verdict,
        'checkpoint': {'file': ckpt.name, 'bytes': ckpt.stat().st_size if ckpt.is_file() else None,
                       'mib': round(ckpt.stat().st_size / MIB, 3) if ckpt.is_file() else None},
        'loss_curve': curve[::max(len(curve) // 200, 1)],
    }
    (out / 'gpu_train.json').write_text(json.dumps(summary, indent=2))

    def f(v, fmt='.3f'):
        return '-' if v is None else format(v, fmt)
    print(f"[gpu_train] {'SMOKE ' if args.smoke else ''}steps {steps} ({f(summary['samples_per_s'], '.1f')} samples/s), "
          f"total {f(phases.get('total'), '.0f')} s | kitti_depth abs rel {f(depth.get('abs_rel'))} "
          f"(garg {f(evals['kitti_depth_garg'].get('abs_rel'))}; constant {f(depth.get('constant_abs_rel'))}, "
          f"shipped {f(s_depth.get('abs_rel'))}) | odometry snippet ATE {f(odo.get('snippet_ate'), '.4f')} m "
          f"(straight {f(odo.get('straight_snippet_ate'), '.4f')}, shipped {f(s_odo.get('snippet_ate'), '.4f')}) | "
          f"sim held-out abs rel {f(evals['sim_heldout'].get('abs_rel'))} | checkpoint "
          f"{f(summary['checkpoint']['mib'], '.2f')} MiB -> {out / 'gpu_train.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog='bench/gpu_train.py', description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check')
    c.add_argument('--device', choices=('cpu', 'cuda'), default='cuda')
    b = sub.add_parser('block-ros')
    b.add_argument('dir')
    t = sub.add_parser('train')
    t.add_argument('--train-seconds', type=float, default=0.0, help='budget of the training loop (0 = none)')
    t.add_argument('--deadline', type=float, default=0.0, help='absolute time.time() to stop by (0 = none)')
    t.add_argument('--info', help='write steps, loop seconds and where it stopped to this JSON')
    t.add_argument('train_args', nargs=argparse.REMAINDER, help='-- then the selfdepth train arguments')
    s = sub.add_parser('strip')
    s.add_argument('src')
    s.add_argument('dst')
    s.add_argument('--max-mib', type=float, default=16.0)
    m = sub.add_parser('summary')
    m.add_argument('--work', required=True)
    m.add_argument('--out', required=True)
    m.add_argument('--checkpoint-name', default='selfdepth_gpu_fp16.pt')
    m.add_argument('--recipe', default='')
    m.add_argument('--device', default='')
    m.add_argument('--gpu', default='')
    m.add_argument('--config', default='', help='JSON of the run settings (drives, frames, steps, ...)')
    m.add_argument('--smoke', action='store_true')
    args = p.parse_args(argv)
    if args.cmd == 'train' and args.train_args[:1] == ['--']:
        args.train_args = args.train_args[1:]
    return {'check': cmd_check, 'block-ros': cmd_block_ros, 'train': cmd_train, 'strip': cmd_strip,
            'summary': cmd_summary}[args.cmd](args)


if __name__ == '__main__':
    raise SystemExit(main())
