"""Datasets of frame pairs/triplets read from rosbag2 files (:class:`BagFramesDataset`), with a decoded-frame cache."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ['make_training_dataset', 'offsets_for']


def offsets_for(frames: int, stride: int = 1) -> tuple[int, ...]:
    """Sample offsets: 2 frames → ``(0, stride)`` (an ordered pair, 001), 3 → ``(-stride, 0, stride)``."""
    if frames == 2:
        return (0, stride)
    if frames == 3:
        return (-stride, 0, stride)
    raise ValueError(f'frames must be 2 or 3, got {frames}')


def make_training_dataset(data_cfg: Any, bags: Sequence[str | Path], **overrides: Any):
    """The :class:`~training.data.dataset.BagFramesDataset` of a ``training.config.DataConfig`` over ``bags``.

    Uses ``width``, ``height``, ``frames``, ``stride``, ``min_mean_abs_diff``, the topics (``image_topic``;
    ``camera_info_topic``, ``''``/None = ignore CameraInfo) and the pair selection (``pair_selection``,
    ``max_stride``, ``min_parallax_px``) of the config; every other :class:`BagFramesDataset` argument (``K``,
    ``cache_dir``, ``max_gap_s``, ``progress`` …) can be passed as an override. Flipping is the trainer's
    augmentation, not the dataset's.
    """
    from training.data.dataset import BagFramesDataset
    kwargs = dict(offsets=offsets_for(int(data_cfg.frames), int(data_cfg.stride)),
                  min_motion=float(data_cfg.min_mean_abs_diff))
    for name in ('K', 'cache_dir', 'max_gap_s', 'image_topic', 'cache_size', 'pair_selection', 'max_stride',
                 'min_parallax_px'):
        if getattr(data_cfg, name, None) is not None:
            kwargs[name] = getattr(data_cfg, name)
    if hasattr(data_cfg, 'camera_info_topic'):
        kwargs['camera_info_topic'] = data_cfg.camera_info_topic or None
    kwargs.update(overrides)
    return BagFramesDataset(list(bags), (int(data_cfg.width), int(data_cfg.height)), **kwargs)
