"""``selfdepth eval``: score a checkpoint (or a bag of the node's recorded outputs) against a ground-truth bag.

    selfdepth eval --checkpoint CKPT --bag GT_BAG [--json OUT.json] [--report DIR] [--max-frames N]
    selfdepth eval --pred-bag OUT_BAG --bag GT_BAG ...
    selfdepth eval ... --crop garg --min-depth 1e-3 --max-depth 80      (the KITTI Eigen-split protocol)

Prints the headline metrics, each with the score of a trivial baseline on the same pixels / frames (constant
depth; straight-ahead constant-speed ego-motion); ``--json`` writes every metric (keys: depth, depth_static,
depth_dynamic, trajectory, motion_field, latency_ms, baselines, absent (why a section is missing), plus frames,
scored (depth frames, trajectory poses, motion pairs), skipped ({reason: count}: corrupt frames, non-monotonic
stamps, implausible ground truth; see selfdepth_ros.eval.plausibility), config (with config.protocol) and
source); ``--report`` writes an HTML page. The first line says what was scored and what was skipped.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from selfdepth_ros.backend_names import CHOICES as BACKENDS
from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.index import GroundTruthTopics
from selfdepth_ros.eval.evaluate import EvalConfig, EvalResult, evaluate
from selfdepth_ros.eval.metrics import CROPS
from selfdepth_ros.eval.plausibility import SkipLog
from selfdepth_ros.eval.sources import (PredictionTopics, SourceStats, open_gt_index, predictor_records,
                                        recorded_records)


def _optional_topic(value: str) -> str | None:
    return None if value.lower() in ('', 'none') else value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth eval', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument('--checkpoint', type=Path, help='checkpoint to run offline over --bag, or a file of '
                      'selfdepth export (either graph of an ONNX/TorchScript export, sidecars beside it)')
    what.add_argument('--pred-bag', type=Path, help="bag of the node's recorded outputs (e.g. from selfdepth replay)")
    p.add_argument('--bag', type=Path, required=True, help='ground-truth bag (e.g. from selfdepth simulate)')
    p.add_argument('--image-topic', default='/camera/image_raw')
    p.add_argument('--camera-info-topic', default='/camera/camera_info', type=_optional_topic)
    p.add_argument('--gt-depth-topic', default='/gt/depth', type=_optional_topic)
    p.add_argument('--gt-odom-topic', default='/gt/odom', type=_optional_topic)
    p.add_argument('--gt-motion-topic', default='/gt/motion', type=_optional_topic)
    p.add_argument('--gt-mask-topic', default='/gt/moving_mask', type=_optional_topic,
                   help='moving-object mask (enables the static/dynamic split); "none" to disable')
    p.add_argument('--pred-depth-topic', default='/selfdepth/depth')
    p.add_argument('--pred-odom-topic', default='/selfdepth/odom', type=_optional_topic)
    p.add_argument('--pred-motion-topic', default='/selfdepth/motion', type=_optional_topic)
    p.add_argument('--device', default='auto', help="Predictor device: auto, cpu or cuda")
    p.add_argument('--backend', default='torch', choices=BACKENDS,
                   help='where the nets run (README "Backends"): torch (eager, the default: scores reproduce '
                        'older runs bit for bit), auto (fastest that passes parity), torchscript, onnxruntime, '
                        'compile, fp16/tensorrt (CUDA); an exported file runs in its own runtime')
    p.add_argument('--max-frames', type=int, default=None, help='score only the first N frames')
    p.add_argument('--json', type=Path, help='write all metrics to this JSON file')
    p.add_argument('--report', type=Path, help='write an HTML report with figures into this folder')
    p.add_argument('--metric', action='store_true',
                   help='the model predicts metric depth: no per-frame median scaling, SE(3) trajectory alignment')
    p.add_argument('--min-depth', type=float, default=1e-3, help='depth cap, metres (default 1e-3)')
    p.add_argument('--max-depth', type=float, default=80.0, help='depth cap, metres (default 80)')
    p.add_argument('--crop', choices=tuple(CROPS), default='none',
                   help="score only pixels inside a KITTI crop: 'garg' (monodepth2's Eigen-split evaluation) or "
                        "'eigen' (Eigen et al. 2014); default none")
    p.add_argument('--static-threshold', type=float, default=0.05,
                   help='|T_obj| below this (m/frame) counts as near zero on static pixels')
    p.add_argument('--snippet-length', type=int, default=5)
    p.add_argument('--snippet-protocol', choices=('sim3', 'sfmlearner'), default='sim3')
    p.add_argument('--report-frames', type=int, default=2, help='frames pictured in the report')
    p.add_argument('--force', action='store_true',
                   help='overwrite --json / write into --report even when they hold files no earlier selfdepth eval '
                        'wrote (without it such outputs are refused; a report folder lists its files in '
                        '.selfdepth-report)')
    return p


REPORT_MANIFEST = '.selfdepth-report'
"""In a report folder: the names of the files the report wrote, one per line (lets a later report reuse it)."""


class OverwriteRefused(ValueError):
    """An output path holds something this command did not write (and ``--force`` was not given)."""


def _is_eval_json(path: Path) -> bool:
    """An earlier ``selfdepth eval --json`` output (a JSON object with its ``source`` record)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get('source'), dict) and \
        data['source'].get('mode') in ('checkpoint', 'recorded')


