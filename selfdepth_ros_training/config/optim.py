"""The ``optim:`` section: Adam, gradient clipping and the learning-rate schedule."""
from __future__ import annotations

from dataclasses import dataclass

from selfdepth_ros_training.config.validate import require as _require


@dataclass
class OptimConfig:
    """Adam and its schedule (001 defaults: lr 2e-4 constant, beta1 0.9, global grad-norm clip 10)."""

    lr: float = 2.0e-4
    """Adam learning rate."""
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 0.0
    grad_clip_norm: float = 10.0
    """Clip the global gradient norm to this (0 disables clipping)."""
    max_steps: int = 100_000
    """Optimiser steps to train (the CLI's --max-steps overrides it)."""
    lr_decay_steps: tuple[int, ...] = ()
    """Steps at which the learning rate is multiplied by lr_decay_factor (monodepth2: x0.1 late in training)."""
    lr_decay_factor: float = 0.1
    output_scale_lr_factor: float = 1.0
    """The motion net's two log output scales (rotation, translation) train at ``lr`` times this. Measured on the
    small recipe: 40x (a 2 % change per step, 001's initial rate for its linear scales) let early, wrong
    ego-motion shrink the translation scale and learning stalled; 1 learned."""

    depth_lr_factor: float = 1.0
    """The depth net trains at ``lr`` times this (ours, for fine-tuning on one real drive): the ego-motion must adapt
    to the drive while the depth keeps what it knew of other streets. Measured (bench/real.py, 3 seeds): on the
    KITTI snippet mixed with other footage, 300 steps, the depth on kitti_depth_snippet (start 0.280) got worse in
    3 of 3 seeds at lr 1e-4, factor 1 (0.281-0.290) and in 1 of 3 at lr 2e-4, factor 0.25 (0.275-0.292); at
    lr 2e-4, factor 0.125 it improved in 3 of 3 (0.271-0.274) while the snippet ATE fell from 0.072 to 0.040 m."""

    init_rotation_scale: float = 0.0
    """With ``--init``: set the motion net's rotation output scale to this, the outputs kept equal
    (``MotionNet.rescale_rotation_``); 0 keeps the checkpoint's. Ours, for fine-tuning on real drives."""

    def __post_init__(self) -> None:
        _require(0.0 < self.lr < 1.0, f'lr must be in (0, 1), got {self.lr}')
        _require(self.init_rotation_scale >= 0.0, f'init_rotation_scale must be >= 0, got {self.init_rotation_scale}')
        _require(self.depth_lr_factor > 0.0, f'depth_lr_factor must be > 0, got {self.depth_lr_factor}')
        _require(self.output_scale_lr_factor > 0.0,
                 f'output_scale_lr_factor must be > 0, got {self.output_scale_lr_factor}')
        _require(0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0, 'beta1 and beta2 must be in [0, 1)')
        _require(self.weight_decay >= 0.0, f'weight_decay must be >= 0, got {self.weight_decay}')
        _require(self.grad_clip_norm >= 0.0, f'grad_clip_norm must be >= 0, got {self.grad_clip_norm}')
        _require(self.max_steps >= 1, f'max_steps must be >= 1, got {self.max_steps}')
        _require(all(s >= 1 for s in self.lr_decay_steps), 'lr_decay_steps must be positive steps')
        _require(0.0 < self.lr_decay_factor <= 1.0, f'lr_decay_factor must be in (0, 1], got {self.lr_decay_factor}')
