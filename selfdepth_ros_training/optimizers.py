"""The run's optimisers by name: ``main`` trains depth, motion and the parts' nets that name no optimiser of their
own; each other name (``selfdepth_ros_training.methods.Part.optimizer``) trains its parts' nets on its own objective.

One step back-propagates each objective into its own optimiser's parameters only (``backward(inputs=...)``), so a
GAN critic's loss never moves the depth net and the depth loss never moves the critic; with only ``main`` it is
the plain ``total.backward()`` (the DDP path; several optimisers under DDP are untested).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

MAIN = 'main'
SCALE_NAMES = ('log_rotation_scale', 'log_translation_scale')


def build_optimizers(optim: Any, nets: Mapping[str, nn.Module], owned: Mapping[str, tuple[str, ...]]
                     ) -> dict[str, torch.optim.Optimizer]:
    """Adam per optimiser (``optim`` is the recipe's section). ``main``: every trainable weight of the nets no other
    optimiser ``owned`` at ``optim.lr`` (the depth net at ``optim.lr × optim.depth_lr_factor``), the motion net's
    log output scales at ``optim.lr × optim.output_scale_lr_factor``; every other optimiser its nets at ``optim.lr``. Each group keeps its
    ``base_lr`` for the decay schedule."""
    others = {net for names in owned.values() for net in names}
    scales = [p for n, p in nets['motion'].named_parameters() if n in SCALE_NAMES and p.requires_grad]
    ids = {id(p) for p in scales}
    depth_apart = optim.depth_lr_factor != 1.0
    weights = [p for name, net in nets.items() if name not in others and not (depth_apart and name == 'depth')
               for p in net.parameters() if p.requires_grad and id(p) not in ids]
    groups = [{'params': weights, 'lr': optim.lr, 'base_lr': optim.lr}]
    if depth_apart:
        lr = optim.lr * optim.depth_lr_factor
        depth = [p for p in nets['depth'].parameters() if p.requires_grad]
        groups.append({'params': depth, 'lr': lr, 'base_lr': lr})
    if scales:
        lr = optim.lr * optim.output_scale_lr_factor
        groups.append({'params': scales, 'lr': lr, 'base_lr': lr})
    kwargs = dict(betas=(optim.beta1, optim.beta2), weight_decay=optim.weight_decay)
    out = {MAIN: torch.optim.Adam(groups, **kwargs)}
    for name, owned_nets in owned.items():
        params = [p for net in owned_nets for p in nets[net].parameters() if p.requires_grad]
        out[name] = torch.optim.Adam([{'params': params, 'lr': optim.lr, 'base_lr': optim.lr}], **kwargs)
    return out


def set_learning_rates(optimizers: Mapping[str, torch.optim.Optimizer], optim: Any, step: int) -> None:
    """``base_lr × lr_decay_factor ** (decay steps passed)`` in every group of every optimiser."""
    decays = sum(step >= s for s in optim.lr_decay_steps)
    for opt in optimizers.values():
        for group in opt.param_groups:
            group['lr'] = group['base_lr'] * optim.lr_decay_factor ** decays


def step_optimizers(optimizers: Mapping[str, torch.optim.Optimizer], objectives: Mapping[str, torch.Tensor],
                    clip_norm: float) -> torch.Tensor:
    """Zero, back-propagate each objective into its optimiser's parameters, clip each optimiser's global gradient
    norm to ``clip_norm`` (0: no clipping) and step; returns the main optimiser's gradient norm (NaN unclipped).

    Raises:
        KeyError: an objective names an optimiser the run does not have.
    """
    unknown = sorted(set(objectives) - set(optimizers))
    if unknown:
        raise KeyError(f'loss terms for optimiser(s) {unknown}, the run has {sorted(optimizers)}')
    params = {name: [p for g in opt.param_groups for p in g['params']] for name, opt in optimizers.items()}
    for opt in optimizers.values():
        opt.zero_grad(set_to_none=True)
    if len(optimizers) == 1:
        objectives[MAIN].backward()
    else:
        for i, (name, value) in enumerate(objectives.items()):
            value.backward(inputs=params[name], retain_graph=i < len(objectives) - 1)
    norms = {}
    for name, opt in optimizers.items():
        norms[name] = torch.nn.utils.clip_grad_norm_(params[name], clip_norm) if clip_norm > 0 \
            else torch.tensor(float('nan'))
        opt.step()
    return norms[MAIN]