def _report_files(folder: Path) -> set[str]:
    """Files a report in ``folder`` wrote, from its manifest (empty without one)."""
    manifest = folder / REPORT_MANIFEST
    return set(manifest.read_text().split('\n')) - {''} if manifest.is_file() else set()


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse (``OverwriteRefused``) to overwrite ``--json`` or write into ``--report`` when they hold anything
    an earlier ``selfdepth eval`` did not write, unless ``args.force``."""
    if getattr(args, 'force', False):
        return
    if args.json is not None and args.json.exists():
        if args.json.is_dir() or not _is_eval_json(args.json):
            raise OverwriteRefused(f'--json {args.json} exists and is not an earlier selfdepth eval output; '
                                   'refusing to overwrite it (choose another path, or --force)')
    if args.report is not None and args.report.exists():
        if not args.report.is_dir():
            raise OverwriteRefused(f'--report {args.report} exists and is not a folder; choose another path')
        ours = _report_files(args.report) | {REPORT_MANIFEST}
        foreign = sorted(p.name for p in args.report.iterdir() if p.name not in ours)
        if foreign:
            shown = ', '.join(foreign[:5]) + (f' (+{len(foreign) - 5} more)' if len(foreign) > 5 else '')
            raise OverwriteRefused(f'--report {args.report} holds files an earlier report did not write ({shown}); '
                                   'refusing to write into it (choose an empty or new folder, or --force)')


_DEPTH_FMT = ('abs_rel', '.4f'), ('sq_rel', '.4f'), ('rmse', '.3f'), ('rmse_log', '.4f'), ('a1', '.4f'), \
    ('a2', '.4f'), ('a3', '.4f')
_LABEL = 18


def _depth_line(label: str, m: dict) -> str:
    return f"{label:<{_LABEL}}" + '  '.join(f'{k} {m[k]:{spec}}' for k, spec in _DEPTH_FMT)


def _trajectory_line(label: str, traj: dict, alignment: bool) -> str:
    line = f"{label:<{_LABEL}}ATE {traj['ate']['rmse']:.4f} m"
    line += f" ({traj['alignment']})" if alignment else ' ' * (len(traj['alignment']) + 3)
    line += f"  RPE {traj['rpe']['trans_rmse']:.4f} m  {traj['rpe']['rot_rmse_deg']:.3f} deg"
    if 'snippet_ate' in traj:
        sn = traj['snippet_ate']
        line += f"  snippet ATE {sn['mean']:.4f} m"
        if alignment:
            line += f" ({sn['length']} frames, {sn['protocol']})"
    return line


def what_was_scored(metrics: dict) -> str:
    """One line: how many frames/poses each section scored, and what was skipped with why (JSON ``skipped``),
    e.g. ``depth: 10 of 12 frames, trajectory: 12 poses; skipped: 2 non-monotonic stamps``."""
    scored = metrics.get('scored') or {}
    line = (f"depth: {scored.get('depth_frames', 0)} of {metrics.get('frames', 0)} frames, "
            f"trajectory: {scored.get('trajectory_poses', 0)} poses")
    if scored.get('motion_pairs'):
        line += f", motion: {scored['motion_pairs']} pairs"
    if scored.get('trajectory_note'):
        line += f" ({scored['trajectory_note']})"
    skipped = metrics.get('skipped') or {}
    line += '; skipped: ' + (', '.join(f'{n} {why}' for why, n in skipped.items()) if skipped else 'nothing')
    return line


def headline(metrics: dict) -> str:
    """A few lines with the numbers people compare first, each followed by its trivial baseline's line."""
    proto = (metrics.get('config') or {}).get('protocol') or {}
    lines = [what_was_scored(metrics), f"frames scored: {metrics.get('frames', 0)}"]
    if proto:
        scaling = 'per-frame median scaling' if proto['scaling'] == 'median' else 'metric, no scaling'
        lines[1] += (f"   (depth: {scaling}, crop {proto['crop']}, caps {proto['min_depth']:g}-{proto['max_depth']:g} m;"
                     f" baselines on the same pixels and frames)")
    baselines = metrics.get('baselines') or {}
    constant = baselines.get('constant_depth') or {}
    for key in ('depth', 'depth_static', 'depth_dynamic'):
        m = metrics.get(key)
        if m:
            lines.append(_depth_line(key, m))
            if constant.get(key):
                lines.append(_depth_line('  constant depth', constant[key]))
    traj = metrics.get('trajectory')
    if traj:
        lines.append(_trajectory_line('trajectory', traj, True))
        if baselines.get('straight_ahead'):
            lines.append(_trajectory_line('  straight-ahead', baselines['straight_ahead'], False))
    mf = metrics.get('motion_field')
    if mf:
        epe = 'n/a' if mf['epe'] is None else f"{mf['epe']:.4f} m"
        nz = 'n/a' if mf['static_near_zero'] is None else f"{mf['static_near_zero']:.3f}"
        lines.append(f"{'motion_field':<{_LABEL}}EPE {epe}  static near-zero {nz}")
    lat = metrics.get('latency_ms')
    if lat:
        lines.append(f"{'latency_ms':<{_LABEL}}mean {lat['mean']:.1f}  p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}")
    for key, reason in (metrics.get('absent') or {}).items():
        if key in ('depth', 'trajectory', 'motion_field'):
            lines.append(f"{key:<{_LABEL}}absent: {reason}")
    return '\n'.join(lines)


