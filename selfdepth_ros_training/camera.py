"""The run's camera: the bags' own CameraInfo where they have it, the learned intrinsics (001) where not.

The learned-intrinsics head is on when ANY bag lacks CameraInfo (mixed runs: each sample uses its bag's K when it
has one, the learned K otherwise, see ``selfdepth_ros_training.methods.common.select_intrinsics``). The checkpoint's camera is
the CameraInfo of the first bag that has one: measured beats learned; the learned EMA (only over samples without
CameraInfo) is the checkpoint's camera when no bag has CameraInfo, and is kept in
``train_config['learned_camera']``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

__all__ = ['CameraFacts', 'camera_facts', 'learned_camera_ema']


@dataclass(frozen=True)
class CameraFacts:
    """Of one dataset: whether some of its samples need learned intrinsics, and its CameraInfo camera if any."""

    lacking: int
    """Bags without CameraInfo among those the samples use (0: all have it)."""
    used: int
    """Bags the samples use."""
    lacking_names: tuple[str, ...]
    """Paths of (up to three) bags without CameraInfo, for the message."""
    camera: dict[str, Any] | None
    """``{'K', 'width', 'height'}`` of the first bag with CameraInfo, or None."""


def camera_facts(base: Any) -> CameraFacts:
    """Per-bag facts from the dataset's ``bag_has_intrinsics``/``samples`` (``BagFramesDataset``); any other
    dataset is judged by its first sample (``base`` un-augmented: an item's K is never the flipped one)."""
    first = base[0]
    per_bag, samples = getattr(base, 'bag_has_intrinsics', None), getattr(base, 'samples', None)
    if per_bag is not None and samples is not None:
        used = sorted({bag for bag, _ in samples})
        given, lacking = [u for u in used if per_bag[u]], [u for u in used if not per_bag[u]]
        names = tuple(str(base.indexes[u].path) for u in lacking[:3]) if hasattr(base, 'indexes') else ()
    else:
        used, names = [0], ()
        given, lacking = ([0], []) if bool(first['has_intrinsics']) else ([], [0])
    camera = None
    if given:
        item = first if per_bag is None else base[next(n for n, (bag, _) in enumerate(samples) if bag == given[0])]
        _, _, h, w = item['images'].shape
        camera = {'K': item['K'].double().tolist(), 'width': w, 'height': h}
    return CameraFacts(len(lacking), len(used), names, camera)


def learned_camera_ema(previous: dict[str, Any] | None, K: torch.Tensor, height: int, width: int,
                       rows: torch.Tensor, flipped: torch.Tensor | None) -> dict[str, Any] | None:
    """The learned camera after one more batch: exponential moving average (0.99) of the learned intrinsics ``K``
    (B×3×3) over the samples ``rows`` (without CameraInfo), ``flipped`` samples' cx mirrored back first; the
    previous value when no row counts."""
    K = K.detach().double().cpu().clone()
    if flipped is not None:
        K[flipped, 0, 2] = (width - 1) - K[flipped, 0, 2]
    if not bool(rows.any()):
        return previous
    mean = K[rows].mean(0)
    ema = mean if previous is None else 0.99 * torch.tensor(previous['K'], dtype=torch.float64) + 0.01 * mean
    return {'K': ema.tolist(), 'width': width, 'height': height}
