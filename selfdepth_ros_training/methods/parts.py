"""A method = a base objective + switchable parts: the types, and how a step runs them.

Each objective and part declares, in one place:

- ``weights``: the dataclass of its typed ``loss:`` keys with their defaults (``selfdepth_ros_training.config.loss`` for the
  shipped ones); a method's ``loss:`` section is all of them side by side (:func:`~selfdepth_ros_training.config.loss.compose`);
- ``frames``: frames per sample it needs (None: any; a method's count is its objective's, and parts must agree);
- ``nets``: the nets it adds, by name, each built from the recipe's ``ModelConfig`` (the trainer holds every net
  by name, checkpoints store them by name, the runtime loads only ``depth`` and ``motion``);
- ``data``: the batch keys it consumes (``'depth_gt'``, ``'semantic_gt'``, … as ``selfdepth_ros_training.data`` names them), so
  a recipe whose data cannot supply them fails before the first step;
- ``optimizer``: the name of the optimiser that trains its nets (None: the main one, with depth and motion). A
  term it returns named ``'<optimizer>/<term>'`` is that optimiser's objective, not the main ``'total'`` (a GAN's
  critic loss); each optimiser's objective reaches only its own nets' gradients;
- ``source`` and ``step``: a part may own the batches of one data source (``data.alternate``): on that source's
  steps its own ``step`` is the whole objective and neither the base objective nor the other parts run (004's
  alternating optimiser steps: supervised on synthetic ground truth, self-supervised on real frames); its
  ``data`` is what that source must supply, and the other sources need none of it.

The objective turns a batch into a :class:`StepOutput`; every enabled part then adds its weighted terms to
``losses`` (and to ``'total'``), reading what the objective predicted. Where a later method needs more than one
loss per step, the seams are the optimiser-named terms above and the batch's ``source`` (which data source the
step's batch came from, ``selfdepth_ros_training.mixing.Alternation``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from selfdepth_ros_training.config.loss import compose
from selfdepth_ros_training.methods.common import StepOutput

NetBuilder = Callable[[Any], torch.nn.Module]
"""Builds a net from the recipe's ``ModelConfig``."""
Terms = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Objective:
    """The base objective: ``step(weights)`` returns ``(batch, nets) -> StepOutput``."""

    name: str
    weights: type
    step: Callable[[Any], Callable[[dict[str, Any], Mapping[str, Any]], StepOutput]]
    frames: int
    data: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """A switchable part: ``apply(weights, batch, out, nets)`` returns its weighted loss terms by name; it runs
    only when ``enabled(weights)``."""

    name: str
    weights: type
    apply: Callable[[Any, dict[str, Any], StepOutput, Mapping[str, Any]], Terms]
    enabled: Callable[[Any], bool]
    frames: int | None = None
    nets: Mapping[str, NetBuilder] = field(default_factory=dict)
    data: tuple[str, ...] = ()
    optimizer: str | None = None
    source: Callable[[Any], str] | None = None
    """The data source whose batches the part owns, from its weights (None: it owns none)."""
    step: Callable[[Any], Callable[[dict[str, Any], Mapping[str, Any]], StepOutput]] | None = None
    """With ``source``: ``step(weights)`` returns ``(batch, nets) -> StepOutput`` for the owned source's steps."""

    def __post_init__(self) -> None:
        if (self.source is None) != (self.step is None):
            raise TypeError(f'part {self.name!r}: a part owning a data source needs both source and step')


