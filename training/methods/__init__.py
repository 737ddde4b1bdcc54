"""How a batch becomes losses, one module per training method (the recipe's ``method`` picks one).

A method is a callable ``method(batch, depth_net, motion_net) -> StepOutput``; the nets may be DDP-wrapped, so a
method calls each of them once per step on the whole stacked batch (one forward per DDP wrapper).
"""
from __future__ import annotations

from typing import Any, Callable

from training.config import TrainConfig
from training.methods.common import StepOutput

Method = Callable[[dict[str, Any], Any, Any], StepOutput]


def build_method(cfg: TrainConfig) -> Method:
    """The loss computation named by ``cfg.method``, configured by ``cfg.loss``."""
    if cfg.method == 'dynamic_scenes':
        from training.methods.dynamic_scenes import DynamicScenesMethod
        return DynamicScenesMethod(cfg.loss)
    if cfg.method == 'monodepth_baseline':
        from training.methods.monodepth_baseline import MonodepthBaselineMethod
        return MonodepthBaselineMethod(cfg.loss)
    raise ValueError(f"unknown method {cfg.method!r}; expected 'dynamic_scenes' or 'monodepth_baseline'")


__all__ = ['Method', 'StepOutput', 'build_method']
