"""``selfdepth train`` (also ``python -m training``): train depth + motion networks from rosbags.

    selfdepth train --config config/train/dynamic_scenes_small.yaml --bags drive1.mcap drive2 --out runs/a
    selfdepth train ... --init deployed.pt --freeze-encoder          # fine-tune a deployed model on a new drive
    selfdepth train ... --resume                                       # continue a killed run exactly
    torchrun --nproc_per_node=2 -m training --config ... --bags ... --out runs/ddp   # DDP, same flags
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.config import ConfigError, TrainConfig, load_config


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth train', description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', required=True, type=Path, help='training recipe YAML (config/train/*.yaml)')
    p.add_argument('--bags', required=True, nargs='+', help='rosbag2 files or folders to train on')
    p.add_argument('--out', required=True, type=Path, help='run directory (checkpoints/, images/, metrics.csv)')
    p.add_argument('--init', help='start from this checkpoint (fine-tuning); optimiser and step start fresh')
    p.add_argument('--resume', action='store_true', help='continue from the newest checkpoint in --out')
    p.add_argument('--max-steps', type=int, help='override optim.max_steps')
    p.add_argument('--freeze-encoder', action='store_true', help='keep both encoders fixed (fine-tuning)')
    p.add_argument('--device', choices=('cpu', 'cuda'), help='default: cuda when available')
    p.add_argument('--batch-size', type=int, help='override data.batch_size (global)')
    p.add_argument('--workers', type=int, help='override data.num_workers')
    p.add_argument('--no-progress', action='store_true', help='no progress bar (logs only)')
    return p


def _overrides(args: argparse.Namespace) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if args.batch_size is not None:
        out.setdefault('data', {})['batch_size'] = args.batch_size
    if args.workers is not None:
        out.setdefault('data', {})['num_workers'] = args.workers
    if args.no_progress:
        out.setdefault('log', {})['progress_bar'] = False
    return out


def build_dataset(cfg: TrainConfig, bags: list[str]):
    """The recipe's training dataset over ``bags``: frames at the net size, pairs ``(t, t+s)`` or triplets
    ``(t−s, t, t+s)`` (``s = data.stride``), near-duplicates dropped, no ground truth loaded."""
    from training.data.dataset import BagFramesDataset
    s = cfg.data.stride
    offsets = (0, s) if cfg.data.frames == 2 else (-s, 0, s)
    return BagFramesDataset(bags, (cfg.data.width, cfg.data.height), offsets=offsets,
                            min_motion=cfg.data.min_mean_abs_diff, load_gt=False)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.init and args.resume:
        print('selfdepth train: --init and --resume exclude each other (resume continues a run, init starts one)',
              file=sys.stderr)
        return 2
    if args.max_steps is not None and args.max_steps < 1:
        print(f'selfdepth train: --max-steps must be >= 1, got {args.max_steps}', file=sys.stderr)
        return 2
    try:
        cfg = load_config(args.config, _overrides(args))
    except (ConfigError, FileNotFoundError) as exc:
        print(f'selfdepth train: {exc}', file=sys.stderr)
        return 2
    from selfdepth_ros.checkpoint import CheckpointError
    from training import distributed
    from training.trainer import RunOptions, Trainer, TrainingError

    info = distributed.setup(args.device)
    try:
        dataset = build_dataset(cfg, args.bags)
        opts = RunOptions(out=args.out, bags=list(args.bags), init=args.init, resume=args.resume,
                          freeze_encoder=args.freeze_encoder, max_steps=args.max_steps, device=args.device)
        trainer = Trainer(cfg, dataset, opts, info)
        last = trainer.fit()
    except (TrainingError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f'selfdepth train: {exc}', file=sys.stderr)
        return 1
    finally:
        distributed.cleanup()
    if info.is_main:
        loss = last.get('loss/total', float('nan'))
        print(f'[train] done: step {trainer.step}, loss {loss:.4f}, checkpoints in {args.out / "checkpoints"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
