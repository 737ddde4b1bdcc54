"""``selfdepth demo`` (what ``make demo`` runs): the whole product on the embedded synthetic world, in 4 stages.

  1. render a synthetic drive with moving vehicles and exact ground truth into ``OUT/drive_bag``;
  2. replay it through the live node graph (the perception node in this process, over DDS on loopback) with
     the shipped checkpoint ``selfdepth_ros/data/selfdepth_small.pt`` — or, when it is missing, an untrained
     network, flagged loudly — recording the node's outputs into ``OUT/pred_bag``;
  3. score the recording like ``selfdepth eval --pred-bag``: ``OUT/metrics.json`` and ``OUT/report/index.html``;
  4. open the report in headless Chromium (when installed) and check that every figure loads.

It ends with the report's path and the headline metrics. Each run replaces the previous demo's outputs in OUT:
only the names above, and only those a demo wrote (listed in ``OUT/.selfdepth-demo``); anything else in OUT is
never touched, and an existing ``OUT/report`` (etc.) that no demo wrote stops the demo unless ``--force``.

    selfdepth demo [--frames 60] [--out demo_out] [--width W --height H] [--checkpoint CKPT] [--force]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / 'data' / 'selfdepth_small.pt'
DEFAULT_SIZE = (416, 128)  # width, height: KITTI-like, used when the checkpoint does not name its camera
DEMO_SEED = 1000
"""World seed of the demo drive; the shipped checkpoint must be trained on other seeds (held-out scene)."""
OUTPUTS = ('drive_bag', 'pred_bag', 'report', 'metrics.json')
MANIFEST = '.selfdepth-demo'
"""In OUT: the names of :data:`OUTPUTS` a demo wrote there (only those are ever replaced)."""
STAGES = 4
BANNER = '!' * 100


@dataclass(frozen=True)
class ModelChoice:
    """Which weights the demo runs: ``checkpoint`` None means an untrained network (``reason`` says why)."""

    checkpoint: Path | None
    size: tuple[int, int]
    """(width, height) of the rendered drive: the camera the checkpoint was trained on, else 416×128."""
    reason: str


def choose_model(requested: Path | None, shipped: Path = SHIPPED_CHECKPOINT) -> ModelChoice:
    """The requested checkpoint (must exist), else the shipped one if present, else an untrained network."""
    path = requested if requested is not None else shipped
    if not path.is_file():
        if requested is not None:
            raise FileNotFoundError(f'--checkpoint: {requested} does not exist')
        return ModelChoice(None, DEFAULT_SIZE, f'the shipped checkpoint {shipped} does not exist')
    from selfdepth_ros.checkpoint import load_checkpoint
    camera = load_checkpoint(path).get('camera')
    size = (int(camera['width']), int(camera['height'])) if camera else DEFAULT_SIZE
    return ModelChoice(path, size, 'requested' if requested is not None else 'shipped')


def untrained_warning(choice: ModelChoice) -> str:
    return '\n'.join([BANNER, f'!!  WARNING: {choice.reason}.',
                      '!!  The demo runs an UNTRAINED network (random weights): the pipeline is real, the metrics '
                      'are meaningless.', '!!  Train one (README: "The shipped model") or pass --checkpoint.',
                      BANNER])


def _stage(n: int, title: str) -> float:
    print(f'\n[{n}/{STAGES}] {title}', flush=True)
    return time.monotonic()


def _done(t0: float) -> None:
    print(f'      done in {time.monotonic() - t0:.1f} s', flush=True)


class OutputsInTheWay(ValueError):
    """OUT holds one of :data:`OUTPUTS` that no demo wrote."""


def clear_outputs(out: Path, force: bool = False) -> None:
    """Create ``out`` and remove the previous demo's outputs from it: only :data:`OUTPUTS` that its manifest
    (:data:`MANIFEST`) lists. One of those names present but not listed raises :class:`OutputsInTheWay`, unless
    ``force``. Then the manifest lists every output, before any is written (an interrupted demo's are known too)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / MANIFEST
    ours = set(manifest.read_text().split()) if manifest.is_file() else set()
    foreign = [name for name in OUTPUTS if (out / name).exists() and name not in ours]
    if foreign and not force:
        raise OutputsInTheWay(f'{out} already holds {", ".join(foreign)}, which no selfdepth demo wrote; refusing to '
                              'replace them: choose another --out, or --force')
    for name in OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    manifest.write_text('\n'.join(OUTPUTS) + '\n')


def _fmt(value, spec: str = '.4f', unit: str = '') -> str:
    return 'n/a' if value is None else f'{value:{spec}}{unit}'


def headline_lines(metrics: dict) -> list[str]:
    """The numbers people compare first: abs rel (all/static/dynamic), δ<1.25, ATE, motion EPE, latency."""
    def depth(key: str, name: str) -> str | None:
        d = metrics.get(key) or {}
        return _fmt(d.get(name))
    traj = metrics.get('trajectory') or {}
    motion = metrics.get('motion_field') or {}
    latency = metrics.get('latency_ms') or {}
    src = metrics.get('source') or {}
    base = metrics.get('baselines') or {}
    const = base.get('constant_depth') or {}
    straight = base.get('straight_ahead') or {}

    def const_depth(key: str) -> str:
        return _fmt((const.get(key) or {}).get('abs_rel'))
    return [
        f"abs rel          all {depth('depth', 'abs_rel')}   static {depth('depth_static', 'abs_rel')}   "
        f"dynamic {depth('depth_dynamic', 'abs_rel')}   (per-frame median scaling)",
        f"  constant depth all {const_depth('depth')}   static {const_depth('depth_static')}   "
        f"dynamic {const_depth('depth_dynamic')}   (the best constant, same scaling)",
        f"delta < 1.25     all {depth('depth', 'a1')}   static {depth('depth_static', 'a1')}   "
        f"dynamic {depth('depth_dynamic', 'a1')}",
        f"ATE              {_fmt((traj.get('ate') or {}).get('rmse'), '.3f', ' m')} ({traj.get('alignment', 'n/a')} "
        f"aligned)   5-frame snippet ATE {_fmt((traj.get('snippet_ate') or {}).get('mean'), '.4f', ' m')}",
        f"  straight ahead {_fmt((straight.get('ate') or {}).get('rmse'), '.3f', ' m')} (constant speed)"
        f"          snippet ATE {_fmt((straight.get('snippet_ate') or {}).get('mean'), '.4f', ' m')}",
        f"motion EPE       {_fmt(motion.get('epe'), '.4f', ' m')} on moving pixels   static near-zero "
        f"{_fmt(motion.get('static_near_zero'), '.3f')}",
        f"latency          p50 {_fmt(latency.get('p50'), '.1f', ' ms')}   p90 {_fmt(latency.get('p90'), '.1f', ' ms')}"
        "   (camera stamp → ~/depth received)",
        f"frames           {src.get('predicted', metrics.get('frames'))} with a prediction of "
        f"{src.get('gt_frames', metrics.get('frames'))} played",
    ]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth demo', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--frames', type=int, default=60, help='frames in the drive (default 60)')
    p.add_argument('--out', type=Path, default=Path('demo_out'), help='output folder (default demo_out/)')
    p.add_argument('--width', type=int, default=None, help="image width (default: the checkpoint's camera, or 416)")
    p.add_argument('--height', type=int, default=None, help="image height (default: the checkpoint's, or 128)")
    p.add_argument('--checkpoint', type=Path, default=None, help=f'weights (default: {SHIPPED_CHECKPOINT})')
    p.add_argument('--seed', type=int, default=DEMO_SEED, help=f'world seed (default {DEMO_SEED})')
    p.add_argument('--no-browser-check', action='store_true', help='skip the headless-Chromium check')
    p.add_argument('--force', action='store_true',
                   help=f"replace {', '.join(OUTPUTS)} in --out even when no demo wrote them")
    return p