@dataclass(frozen=True)
class Method:
    """A registered training method: an objective and its parts (``METHOD = Method(...)`` in a module of
    ``selfdepth_ros_training/methods``; its name is the module's)."""

    name: str
    objective: Objective
    parts: tuple[Part, ...] = ()
    weights: type = field(init=False)
    """The ``loss:`` section: the objective's and the parts' weights in one dataclass."""

    def __post_init__(self) -> None:
        for part in self.parts:
            if part.frames is not None and part.frames != self.objective.frames:
                raise TypeError(f'method {self.name!r}: part {part.name!r} needs {part.frames} frames per sample, '
                                f'objective {self.objective.name!r} uses {self.objective.frames}')
        title = ''.join(w.title() for w in self.name.split('_')) + 'Loss'
        object.__setattr__(self, 'weights', compose(title, self.objective.weights, *(p.weights for p in self.parts)))

    @property
    def frames(self) -> int:
        """Frames per sample: the one place the count is declared (the objective's)."""
        return self.objective.frames

    def enabled_parts(self, weights: Any) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.enabled(weights))

    def nets(self, weights: Any) -> dict[str, NetBuilder]:
        """The nets the enabled parts add, by name (the trainer always holds ``depth`` and ``motion``)."""
        out: dict[str, NetBuilder] = {}
        for part in self.enabled_parts(weights):
            for name, builder in part.nets.items():
                if name in out or name in ('depth', 'motion'):
                    raise TypeError(f'method {self.name!r}: net {name!r} is added twice (part {part.name!r})')
                out[name] = builder
        return out

    def optimizers(self, weights: Any) -> dict[str, tuple[str, ...]]:
        """The optimisers besides the main one, by name, with the nets each trains (the enabled parts')."""
        out: dict[str, tuple[str, ...]] = {}
        for part in self.enabled_parts(weights):
            if part.optimizer is not None:
                if part.optimizer == 'main' or not part.nets:
                    raise TypeError(f'method {self.name!r}: part {part.name!r} names optimiser {part.optimizer!r}; '
                                    "it must add nets for it and not be called 'main'")
                out[part.optimizer] = out.get(part.optimizer, ()) + tuple(part.nets)
        return out

    def owners(self, weights: Any) -> dict[str, Part]:
        """The data sources an enabled part owns (``Part.source``), by name, and that part."""
        out: dict[str, Part] = {}
        for part in self.enabled_parts(weights):
            if part.source is not None:
                name = part.source(weights)
                if name in out:
                    raise TypeError(f'method {self.name!r}: source {name!r} is owned by both part '
                                    f'{out[name].name!r} and part {part.name!r}')
                out[name] = part
        return out

    def data(self, weights: Any, source: str | None = None) -> tuple[str, ...]:
        """The batch keys the steps on ``source``'s batches consume: the owning part's (``Part.source``), else the
        objective's and those of the enabled parts that own no source (``source`` None: a source no part owns)."""
        owner = self.owners(weights).get(source) if source is not None else None
        if owner is not None:
            return tuple(owner.data)
        keys = list(self.objective.data)
        for part in self.enabled_parts(weights):
            if part.source is None:
                keys += [k for k in part.data if k not in keys]
        return tuple(keys)

    def build(self, weights: Any) -> 'ComposedStep':
        """The step callable ``(batch, nets) -> StepOutput`` for these weights."""
        owned = {name: part.step(weights) for name, part in self.owners(weights).items()}
        return ComposedStep(self.objective.step(weights), self.enabled_parts(weights), weights, owned)


class ComposedStep:
    """The objective's step, then each enabled part's terms added to ``losses`` and ``'total'``; on the batches of
    a source a part owns (``batch['source']``), that part's own step instead."""

    def __init__(self, objective: Callable[..., StepOutput], parts: tuple[Part, ...], weights: Any,
                 owned: Mapping[str, Callable[..., StepOutput]] | None = None) -> None:
        self.objective, self.parts, self.weights = objective, parts, weights
        self.owned = dict(owned or {})

    def __call__(self, batch: dict[str, Any], nets: Mapping[str, Any]) -> StepOutput:
        if batch.get('source') in self.owned:
            return self.owned[batch['source']](batch, nets)
        out = self.objective(batch, nets)
        for part in self.parts:
            terms = part.apply(self.weights, batch, out, nets)
            clash = sorted(set(terms) & set(out.losses))
            if clash:
                raise KeyError(f'part {part.name!r} returns loss terms that already exist: {clash}')
            out.losses.update(terms)
            for name, term in terms.items():
                optimizer = name.split('/')[0] if '/' in name else None
                if optimizer is None:
                    out.losses['total'] = out.losses['total'] + term
                else:
                    out.totals[optimizer] = out.totals.get(optimizer, 0) + term
        return out
