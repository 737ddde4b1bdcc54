"""``selfdepth eval``: score a checkpoint (or a bag of the node's recorded outputs) against a ground-truth bag.

    selfdepth eval --checkpoint CKPT --bag GT_BAG [--json OUT.json] [--report DIR] [--max-frames N]
    selfdepth eval --pred-bag OUT_BAG --bag GT_BAG ...

Prints the headline metrics; ``--json`` writes every metric (keys: depth, depth_static, depth_dynamic,
trajectory, motion_field, latency_ms, plus frames, config and source); ``--report`` writes an HTML page.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.index import GroundTruthTopics
from selfdepth_ros.eval.evaluate import EvalConfig, EvalResult, evaluate
from selfdepth_ros.eval.sources import (PredictionTopics, SourceStats, open_gt_index, predictor_records,
                                        recorded_records)


def _optional_topic(value: str) -> str | None:
    return None if value.lower() in ('', 'none') else value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth eval', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument('--checkpoint', type=Path, help='checkpoint to run offline over --bag')
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
    p.add_argument('--max-frames', type=int, default=None, help='score only the first N frames')
    p.add_argument('--json', type=Path, help='write all metrics to this JSON file')
    p.add_argument('--report', type=Path, help='write an HTML report with figures into this folder')
    p.add_argument('--metric', action='store_true',
                   help='the model predicts metric depth: no per-frame median scaling, SE(3) trajectory alignment')
    p.add_argument('--min-depth', type=float, default=1e-3, help='depth cap, metres (default 1e-3)')
    p.add_argument('--max-depth', type=float, default=80.0, help='depth cap, metres (default 80)')
    p.add_argument('--static-threshold', type=float, default=0.05,
                   help='|T_obj| below this (m/frame) counts as near zero on static pixels')
    p.add_argument('--snippet-length', type=int, default=5)
    p.add_argument('--snippet-protocol', choices=('sim3', 'sfmlearner'), default='sim3')
    p.add_argument('--report-frames', type=int, default=2, help='frames pictured in the report')
    return p


def headline(metrics: dict) -> str:
    """A few lines with the numbers people compare first."""
    lines = [f"frames scored: {metrics.get('frames', 0)}"]
    for key in ('depth', 'depth_static', 'depth_dynamic'):
        m = metrics.get(key)
        if m:
            lines.append(f"{key:<14} abs_rel {m['abs_rel']:.4f}  sq_rel {m['sq_rel']:.4f}  rmse {m['rmse']:.3f}  "
                         f"rmse_log {m['rmse_log']:.4f}  a1 {m['a1']:.4f}  a2 {m['a2']:.4f}  a3 {m['a3']:.4f}")
    traj = metrics.get('trajectory')
    if traj:
        line = f"trajectory     ATE {traj['ate']['rmse']:.4f} m ({traj['alignment']})  RPE {traj['rpe']['trans_rmse']:.4f} m"
        if 'snippet_ate' in traj:
            line += f"  snippet ATE {traj['snippet_ate']['mean']:.4f} m"
        lines.append(line)
    mf = metrics.get('motion_field')
    if mf:
        epe = 'n/a' if mf['epe'] is None else f"{mf['epe']:.4f} m"
        nz = 'n/a' if mf['static_near_zero'] is None else f"{mf['static_near_zero']:.3f}"
        lines.append(f"motion_field   EPE {epe}  static near-zero {nz}")
    lat = metrics.get('latency_ms')
    if lat:
        lines.append(f"latency_ms     mean {lat['mean']:.1f}  p50 {lat['p50']:.1f}  p90 {lat['p90']:.1f}")
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> EvalResult:
    """Build the record stream for ``args``, evaluate it and write the outputs."""
    gt_topics = GroundTruthTopics(depth=args.gt_depth_topic, odom=args.gt_odom_topic, motion=args.gt_motion_topic,
                                  moving_mask=args.gt_mask_topic, semantic=None)
    index = open_gt_index(args.bag, args.image_topic, args.camera_info_topic, gt_topics)
    stats = SourceStats()
    if args.checkpoint is not None:
        from selfdepth_ros.inference import Predictor  # torch import only when a model runs
        predictor = Predictor(args.checkpoint, device=args.device)
        records = predictor_records(index, predictor, args.max_frames, stats)
        source = {'mode': 'checkpoint', 'checkpoint': str(args.checkpoint), 'model': predictor.describe()}
    else:
        topics = PredictionTopics(args.pred_depth_topic, args.pred_odom_topic, args.pred_motion_topic)
        records = recorded_records(index, args.pred_bag, topics, args.max_frames, stats=stats)
        source = {'mode': 'recorded', 'pred_bag': str(args.pred_bag), 'topics': asdict(topics)}
    config = EvalConfig(min_depth=args.min_depth, max_depth=args.max_depth, median_scaling=not args.metric,
                        static_motion_threshold=args.static_threshold,
                        trajectory_alignment='se3' if args.metric else 'sim3',
                        snippet_length=args.snippet_length, snippet_protocol=args.snippet_protocol,
                        report_frames=args.report_frames)
    total = len(index) if args.max_frames is None else min(len(index), args.max_frames)
    result = evaluate(records, config, progress=lambda it: tqdm(it, total=total, desc='eval', unit='frame'))
    index.close()
    source.update({'gt_bag': str(args.bag), 'gt_available': list(index.gt_available), **asdict(stats)})
    result.metrics['source'] = source
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.metrics, indent=2))
    if args.report is not None:
        from selfdepth_ros.eval.report import write_report  # matplotlib only when a report is asked for
        html = write_report(result, args.report, source=f'{source["mode"]}: {args.checkpoint or args.pred_bag} '
                                                      f'on {args.bag}')
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
        return 1
    print(headline(result.metrics))
    if args.json is not None:
        print(f'metrics: {args.json}')
    if args.report is not None:
        print(f"report: {result.metrics['outputs']['report']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