def run_demo(args: argparse.Namespace) -> int:
    """The four stages; returns the exit code (1 when no frame came back or the report is broken)."""
    from selfdepth_ros.eval import cli as eval_cli
    from selfdepth_ros.eval.replay import ReplayOptions, replay
    from selfdepth_ros.sim import SimConfig
    from selfdepth_ros.sim.record import record_drive

    t_all = time.monotonic()
    choice = choose_model(args.checkpoint)
    width, height = args.width or choice.size[0], args.height or choice.size[1]
    cfg = SimConfig(width=width, height=height, frames=args.frames, seed=args.seed)  # validates the sizes
    if choice.checkpoint is None:
        print(untrained_warning(choice), flush=True)
    out = args.out.resolve()
    clear_outputs(out, force=args.force)
    drive, pred, report, metrics_json = (out / name for name in OUTPUTS)

    t0 = _stage(1, f'rendering a synthetic drive: {cfg.frames} frames {width}×{height}, {cfg.moving_objects} moving '
                   f'vehicles, seed {cfg.seed} → {drive}')
    record_drive(cfg, drive, progress=True)
    _done(t0)

    model = choice.checkpoint or 'an UNTRAINED small network'
    t0 = _stage(2, f'replaying it through the perception node over DDS (lockstep) with {model} → {pred}')
    result = replay(ReplayOptions(bag=drive, out=pred, checkpoint=choice.checkpoint, mode='lockstep'))
    print(result.summary())
    _done(t0)
    if result.received == 0:
        print('selfdepth demo: the node produced no depth; see the log above', file=sys.stderr)
        return 1

    t0 = _stage(3, f'scoring the recording (selfdepth eval --pred-bag {pred.name} --bag {drive.name}) → {report}')
    eval_args = eval_cli.build_parser().parse_args(
        ['--pred-bag', str(pred), '--bag', str(drive), '--json', str(metrics_json), '--report', str(report)])
    metrics = eval_cli.run(eval_args).metrics
    html = Path(metrics['outputs']['report'])
    _done(t0)

    t0 = _stage(4, 'checking the report in headless Chromium')
    status = _browser_check(html, skip=args.no_browser_check)
    _done(t0)

    print(f'\nselfdepth demo finished in {time.monotonic() - t_all:.0f} s')
    print(f'report:  {html}')
    print(f'metrics: {metrics_json}')
    for line in headline_lines(metrics):
        print('  ' + line)
    if choice.checkpoint is None:
        print(untrained_warning(choice))
    return 0 if status in ('ok', 'skipped') else 1


def _browser_check(html: Path, skip: bool) -> str:
    """'ok', 'skipped' (asked, or no Chromium) or the failing state, with a line saying which."""
    from selfdepth_ros.eval.browser_check import check_report, find_chromium
    if skip or find_chromium() is None:
        why = '--no-browser-check' if skip else 'no chromium on PATH (scripts/install_chromium.sh installs it)'
        print(f'      skipped: {why}')
        return 'skipped'
    status = check_report(html)
    print(f"      {status['state']}: {status['images']} figures, {status['broken']} failed to load "
          f"{' '.join(status['broken_src'])}")
    return status['state']


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_demo(args)
    except (FileNotFoundError, ValueError, TimeoutError) as exc:
        print(f'selfdepth demo: error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
