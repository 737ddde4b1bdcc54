"""The ``stages:`` section: a run in stages (003 and 002 train a first stage, then a second one on top of it).

Each stage runs until its ``until`` step (the last one to the end of the run) with the recipe's ``loss:`` section
changed by its own ``loss:`` keys, so a stage switches parts on or off and reweights terms; which stage a step
belongs to is a pure function of the step, so ``--resume`` lands in the right one::

    stages:
      - {name: warm_up, until: 1000, loss: {depth_scale_prior: 0.1}}
      - {name: main}
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from selfdepth_ros_training.config.validate import ConfigError, build, require


@dataclass
class StageConfig:
    """One stage of a run."""

    name: str = 'main'
    """Logged as ``stage`` (its index) and named in the console."""
    until: int | None = None
    """The step this stage ends at (exclusive); None: the end of the run (the last stage only)."""
    loss: dict[str, Any] = field(default_factory=dict)
    """Keys of the recipe's ``loss:`` section this stage changes; after validation, the stage's whole weights."""


def resolve_stages(stages: tuple[StageConfig, ...], base_loss: Any, weights: type) -> tuple[StageConfig, ...]:
    """Validate the stages and give each its whole loss weights (``base_loss`` changed by its keys).

    Raises:
        ConfigError: an unnamed or repeated stage, ``until`` not increasing or missing before the last stage, or a
            bad loss key (named with the stage).
    """
    names = [s.name for s in stages]
    require(all(names) and len(set(names)) == len(names), f'stages: names must be distinct and non-empty, got {names}')
    ends = [s.until for s in stages]
    require(all(e is not None for e in ends[:-1]), 'stages: every stage but the last needs until (its last step)')
    given = [e for e in ends if e is not None]
    require(all(e >= 1 for e in given) and given == sorted(set(given)),
            f'stages: until must be increasing steps >= 1, got {ends}')
    base = dataclasses.asdict(base_loss)
    out = []
    for i, stage in enumerate(stages):
        loss = stage.loss if dataclasses.is_dataclass(stage.loss) else {**base, **stage.loss}
        try:
            typed = loss if dataclasses.is_dataclass(loss) else build(weights, loss, f'stages[{i}].loss')
        except ConfigError as exc:
            raise ConfigError(f'stage {stage.name!r}: {exc}') from None
        out.append(dataclasses.replace(stage, loss=typed))
    return tuple(out)


def stage_at(stages: tuple[StageConfig, ...], step: int) -> int:
    """Index of the stage step ``step`` (0-based) belongs to (0 without stages)."""
    for i, stage in enumerate(stages):
        if stage.until is None or step < stage.until:
            return i
    return max(len(stages) - 1, 0)
