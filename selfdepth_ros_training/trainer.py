"""The training loop: a recipe, a dataset and a run directory in; checkpoints, logs and image summaries out.

One ``Trainer`` serves every method (the recipe's ``method`` picks how a batch becomes losses, see
``selfdepth_ros_training/methods``) and every launch mode (alone, or one process per rank under ``torchrun``).

Determinism (what makes ``--resume`` continue exactly where a killed run stopped):
- the data order of epoch ``e`` is a permutation seeded by ``seed + e`` and a resumed epoch skips the samples
  already consumed (``ResumableDistributedSampler``);
- augmentation is keyed on (seed, epoch, sample index), not on a running generator;
- the global torch RNG (randomized layer-norm noise, tie-breaks) is re-seeded from (seed, step, rank) before
  every step, so no hidden RNG stream has to survive a restart (the RNG state is still stored, for inspection).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import yaml
from torch.utils.data import DataLoader, Dataset

from selfdepth_ros.checkpoint import save_checkpoint
from selfdepth_ros.models import set_randln_ramp
from selfdepth_ros.models.layers import randln_ramp
from selfdepth_ros_training import checkpointing, distributed
from selfdepth_ros_training.augment import FlipAugmented
from selfdepth_ros_training.camera import camera_facts, learned_camera_ema
from selfdepth_ros_training.config import TrainConfig, stage_at
from selfdepth_ros_training.logging import RunLogger
from selfdepth_ros_training.nets import RUNTIME_NETS, build_run_nets, training_only
from selfdepth_ros_training.optimizers import MAIN, build_optimizers, set_learning_rates, step_optimizers
from selfdepth_ros_training.nets import load_init_checkpoint  # noqa: F401 - selfdepth_ros_training.cli imports it from here
from selfdepth_ros_training.methods import METHODS
from selfdepth_ros_training.mixing import Alternation, MixedBatches


class TrainingError(RuntimeError):
    """The run cannot start or continue (bad --init/--resume, too little data, ...); the message says why."""


@dataclass
class RunOptions:
    """Per-run choices that are not part of the recipe (the CLI flags)."""

    out: Path
    """Run directory: checkpoints/, images/, metrics.csv, config.yaml."""
    bags: list[str] = field(default_factory=list)
    init: str | None = None
    """Checkpoint whose weights start the run (fine-tuning); optimiser and step start fresh."""
    resume: bool = False
    """Continue from the newest checkpoint in ``out`` (weights, optimiser, step)."""
    freeze_encoder: bool = False
    """Keep both encoders fixed (fine-tuning a deployed model on a new drive)."""
    max_steps: int | None = None
    """Overrides ``optim.max_steps``."""
    device: str | None = None


class Trainer:
    """Builds nets, optimiser and data pipeline from a :class:`TrainConfig` and runs the loop.

    Args:
        cfg: the validated recipe.
        dataset: items as documented in ``selfdepth_ros_training.data`` (``images`` S×3×H×W, ``K``, ``has_intrinsics``, ...);
            or one dataset per source named in ``data.alternate`` (the first is the main one: ``mean_loss``).
        opts: run options; ``info``: the DDP position (``distributed.setup()`` when None).
    """

    def __init__(self, cfg: TrainConfig, dataset: Dataset | Mapping[str, Dataset], opts: RunOptions,
                 info: distributed.DistInfo | None = None) -> None:
        self.cfg, self.opts = cfg, opts
        self.info = info or distributed.setup(opts.device)
        self.run_dir = Path(opts.out)
        self.max_steps = opts.max_steps if opts.max_steps is not None else cfg.optim.max_steps
        self.model_config = cfg.model
        self.camera: dict[str, Any] | None = None
        """The bags' own camera (CameraInfo) at the net size, or None when no bag has CameraInfo."""
        self.learned_camera: dict[str, Any] | None = None
        """EMA of the learned intrinsics over the samples without CameraInfo (None until a step has seen one)."""
        self.step = 0
        sources = dict(dataset) if isinstance(dataset, Mapping) else {'train': dataset}
        self.datasets = {name: FlipAugmented(ds, seed=cfg.seed, enabled=cfg.data.random_flip,
                                             rotation_deg=cfg.data.random_rotation_deg,
                                             scale_range=cfg.data.random_scale_crop) for name, ds in sources.items()}
        """The data sources by name (one, ``'train'``, unless the recipe alternates several)."""
        self.dataset = next(iter(self.datasets.values()))
        self.schedule = self._alternation()
        self.spec = METHODS[cfg.method]
        self._learns_camera = False
        owned = sorted({s for w in self._stage_weights() for s in self.spec.owners(w)} - set(self.datasets))
        if owned:
            raise TrainingError(f'the loss section supervises the data source(s) {owned} (loss.supervised_source), '
                                f'the run was given the datasets {sorted(self.datasets)}; name it in data.alternate')
        for name, ds in self.datasets.items():
            self._check_data(ds, name, '' if len(self.datasets) == 1 else f' {name!r}')

        torch.manual_seed(cfg.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
        resume_ckpt = self._resume_checkpoint()
        extra = {name: b for weights in self._stage_weights() for name, b in self.spec.nets(weights).items()}
        self.model_config, self.nets = build_run_nets(self.model_config, extra, self.info.device,
                                                      resume=resume_ckpt, init=opts.init)
        """Every net of the run by name: ``depth``, ``motion`` and those the method's parts add."""
        self.depth_net, self.motion_net = self.nets['depth'], self.nets['motion']
        if opts.init and resume_ckpt is None and cfg.optim.init_rotation_scale > 0:
            self.motion_net.rescale_rotation_(cfg.optim.init_rotation_scale)
        if opts.freeze_encoder:
            for net in (self.depth_net, self.motion_net):
                net.encoder.requires_grad_(False)
        owned = {k: v for weights in self._stage_weights() for k, v in self.spec.optimizers(weights).items()}
        self.optimizers = build_optimizers(cfg.optim, self.nets, owned)
        """The run's optimisers by name (``selfdepth_ros_training.optimizers``): ``main`` and those the parts name."""
        self.optimizer = self.optimizers[MAIN]
        if resume_ckpt is not None:
            self._restore(resume_ckpt)
        self.steps = [self.spec.build(weights) for weights in self._stage_weights()]
        """The step callable of each stage (one without ``stages:``)."""
        self.ddp_nets = {name: distributed.wrap(net, self.info) for name, net in self.nets.items()}
        self.ddp_depth, self.ddp_motion = self.ddp_nets['depth'], self.ddp_nets['motion']
        self.logger = RunLogger(self.run_dir, enabled=self.info.is_main,
                                resume_step=self.step if resume_ckpt is not None else None)
        if self.info.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            checkpointing.remove_orphaned_temp_files(self.run_dir)
            (self.run_dir / 'config.yaml').write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))

    # ----------------------------------------------------------------------------------------------- set-up
    @property
    def local_batch(self) -> int:
        return self.cfg.data.batch_size // self.info.world_size

    def _stage_weights(self) -> list[Any]:
        return [stage.loss for stage in self.cfg.stages] or [self.cfg.loss]

    @property
    def method(self) -> Any:
        """The step callable of the current step's stage."""
        return self.steps[stage_at(self.cfg.stages, self.step)]

    def _alternation(self) -> Alternation:
        """Which source each step draws from: ``data.alternate``, whose names must be the datasets'."""
        weights, names = self.cfg.data.alternate, sorted(self.datasets)
        if not weights:
            if len(names) != 1:
                raise TrainingError(f'the run was given the datasets {names} but the recipe has no data.alternate '
                                    'to say how their steps alternate')
            return Alternation(tuple(names))
        if sorted(k for k, v in weights.items() if v) != names:
            raise TrainingError(f'data.alternate names the sources {sorted(k for k, v in weights.items() if v)}, '
                                f'the run was given the datasets {names}; give one dataset per source')
        return Alternation.from_weights(weights)

    def _check_data(self, dataset: FlipAugmented, source: str, which: str = '') -> None:
        """Batch and frame counts, the data the method consumes, and intrinsics (``selfdepth_ros_training.camera``: the
        learned-intrinsics head is on when any bag lacks CameraInfo; the first CameraInfo is the run's camera)."""
        b, ws = self.cfg.data.batch_size, self.info.world_size
        if b % ws:
            raise TrainingError(f'data.batch_size ({b}) must be divisible by the number of processes ({ws})')
        if len(dataset) < b:
            raise TrainingError(f'the dataset{which} has {len(dataset)} samples, fewer than one batch '
                                f'(data.batch_size = {b}); record a longer drive or lower the batch size')
        base = dataset.base  # un-augmented: an item's K is never the flipped one here
        first = base[0]
        frames = first['images'].shape[0]
        if frames != self.spec.frames:
            raise TrainingError(f'method {self.cfg.method!r} needs {self.spec.frames} frames per sample, '
                                f'the dataset{which} gives {frames} (data.frames)')
        missing = sorted({k for w in self._stage_weights() for k in self.spec.data(w, source) if k not in first})
        if missing:
            raise TrainingError(f'method {self.cfg.method!r} (with this recipe\'s loss section) consumes {missing} '
                                f'per sample; the dataset{which} gives {sorted(first)}')
        facts = camera_facts(base)
        self._learns_camera = self._learns_camera or bool(facts.lacking)
        if facts.lacking and not self.model_config.learn_intrinsics:
            self.model_config = self.model_config.replace(learn_intrinsics=True)
            if facts.camera is not None:
                names = ', '.join(facts.lacking_names) + (' …' if facts.lacking > 3 else '')
                print(f'[train] {facts.lacking} of {facts.used} bags have no CameraInfo ({names}): learning intrinsics '
                      'for their samples (model learn_intrinsics = true); the others use their CameraInfo')
            else:
                print('[train] the bags have no CameraInfo: learning intrinsics (model learn_intrinsics = true)')
        if self.camera is None:
            self.camera = facts.camera

    def _resume_checkpoint(self) -> dict[str, Any] | None:
        if not self.opts.resume:
            return None
        found = checkpointing.newest_loadable(self.run_dir, map_location=self.info.device)
        if found is None:
            raise TrainingError(f'--resume: no checkpoint in {checkpointing.checkpoint_dir(self.run_dir)}')
        path, ckpt, skipped = found
        for bad, reason in skipped:
            print(f'[train] --resume: {bad.name} does not load ({reason}); resuming from {path.name}', file=sys.stderr)
        saved = checkpointing.comparable_recipe((ckpt.get('train_config') or {}).get('recipe'))
        current = checkpointing.comparable_recipe(self.cfg.to_dict())
        if saved is not None and saved != current:
            diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
            raise TrainingError(f'--resume: the recipe differs from the one {path} was trained with (sections '
                                f'{diff}); resume with the same recipe, or start a new run with --init')
        print(f'[train] resuming from {path} (step {ckpt["step"]})')
        return ckpt

    def _restore(self, ckpt: dict[str, Any]) -> None:
        self.step = int(ckpt['step'])
        if ckpt.get('optimizer') is None:
            raise TrainingError('--resume: the checkpoint has no optimiser state (a deployed model?); use --init')
        self.optimizer.load_state_dict(ckpt['optimizer'])
        saved = ckpt.get('optimizers') or {}
        for name, opt in self.optimizers.items():
            if name != MAIN:
                if name not in saved:
                    raise TrainingError(f'--resume: the checkpoint has no state of optimiser {name!r}')
                opt.load_state_dict(saved[name])
        learned = (ckpt.get('train_config') or {}).get('learned_camera')
        if learned is None and self.camera is None:  # runs from before learned_camera was stored
            learned = ckpt.get('camera')
        self.learned_camera = learned
        if ckpt.get('rng'):
            checkpointing.restore_rng(ckpt['rng'])

    # ----------------------------------------------------------------------------------------------- data
    def _loader(self, epoch: int, skip_batches: int, source: str | None = None) -> DataLoader:
        """Epoch ``epoch`` of ``source`` (default: the first), its first ``skip_batches`` batches left out; each
        source's order is seeded by the recipe seed, the source's position and the epoch."""
        names = list(self.datasets)
        dataset = self.datasets[source or names[0]]
        seed = self.cfg.seed + 7_919 * names.index(source or names[0])
        sampler = distributed.ResumableDistributedSampler(
            dataset, num_replicas=self.info.world_size, rank=self.info.rank, shuffle=True, seed=seed)
        sampler.set_epoch(epoch, skip=skip_batches * self.local_batch)
        dataset.epoch = epoch
        return DataLoader(dataset, batch_size=self.local_batch, sampler=sampler, drop_last=True,
                          num_workers=self.cfg.data.num_workers, pin_memory=self.info.device.type == 'cuda',
                          generator=torch.Generator().manual_seed(seed + epoch))

    def batches_per_epoch(self, source: str | None = None) -> int:
        dataset = self.datasets[source] if source is not None else self.dataset
        return (len(dataset) // self.info.world_size) // self.local_batch

    # ----------------------------------------------------------------------------------------------- steps
    def _schedule(self, step: int) -> None:
        """Step-dependent knobs: residual-field burn-in (001) and the randomized layer-norm noise ramp."""
        self.motion_net.field_scale = self.cfg.schedule.field_scale(step)
        ramp = randln_ramp(step, self.cfg.schedule.layer_norm_ramp_steps)
        set_randln_ramp(self.depth_net, ramp)
        set_randln_ramp(self.motion_net, ramp)
        set_learning_rates(self.optimizers, self.cfg.optim, step)

    def _train_mode(self) -> None:
        for name, net in self.nets.items():
            net.train()
            if self.opts.freeze_encoder and name in RUNTIME_NETS:
                net.encoder.eval()  # frozen: no noise, no BatchNorm statistics updates

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.info.device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}

    def compute_losses(self, batch: dict[str, Any]) -> Any:
        """Forward pass at the current step: the method's ``StepOutput`` (losses with 'total', vis tensors)."""
        self._schedule(self.step)
        self._train_mode()
        torch.manual_seed(_step_seed(self.cfg.seed, self.step, self.info.rank))
        return self.method(self.to_device(batch), self.ddp_nets)

    @torch.no_grad()
    def mean_loss(self, dataset: Dataset | None = None, batches: int = 4) -> float:
        """Mean total loss of the first ``batches`` batches of ``dataset`` (default: the training data) in file
        order, nets in eval mode (no layer-norm noise) and a fixed seed: comparable before and after training."""
        loader = DataLoader(dataset if dataset is not None else self.dataset.base, batch_size=self.local_batch)
        self._schedule(self.step)
        modes = {name: net.training for name, net in self.nets.items()}
        for net in self.nets.values():
            net.eval()
        torch.manual_seed(self.cfg.seed)
        totals = []
        for i, batch in enumerate(loader):
            if i >= batches:
                break
            totals.append(float(self.method(self.to_device(batch), self.nets).losses['total']))
        for name, net in self.nets.items():
            net.train(modes[name])
        return sum(totals) / max(len(totals), 1)

    def train_step(self, batch: dict[str, Any]) -> Any:
        """One optimiser step: forward, backward (all-reduced under DDP), global-norm clip, Adam, constraints."""
        out = self.compute_losses(batch)
        objectives = {MAIN: out.losses['total'], **out.totals}
        if not all(torch.isfinite(v) for v in objectives.values()):
            raise TrainingError(f'non-finite loss at step {self.step}: '
                                f'{ {k: float(v) for k, v in out.losses.items()} }')
        grad_norm = step_optimizers(self.optimizers, objectives, self.cfg.optim.grad_clip_norm)
        self.motion_net.constrain_scales_()
        self.step += 1
        out.losses['grad_norm'] = grad_norm.detach()
        return out

    # ----------------------------------------------------------------------------------------------- loop
    def fit(self, on_step: Callable[['Trainer'], None] | None = None) -> dict[str, float]:
        """Train until ``max_steps``; returns the last logged scalars. ``on_step`` runs after every step."""
        batches = MixedBatches(self.schedule, lambda source, epoch, skip: self._loader(epoch, skip, source),
                               {s: self.batches_per_epoch(s) for s in self.datasets}, start_step=self.step)
        bar = _progress(self.info.is_main and self.cfg.log.progress_bar, self.step, self.max_steps)
        last: dict[str, float] = {}
        tick, tick_step = time.perf_counter(), self.step
        try:
            while self.step < self.max_steps:
                source, batch = next(batches)
                batch['source'] = source  # which data source this step's batch came from (the step may ask)
                out = self.train_step(batch)
                self._after_step(out, bar, batch)
                if self.step % self.cfg.log.every == 0 or self.step == self.max_steps:
                    now = time.perf_counter()
                    rate = (self.step - tick_step) * self.cfg.data.batch_size / max(now - tick, 1e-9)
                    tick, tick_step = now, self.step
                    last = self._log(out, rate, bar)
                if on_step is not None:
                    on_step(self)
        finally:
            if bar is not None:
                bar.close()
        if not checkpointing.checkpoint_path(self.run_dir, self.step).exists():
            self.save()
        return last

    def _after_step(self, out: Any, bar: Any, batch: dict[str, Any] | None = None) -> None:
        if bar is not None:
            bar.update(1)
        if out.intrinsics is not None and self._learns_camera:
            self._track_learned_camera(out.intrinsics, *out.vis['rgb'].shape[-2:], batch)
        log = self.cfg.log
        if self.info.is_main and log.image_every and self.step % log.image_every == 0 and out.vis:
            self.logger.images(self.step, **out.vis)
        if self.step % log.checkpoint_every == 0:
            self.save()

    def _track_learned_camera(self, K: torch.Tensor, height: int, width: int,
                              batch: dict[str, Any] | None = None) -> None:
        """Update the learned camera (:func:`~selfdepth_ros_training.camera.learned_camera_ema`) over the batch's samples without
        CameraInfo (``batch['has_intrinsics']`` false; all when ``batch`` is None)."""
        rows = torch.ones(K.shape[0], dtype=torch.bool)
        if batch is not None and 'has_intrinsics' in batch:
            rows = ~torch.as_tensor(batch['has_intrinsics']).reshape(-1).bool().cpu().expand(K.shape[0])
        dataset = self.datasets.get(batch.get('source'), self.dataset) if batch is not None else self.dataset
        flipped = None
        if batch is not None and 'index' in batch and dataset.enabled:
            flipped = torch.tensor([dataset.flipped(int(i)) for i in batch['index']], dtype=torch.bool)
        self.learned_camera = learned_camera_ema(self.learned_camera, K, height, width, rows, flipped)

    def _log(self, out: Any, rate: float, bar: Any) -> dict[str, float]:
        scalars = {f'loss/{k}': float(v.detach()) for k, v in out.losses.items()}
        scalars = distributed.all_reduce_mean(scalars, self.info)
        scalars.update({'samples_per_s': rate, 'lr': self.optimizer.param_groups[0]['lr'],
                        **({'stage': stage_at(self.cfg.stages, self.step - 1)} if self.cfg.stages else {}),
                        'field_scale': float(self.motion_net.field_scale)})
        self.logger.scalars(self.step, scalars)
        if bar is not None:
            bar.set_postfix(loss=f"{scalars['loss/total']:.4f}", samples_s=f'{rate:.2f}')
        return scalars

    def save(self) -> Path | None:
        """Write ``checkpoints/step_NNNNNNN.pt`` (rank 0 only) and keep the last ``log.keep_last``."""
        if not self.info.is_main:
            return None
        path = save_checkpoint(
            checkpointing.checkpoint_path(self.run_dir, self.step), model_config=self.model_config,
            depth_net=self.depth_net, motion_net=self.motion_net,
            camera=self.camera if self.camera is not None else self.learned_camera, step=self.step,
            optimizer=self.optimizer, rng=checkpointing.capture_rng(), nets=training_only(self.nets),
            optimizers={k: v for k, v in self.optimizers.items() if k != MAIN},
            train_config={'recipe': self.cfg.to_dict(), 'bags': [str(b) for b in self.opts.bags],
                          'world_size': self.info.world_size, 'num_samples': sum(map(len, self.datasets.values())),
                          'learned_camera': self.learned_camera})
        checkpointing.prune_checkpoints(self.run_dir, self.cfg.log.keep_last)
        return path


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 7_919 + rank * 104_729) % (2 ** 63 - 1)


def _progress(enabled: bool, start: int, total: int) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, initial=start, unit='step', dynamic_ncols=True, mininterval=1.0)
