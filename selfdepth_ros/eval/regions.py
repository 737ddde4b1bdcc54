"""Static / dynamic split of the depth metrics (the protocol of seed 002, Nguyen et al., CVPR 2024).

- One median ratio per image, computed over **all** valid pixels, scales the prediction for both regions, so a
  model whose moving objects sit at a different scale from the background is penalised in the dynamic region.
- Dynamic region: the moving-object mask, keeping only objects (8-connected components of the mask) covering at
  least ``min_area_fraction`` (0.5 %) of the image; tiny specks are too few pixels to score reliably.
- Static region: valid pixels outside the moving-object mask (specks below the area threshold are in neither
  region: they are not static, and too small to count as dynamic).
"""
from __future__ import annotations

import cv2
import numpy as np

from selfdepth_ros.eval.metrics import (DepthCaps, DepthMetricMean, compute_depth_errors, scaled_prediction,
                                        valid_depth_mask)

MIN_DYNAMIC_AREA_FRACTION = 0.005


def _as_bool_mask(mask: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    if mask.shape != shape:
        raise ValueError(f'{name} must be an H×W mask of shape {shape}, got {mask.shape}')
    return mask.astype(bool)


def dynamic_region_mask(moving_mask: np.ndarray, min_area_fraction: float = MIN_DYNAMIC_AREA_FRACTION) -> np.ndarray:
    """Moving-object pixels belonging to objects of at least ``min_area_fraction`` of the image.

    Args:
        moving_mask: H×W mask, non-zero (e.g. 255) on moving objects.
        min_area_fraction: minimum area of one connected object, as a fraction of H·W.
    Returns:
        H×W bool mask of the dynamic region.
    """
    if moving_mask.ndim != 2:
        raise ValueError(f'moving_mask must be H×W, got shape {moving_mask.shape}')
    if not 0.0 <= min_area_fraction < 1.0:
        raise ValueError(f'min_area_fraction must be in [0, 1), got {min_area_fraction}')
    binary = (moving_mask != 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    min_area = min_area_fraction * moving_mask.size
    keep = np.zeros(n, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area  # label 0 is the background
    return keep[labels]


def region_masks(valid: np.ndarray, moving_mask: np.ndarray | None,
                 min_area_fraction: float = MIN_DYNAMIC_AREA_FRACTION) -> dict[str, np.ndarray]:
    """The pixel sets scored for one image: ``{'all': valid}``, plus ``static`` and ``dynamic`` with a mask.

    Args:
        valid: H×W bool, the pixels that count (e.g. :func:`~selfdepth_ros.eval.metrics.valid_depth_mask`).
        moving_mask: H×W, non-zero on moving objects, or None (no split).
    """
    if moving_mask is None:
        return {'all': valid}
    moving = _as_bool_mask(moving_mask, valid.shape, 'moving_mask')
    return {'all': valid, 'static': valid & ~moving,
            'dynamic': valid & dynamic_region_mask(moving_mask, min_area_fraction)}


def masked_depth_metrics(pred: np.ndarray, gt: np.ndarray, masks: dict[str, np.ndarray], caps: DepthCaps = DepthCaps(),
                         median_scaling: bool = True) -> dict[str, dict[str, float] | None]:
    """The seven metrics over each pixel set of :func:`region_masks`, with one median ratio over ``masks['all']``.

    Returns:
        ``{name: m}`` per mask, each a metrics dict with ``scale`` and ``pixels``, or None when that set is empty.
    """
    out: dict[str, dict[str, float] | None] = {name: None for name in masks}
    valid = masks['all']
    if not valid.any():
        return out
    scaled, scale = scaled_prediction(pred, gt, valid, caps, median_scaling)  # one ratio for every region
    gt64 = gt.astype(np.float64)
    for name, region in masks.items():
        if region.any():
            out[name] = {**compute_depth_errors(scaled[region], gt64[region]), 'scale': scale,
                         'pixels': int(region.sum())}
    return out


def region_depth_metrics(pred: np.ndarray, gt: np.ndarray, moving_mask: np.ndarray, caps: DepthCaps = DepthCaps(),
                         median_scaling: bool = True, min_area_fraction: float = MIN_DYNAMIC_AREA_FRACTION,
                         ) -> dict[str, dict[str, float] | None]:
    """The seven metrics over all valid pixels, the static region and the dynamic region of one image.

    Args:
        pred: H×W predicted depth; gt: H×W ground-truth depth (m); moving_mask: H×W, non-zero on moving objects.
    Returns:
        ``{'all': m, 'static': m, 'dynamic': m}``, each a metrics dict with ``scale`` (the one shared median
        ratio) and ``pixels``, or None when that region has no valid pixel.
    """
    valid = valid_depth_mask(pred, gt, caps)
    _as_bool_mask(moving_mask, gt.shape, 'moving_mask')
    return masked_depth_metrics(pred, gt, region_masks(valid, moving_mask, min_area_fraction), caps, median_scaling)


class RegionMetricMeans:
    """Sequence means of the per-image region metrics (JSON keys ``depth``, ``depth_static``, ``depth_dynamic``).

    A frame scored with a moving-object mask counts in ``static`` (skipped there when it has no static pixel);
    it counts in ``dynamic`` only when it has a dynamic region: frames without a moving object say nothing
    about it. ``add({'all': None})`` records a frame without any valid pixel.
    """

    def __init__(self) -> None:
        self.all, self.static, self.dynamic = DepthMetricMean(), DepthMetricMean(), DepthMetricMean()
        self.split = False
        """Whether any frame came with a moving-object mask."""

    def add(self, regions: dict[str, dict[str, float] | None]) -> None:
        self.all.add(regions['all'])
        if 'static' in regions:
            self.split = True
            self.static.add(regions['static'])
            if regions.get('dynamic') is not None:
                self.dynamic.add(regions['dynamic'])

    def summary(self) -> dict[str, dict | None]:
        return {'depth': self.all.summary(),
                'depth_static': self.static.summary() if self.split else None,
                'depth_dynamic': self.dynamic.summary() if self.split else None}
