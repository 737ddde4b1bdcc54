"""``selfdepth train`` (also ``python -m selfdepth_ros_training``): train depth + motion networks from rosbags.

    selfdepth train --config config/train/dynamic_scenes_small.yaml --bags drive1.mcap drive2 --out runs/a
    selfdepth train ... --init deployed.pt --freeze-encoder          # fine-tune a deployed model on a new drive
    selfdepth train ... --resume                                       # continue a killed run exactly
    selfdepth train ... --resume --allow-other-bags                    # continue it on another set of bags
    selfdepth train ... --force                                        # start an existing run over
    selfdepth train ... --source synthetic sim1 sim2 --source real drive1  # the recipe's data.alternate sources
    selfdepth train ... --image-topic /cam/image/compressed --camera-info-topic ''   # other topics, no CameraInfo
    torchrun --nproc_per_node=2 -m selfdepth_ros_training --config ... --bags ... --out runs/ddp   # DDP, same flags
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from selfdepth_ros_training.config import ConfigError, load_config
from selfdepth_ros_training.data import build_dataset


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth train', description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--config', required=True, type=Path, help='training recipe YAML (config/train/*.yaml)')
    p.add_argument('--bags', nargs='+', help='rosbag2 files or folders to train on')
    p.add_argument('--source', action='append', nargs='+', metavar=('NAME', 'BAG'),
                   help="instead of --bags: a data source of the recipe's data.alternate, its name and its bags "
                        '(repeat once per source)')
    p.add_argument('--out', required=True, type=Path, help='run directory (checkpoints/, images/, metrics.csv)')
    p.add_argument('--init', help="start from this checkpoint (fine-tuning; 'shipped' = the model installed with the "
                                  'package); optimiser and step start fresh')
    p.add_argument('--resume', action='store_true',
                   help='continue from the newest checkpoint in --out, on the bags it was trained on')
    p.add_argument('--allow-other-bags', action='store_true',
                   help='--resume on other --bags than the checkpoint was trained on (the data order changes: '
                        'not an exact continuation)')
    p.add_argument('--force', action='store_true',
                   help='start over in an existing run directory: its checkpoints and metrics.csv are deleted')
    p.add_argument('--max-steps', type=int, help='override optim.max_steps')
    p.add_argument('--freeze-encoder', action='store_true', help='keep both encoders fixed (fine-tuning)')
    p.add_argument('--device', choices=('cpu', 'cuda'), help='default: cuda when available')
    p.add_argument('--batch-size', type=int, help='override data.batch_size (global)')
    p.add_argument('--workers', type=int, help='override data.num_workers')
    p.add_argument('--no-progress', action='store_true', help='no progress bar (logs only)')
    p.add_argument('--seed', type=int, help='override the recipe seed (weights, data order, augmentation)')
    p.add_argument('--image-topic', help='override data.image_topic: Image (any encoding) or CompressedImage topic')
    p.add_argument('--camera-info-topic',
                   help="override data.camera_info_topic ('' ignores CameraInfo: the intrinsics are learned)")
    return p


def _overrides(args: argparse.Namespace) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if args.batch_size is not None:
        out.setdefault('data', {})['batch_size'] = args.batch_size
    if args.workers is not None:
        out.setdefault('data', {})['num_workers'] = args.workers
    if args.no_progress:
        out.setdefault('log', {})['progress_bar'] = False
    if args.seed is not None:
        out['seed'] = args.seed
    if args.image_topic is not None:
        out.setdefault('data', {})['image_topic'] = args.image_topic
    if args.camera_info_topic is not None:
        out.setdefault('data', {})['camera_info_topic'] = args.camera_info_topic
    return out


def existing_run(out: Path) -> list[str]:
    """What in ``out`` belongs to an earlier run (its checkpoints, metrics.csv); empty for a new run."""
    from selfdepth_ros_training.checkpointing import list_checkpoints
    found = [f'{len(ckpts)} checkpoint(s) up to step {ckpts[-1][0]}'] if (ckpts := list_checkpoints(out)) else []
    return found + (['metrics.csv'] if (out / 'metrics.csv').is_file() else [])


def start_over(out: Path) -> None:
    """``--force``: delete the earlier run's own checkpoints (nothing else in ``out``; the new run's logger
    starts metrics.csv afresh), so that pruning never keeps the old run's later steps over the new run's."""
    from selfdepth_ros_training.checkpointing import list_checkpoints
    if int(os.environ.get('RANK', '0')) != 0:  # under torchrun only rank 0 writes (and deletes)
        return
    for _, path in list_checkpoints(out):
        path.unlink(missing_ok=True)


def _same_bag(a: str, b: str) -> bool:
    """The same bag spelled two ways (``drive/`` and ``./drive``, or a relative and an absolute path)."""
    if os.path.normpath(a) == os.path.normpath(b):
        return True
    return Path(a).exists() and Path(b).exists() and Path(a).resolve() == Path(b).resolve()


def resume_bags_refusal(out: Path, bags: list[str], allow_other: bool) -> str | None:
    """``--resume`` on other bags than the run's newest readable checkpoint was trained on
    (``train_config['bags']``, in order: the data order depends on it): the one-line refusal, or None when they
    are the same, the checkpoint does not say, or ``allow_other`` (then a line on stdout says so)."""
    from selfdepth_ros_training.checkpointing import trained_bags
    found = trained_bags(out)
    if found is None:
        return None
    path, old = found
    if len(old) == len(bags) and all(_same_bag(a, b) for a, b in zip(old, bags)):
        return None
    reordered = sorted(map(os.path.normpath, old)) == sorted(map(os.path.normpath, bags))
    what = 'the same bags in another order' if reordered else 'other bags'
    if allow_other:
        print(f'[train] --allow-other-bags: resuming on {" ".join(bags)} ({path.name} was trained on '
              f'{" ".join(old)})')
        return None
    return (f'--resume: {path} was trained on --bags {" ".join(old)}, this run gives {what}: {" ".join(bags)}; '
            'pass the same --bags, --allow-other-bags to continue on these (the data order changes), or start '
            'a new run with --init')


def data_sources(args: argparse.Namespace) -> tuple[dict[str, list[str]] | None, str | None]:
    """The ``--source NAME BAG...`` groups (None with ``--bags``) and the one-line refusal of a bad combination."""
    if bool(args.bags) == bool(args.source):
        return None, ('give --bags, or one --source NAME BAG [BAG ...] per source of the recipe\'s data.alternate'
                      if not args.bags else '--bags and --source exclude each other')
    if args.bags:
        return None, None
    sources: dict[str, list[str]] = {}
    for name, *bags in args.source:
        if not bags:
            return None, f'--source {name}: name the bags of this source after its name'
        if name in sources:
            return None, f'--source {name} is given twice'
        sources[name] = bags
    return sources, None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sources, refusal = data_sources(args)
    if refusal:
        print(f'selfdepth train: {refusal}', file=sys.stderr)
        return 2
    if sources is not None:
        args.bags = [bag for bags in sources.values() for bag in bags]
    if args.force and args.resume:
        print('selfdepth train: --force and --resume exclude each other (force starts the run over)', file=sys.stderr)
        return 2
    if args.allow_other_bags and not args.resume:
        print('selfdepth train: --allow-other-bags applies only with --resume', file=sys.stderr)
        return 2
    if not args.resume:
        found = existing_run(args.out)
        if found and not args.force:
            print(f'selfdepth train: {args.out} already holds a run ({", ".join(found)}); refusing to overwrite it: '
                  'pass --resume to continue it, --force to start over (deletes its checkpoints and metrics.csv), '
                  'or choose another --out', file=sys.stderr)
            return 2
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
    from selfdepth_ros.bag.errors import BagError
    from selfdepth_ros.checkpoint import SHIPPED, CheckpointError, resolve_checkpoint
    from selfdepth_ros_training import distributed
    from selfdepth_ros_training.trainer import RunOptions, Trainer, TrainingError, load_init_checkpoint

    if args.init == SHIPPED:
        args.init = str(resolve_checkpoint(SHIPPED))
    try:
        refusal = resume_bags_refusal(args.out, list(args.bags), args.allow_other_bags) if args.resume else None
    except CheckpointError as exc:
        refusal = str(exc)
    if refusal:
        print(f'selfdepth train: {refusal}', file=sys.stderr)
        return 2
    info = distributed.setup(args.device)
    try:
        if args.init:  # a wrong --init fails before the bags are read
            load_init_checkpoint(args.init, cfg.model_config())
        dataset = build_dataset(cfg, args.bags) if sources is None else \
            {name: build_dataset(cfg, bags, source=name) for name, bags in sources.items()}
        opts = RunOptions(out=args.out, bags=list(args.bags), init=args.init, resume=args.resume,
                          freeze_encoder=args.freeze_encoder, max_steps=args.max_steps, device=args.device)
        trainer = Trainer(cfg, dataset, opts, info)
        if args.force:  # only now that the recipe, bags and --init are known to be usable
            start_over(args.out)
        last = trainer.fit()
    except (CheckpointError, BagError) as exc:  # a junk/unsafe/mismatched checkpoint; a missing topic, bad bag
        print(f'selfdepth train: {exc}', file=sys.stderr)
        return 2
    except (TrainingError, FileNotFoundError, ValueError) as exc:
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