_SECTION_TOPICS = {'depth': ('depth',), 'depth_static': ('depth', 'moving_mask'),
                   'depth_dynamic': ('depth', 'moving_mask'), 'trajectory': ('odom',), 'motion_field': ('motion',)}
_FLAGS = {'moving_mask': 'mask'}


def _name_missing_topics(metrics: dict, gt_topics: GroundTruthTopics, available: tuple[str, ...]) -> None:
    """Replace the evaluator's reason of an absent section by the ground-truth topic the bag lacks, if any."""
    absent = metrics.get('absent') or {}
    for key in list(absent):
        for name in _SECTION_TOPICS.get(key, ()):
            topic = getattr(gt_topics, name)
            if topic is None:
                absent[key] = f'ground-truth {name} disabled (--gt-{_FLAGS.get(name, name)}-topic none)'
                break
            if name not in available:
                absent[key] = f'no {topic} in the bag'
                break


def skipped_reasons(index, skips: SkipLog) -> dict[str, int]:
    """``reason → count`` of everything left out: frames dropped at indexing (corrupt images, non-monotonic or
    duplicated stamps), corrupt messages of the other topics, implausible ground truth, undecodable frames."""
    out = dict(index.skip_reasons)
    for topic, n in index.skipped.items():
        n -= index.skip_reasons.get(f'corrupt image on {topic}', 0)  # already counted as a frame
        if n > 0:
            out[f'corrupt message on {topic}'] = out.get(f'corrupt message on {topic}', 0) + n
    for why, n in skips.as_dict().items():
        out[why] = out.get(why, 0) + n
    return dict(sorted(out.items()))


