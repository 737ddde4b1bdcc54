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

from selfdepth_ros.eval.metrics import DepthCaps, compute_depth_errors, scaled_prediction, valid_depth_mask

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
    moving = _as_bool_mask(moving_mask, gt.shape, 'moving_mask')
    out: dict[str, dict[str, float] | None] = {'all': None, 'static': None, 'dynamic': None}
    if not valid.any():
        return out
    scaled, scale = scaled_prediction(pred, gt, valid, caps, median_scaling)  # one ratio for both regions
    gt64 = gt.astype(np.float64)
    regions = {'all': valid, 'static': valid & ~moving,
               'dynamic': valid & dynamic_region_mask(moving_mask, min_area_fraction)}
    for name, region in regions.items():
        if region.any():
            out[name] = {**compute_depth_errors(scaled[region], gt64[region]), 'scale': scale,
                         'pixels': int(region.sum())}
    return out
