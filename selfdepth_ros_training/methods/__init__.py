"""How a batch becomes losses: one module per training method, found by name (the recipe's ``method``).

Every module of this package that defines ``METHOD = Method(...)`` is a method, named as its module: a base
objective plus switchable parts (``selfdepth_ros_training.methods.parts``), each declaring its typed weights, the frames it
needs, the nets it adds and the data it consumes. The recipe, the data and the trainer read those declarations
from here and nowhere else. Adding a method is one new module here plus its recipe in ``config/train/``; a new
part is a ``Part`` in its own module, listed in the methods that offer it.

A step is ``method.build(weights)(batch, nets) -> StepOutput`` with ``nets`` the named nets (``'depth'``,
``'motion'``, and any a part adds), possibly DDP-wrapped: a step calls each once on the whole stacked batch.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.parts import ComposedStep, Method, Objective, Part


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


def build_method(cfg: Any) -> ComposedStep:
    """The step callable of ``cfg.method`` with the weights ``cfg.loss``."""
    if cfg.method not in METHODS:
        raise ValueError(f'unknown method {cfg.method!r}; expected one of {sorted(METHODS)}')
    return METHODS[cfg.method].build(cfg.loss)


__all__ = ['METHODS', 'ComposedStep', 'Method', 'Objective', 'Part', 'StepOutput', 'build_method']