def run(args: argparse.Namespace) -> EvalResult:
    """Build the record stream for ``args``, evaluate it and write the outputs (see :func:`check_outputs`)."""
    check_outputs(args)
    gt_topics = GroundTruthTopics(depth=args.gt_depth_topic, odom=args.gt_odom_topic, motion=args.gt_motion_topic,
                                  moving_mask=args.gt_mask_topic, semantic=None)
    index = open_gt_index(args.bag, args.image_topic, args.camera_info_topic, gt_topics)
    stats, skips = SourceStats(), SkipLog()
    if args.checkpoint is not None:
        from selfdepth_ros.inference import Predictor  # torch import only when a model runs
        predictor = Predictor(args.checkpoint, device=args.device, backend=args.backend)
        if predictor.describe()['backend_fallback']:  # the asked-for backend is not used (JSON source.model too)
            print(f"selfdepth eval: WARNING: backend {predictor.describe()['backend_detail']}", file=sys.stderr)
        records = predictor_records(index, predictor, args.max_frames, stats, skips)
        source = {'mode': 'checkpoint', 'checkpoint': str(args.checkpoint), 'model': predictor.describe()}
    else:
        topics = PredictionTopics(args.pred_depth_topic, args.pred_odom_topic, args.pred_motion_topic)
        records = recorded_records(index, args.pred_bag, topics, args.max_frames, stats=stats, skips=skips)
        source = {'mode': 'recorded', 'pred_bag': str(args.pred_bag), 'topics': asdict(topics)}
    config = EvalConfig(min_depth=args.min_depth, max_depth=args.max_depth, median_scaling=not args.metric,
                        crop=args.crop,
                        static_motion_threshold=args.static_threshold,
                        trajectory_alignment='se3' if args.metric else 'sim3',
                        snippet_length=args.snippet_length, snippet_protocol=args.snippet_protocol,
                        report_frames=args.report_frames)
    total = len(index) if args.max_frames is None else min(len(index), args.max_frames)
    result = evaluate(records, config, progress=lambda it: tqdm(it, total=total, desc='eval', unit='frame'))
    result.metrics['skipped'] = skipped_reasons(index, skips)
    index.close()
    source.update({'gt_bag': str(args.bag), 'gt_available': list(index.gt_available), **asdict(stats)})
    result.metrics['source'] = source
    _name_missing_topics(result.metrics, gt_topics, index.gt_available)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.metrics, indent=2))
    if args.report is not None:
        from selfdepth_ros.eval.report import write_report  # matplotlib only when a report is asked for
        before = {p.name: p.stat().st_mtime_ns for p in args.report.iterdir()} if args.report.is_dir() else {}
        html = write_report(result, args.report, source=f'{source["mode"]}: {args.checkpoint or args.pred_bag} '
                                                      f'on {args.bag}')
        written = _report_files(args.report) | {p.name for p in args.report.iterdir()
                                                 if before.get(p.name) != p.stat().st_mtime_ns}
        (args.report / REPORT_MANIFEST).write_text('\n'.join(sorted(written - {REPORT_MANIFEST})) + '\n')
        result.metrics.setdefault('outputs', {})['report'] = str(html)
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        print('selfdepth eval: --max-frames must be ≥ 1', file=sys.stderr)
        return 2
    try:
        result = run(args)
    except (BagError, FileNotFoundError, ValueError) as exc:
        print(f'selfdepth eval: {exc}', file=sys.stderr)
        checkpoint_module = sys.modules.get('selfdepth_ros.checkpoint')  # loaded only when a model was asked for
        refused = isinstance(exc, OverwriteRefused) or (
            checkpoint_module is not None and isinstance(exc, checkpoint_module.CheckpointError))
        return 2 if refused else 1
    print(headline(result.metrics))
    if args.json is not None:
        print(f'metrics: {args.json}')
    if args.report is not None:
        print(f"report: {result.metrics['outputs']['report']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
