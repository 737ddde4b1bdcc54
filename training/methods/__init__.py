"""How a batch becomes losses: one module per training method, found by name (the recipe's ``method``).

Every module of this package that defines ``METHOD = Method(...)`` is a method; its name is the module's. A method
declares everything the recipe, the data and the trainer need to know about it, in one place:

- ``frames``: frames per sample (``data.frames`` defaults to it and must agree);
- ``weights``: the dataclass of its ``loss:`` section, with the defaults (``training.config.loss``);
- ``build(weights)``: the step callable ``step(batch, nets) -> StepOutput``, ``nets`` the named nets
  (``'depth'``, ``'motion'``; possibly DDP-wrapped, so a step calls each once on the whole stacked batch).

Adding a method is one new module here plus its recipe in ``config/train/``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

from training.methods.common import StepOutput

Step = Callable[[dict[str, Any], dict[str, Any]], StepOutput]


@dataclass(frozen=True)
class Method:
    """A registered training method (see the module docstring)."""

    name: str
    frames: int
    weights: type
    build: Callable[[Any], Step]


def _discover() -> dict[str, Method]:
    found: dict[str, Method] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f'{__name__}.{info.name}')
        method = getattr(module, 'METHOD', None)
        if isinstance(method, Method):
            if method.name != info.name:
                raise TypeError(f'{module.__name__}: METHOD.name {method.name!r} must be the module name')
            found[method.name] = method
    return dict(sorted(found.items()))


METHODS: dict[str, Method] = _discover()
"""Every method, by name."""


def build_method(cfg: Any) -> Step:
    """The step callable of ``cfg.method`` with the weights ``cfg.loss``."""
    if cfg.method not in METHODS:
        raise ValueError(f'unknown method {cfg.method!r}; expected one of {sorted(METHODS)}')
    return METHODS[cfg.method].build(cfg.loss)


__all__ = ['METHODS', 'Method', 'Step', 'StepOutput', 'build_method']
