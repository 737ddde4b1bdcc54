"""Input checks shared by geometry and losses: errors name the argument and the expected shape.

Hand-written instead of ``kornia.core.check.KORNIA_CHECK_SHAPE`` because that one prints the whole tensor
in its message; ours prints the argument name, the expected pattern and the received shape.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ['check_shape', 'check_same_batch', 'check_floating']


def _fmt(pattern: Sequence[str]) -> str:
    return '×'.join(pattern)


def check_shape(name: str, x: object, pattern: Sequence[str]) -> dict[str, int]:
    """Check that ``x`` is a tensor whose shape matches ``pattern`` and return the symbol sizes.

    ``pattern`` items are either digit strings (a fixed size, e.g. ``'3'``) or symbols (``'B'``, ``'H'``) that
    must be equal wherever they repeat within the pattern.

    Raises:
        TypeError: ``x`` is not a ``torch.Tensor``.
        ValueError: wrong rank or size, message ``"<name> must have shape B×3×H×W, got (2, 1, 4, 5)"``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{name} must be a torch.Tensor of shape {_fmt(pattern)}, got {type(x).__name__}')
    shape = tuple(x.shape)
    bad = len(shape) != len(pattern)
    sizes: dict[str, int] = {}
    if not bad:
        for sym, n in zip(pattern, shape):
            if sym.isdigit():
                bad |= int(sym) != n
            elif sizes.setdefault(sym, n) != n:
                bad = True
    if bad:
        raise ValueError(f'{name} must have shape {_fmt(pattern)}, got {shape}')
    return sizes


def check_same_batch(**tensors: torch.Tensor) -> int:
    """Check that all given tensors share their first (batch) dimension and return it."""
    sizes = {k: int(v.shape[0]) for k, v in tensors.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f'batch sizes differ: {sizes}')
    return next(iter(sizes.values()))


def check_floating(name: str, x: torch.Tensor) -> None:
    """Check that ``x`` has a floating dtype (float32 / float64 / half)."""
    if not x.is_floating_point():
        raise TypeError(f'{name} must be a floating-point tensor, got {x.dtype}')
