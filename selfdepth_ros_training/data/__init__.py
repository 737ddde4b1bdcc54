"""Datasets of frame pairs/triplets read from rosbag2 files (:class:`BagFramesDataset`), with a decoded-frame cache."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ['GROUND_TRUTH_KEYS', 'build_dataset', 'consumes_ground_truth', 'offsets_for']


def offsets_for(frames: int, stride: int = 1) -> tuple[int, ...]:
    """Sample offsets: 2 frames → ``(0, stride)`` (an ordered pair, 001), 3 → ``(-stride, 0, stride)``."""
    if frames == 2:
        return (0, stride)
    if frames == 3:
        return (-stride, 0, stride)
    raise ValueError(f'frames must be 2 or 3, got {frames}')


GROUND_TRUTH_KEYS = ('depth_gt', 'moving_mask', 'motion_gt', 'semantic_gt', 'pose_gt')
"""The batch keys read from a bag's ground-truth topics (``selfdepth_ros_training.data.dataset``)."""


def consumes_ground_truth(cfg: Any, source: str | None = None) -> bool:
    """Whether any stage of the recipe's method consumes a ground-truth key on ``source``'s batches
    (``selfdepth_ros_training.methods.Method.data``; None: a source no part owns)."""
    from selfdepth_ros_training.methods import METHODS
    method = METHODS[cfg.method]
    weights = [stage.loss for stage in cfg.stages] or [cfg.loss]
    return any(k in GROUND_TRUTH_KEYS for w in weights for k in method.data(w, source))


def build_dataset(cfg: Any, bags: Sequence[str | Path], verbose: bool = True, source: str | None = None,
                  **overrides: Any):
    """The recipe's training dataset over ``bags``: frames at the net size from ``data.image_topic``, pairs
    ``(t, t+s)`` or triplets ``(t−s, t, t+s)`` (``s = data.stride``, or per frame by parallax with
    ``data.pair_selection: parallax``); ground truth is loaded only where the recipe's method consumes it on the
    batches of ``source`` (a ``data.alternate`` name, e.g. 004's supervised ``synthetic``), or with ``load_gt=True``.

    ``cfg`` is a ``selfdepth_ros_training.config.TrainConfig``; ``overrides`` are further
    :class:`~selfdepth_ros_training.data.dataset.BagFramesDataset` arguments (``load_gt``, ``cache_dir``, ...). ``verbose``
    prints the one-line selection summary (rank 0 only under torchrun). Flipping is the trainer's augmentation,
    not the dataset's.
    """
    from selfdepth_ros_training.data.dataset import BagFramesDataset
    d = cfg.data
    kwargs: dict[str, Any] = dict(offsets=offsets_for(int(d.frames), int(d.stride)),
                                  min_motion=float(d.min_mean_abs_diff), image_topic=d.image_topic,
                                  camera_info_topic=d.camera_info_topic or None,
                                  pair_selection=d.pair_selection, max_stride=d.max_stride,
                                  min_parallax_px=d.min_parallax_px, load_gt=consumes_ground_truth(cfg, source),
                                  progress=cfg.log.progress_bar)
    kwargs.update(overrides)
    ds = BagFramesDataset(list(bags), (int(d.width), int(d.height)), **kwargs)
    if verbose and int(os.environ.get('RANK', '0')) == 0:
        print(ds.selection_summary())
    return ds
