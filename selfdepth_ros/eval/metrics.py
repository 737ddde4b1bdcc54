"""The seven standard depth metrics (Eigen et al. 2014, as computed by monodepth2's ``evaluate_depth``).

For one image, with ``d`` the ground-truth and ``d*`` the (scaled, clipped) predicted depth over the N valid pixels:

- ``abs_rel``  = mean(|d − d*| / d)
- ``sq_rel``   = mean((d − d*)² / d)
- ``rmse``     = sqrt(mean((d − d*)²))                      [m]
- ``rmse_log`` = sqrt(mean((ln d − ln d*)²))
- ``a1, a2, a3`` = fraction of pixels with max(d/d*, d*/d) < 1.25, 1.25², 1.25³

Monocular (relative-scale) predictions are first multiplied by the per-image median ratio
``s = median(d) / median(d_pred)`` over the valid pixels; metric predictions are scored as they are. After
scaling the prediction is clipped to the caps ``[min_depth, max_depth]`` (monodepth2 does the same). A dataset
score is the mean of the per-image metrics (monodepth2: ``np.array(errors).mean(0)``), not a pixel-pooled mean.

KITTI crops (:func:`crop_mask`): only pixels inside the crop count, as fractions of the ground-truth size
truncated to integers and used as end-exclusive slices, exactly as monodepth2's ``evaluate_depth.py``
(``np.array([...]).astype(np.int32)``, ``mask[r0:r1, c0:c1]``):
- ``garg`` (Garg et al. ECCV 2016; the crop monodepth2 applies on its ``eigen`` split): rows
  0.40810811·H … 0.99189189·H, columns 0.03594771·W … 0.96405229·W;
- ``eigen`` (Eigen et al. NIPS 2014, as in monodepth's ``evaluate_kitti.py``): rows 0.3324324·H … 0.91351351·H,
  columns 0.0359477·W … 0.96405229·W.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRIC_NAMES: tuple[str, ...] = ('abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'a1', 'a2', 'a3')

CROPS: dict[str, tuple[float, float, float, float] | None] = {
    'none': None,
    'garg': (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    'eigen': (0.3324324, 0.91351351, 0.0359477, 0.96405229),
}
"""Crop name → (first row, end row, first column, end column) as fractions of H and W."""


def crop_bounds(shape: tuple[int, int], crop: str) -> tuple[int, int, int, int]:
    """``(r0, r1, c0, c1)`` of the crop on an H×W image: pixels ``[r0:r1, c0:c1]`` count (monodepth2's ints)."""
    if crop not in CROPS:
        raise ValueError(f'crop must be one of {sorted(CROPS)}, got {crop!r}')
    h, w = int(shape[0]), int(shape[1])
    fractions = CROPS[crop]
    if fractions is None:
        return 0, h, 0, w
    r0, r1, c0, c1 = np.array([fractions[0] * h, fractions[1] * h, fractions[2] * w, fractions[3] * w]).astype(np.int32)
    return int(r0), int(r1), int(c0), int(c1)


def crop_mask(shape: tuple[int, int], crop: str) -> np.ndarray:
    """H×W bool mask, True inside the named crop (all True for ``'none'``)."""
    r0, r1, c0, c1 = crop_bounds(shape, crop)
    mask = np.zeros(shape[:2], dtype=bool)
    mask[r0:r1, c0:c1] = True
    return mask


@dataclass(frozen=True)
class DepthCaps:
    """Depth range that counts as valid ground truth and to which predictions are clipped (metres)."""

    min_depth: float = 1e-3
    """Ground truth at or below this is ignored; predictions are clipped up to it."""
    max_depth: float = 80.0
    """Ground truth at or above this is ignored (sky, far field); predictions are clipped down to it."""

    def __post_init__(self) -> None:
        if not (0.0 < self.min_depth < self.max_depth and np.isfinite(self.max_depth)):
            raise ValueError(f'DepthCaps: need 0 < min_depth < max_depth < inf, got '
                             f'min_depth={self.min_depth}, max_depth={self.max_depth}')


def _check_depth_pair(pred: np.ndarray, gt: np.ndarray) -> None:
    if gt.ndim != 2:
        raise ValueError(f'gt must be an H×W depth map, got shape {gt.shape}')
    if pred.shape != gt.shape:
        raise ValueError(f'pred must have the shape of gt {gt.shape}, got {pred.shape} '
                         f'(resize the prediction first, e.g. with evaluate.resize_depth)')


def valid_depth_mask(pred: np.ndarray, gt: np.ndarray, caps: DepthCaps = DepthCaps()) -> np.ndarray:
    """Pixels that take part in the metrics: finite GT strictly inside the caps and a finite, positive prediction.

    Args:
        pred: H×W predicted depth (any scale); NaN/inf/≤0 marks an invalid prediction (REP 118 uses NaN).
        gt: H×W ground-truth depth in metres; NaN/inf or out-of-cap values are ignored.
    Returns:
        H×W bool mask.
    """
    _check_depth_pair(pred, gt)
    with np.errstate(invalid='ignore'):
        return (np.isfinite(gt) & (gt > caps.min_depth) & (gt < caps.max_depth)
                & np.isfinite(pred) & (pred > 0))


def median_scale(pred: np.ndarray, gt: np.ndarray) -> float:
    """Median ratio ``median(gt) / median(pred)`` over 1-D arrays of valid pixels (monodepth2's scaling)."""
    if pred.size == 0:
        raise ValueError('median_scale: no valid pixels')
    return float(np.median(gt) / np.median(pred))


def compute_depth_errors(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """The seven metrics for 1-D arrays of matching valid pixels (metres, both strictly positive).

    Args:
        pred: (N,) predicted depth, already scaled and clipped.
        gt: (N,) ground-truth depth.
    Returns:
        ``{name: value}`` for every name in :data:`METRIC_NAMES`.
    """
    if pred.shape != gt.shape or pred.ndim != 1 or pred.size == 0:
        raise ValueError(f'compute_depth_errors: pred and gt must be equal-length non-empty 1-D arrays, '
                         f'got {pred.shape} and {gt.shape}')
    pred = pred.astype(np.float64)
    gt = gt.astype(np.float64)
    thresh = np.maximum(gt / pred, pred / gt)
    diff = gt - pred
    return {
        'abs_rel': float(np.mean(np.abs(diff) / gt)),
        'sq_rel': float(np.mean(diff ** 2 / gt)),
        'rmse': float(np.sqrt(np.mean(diff ** 2))),
        'rmse_log': float(np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2))),
        'a1': float(np.mean(thresh < 1.25)),
        'a2': float(np.mean(thresh < 1.25 ** 2)),
        'a3': float(np.mean(thresh < 1.25 ** 3)),
    }


def scaled_prediction(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray, caps: DepthCaps,
                      median_scaling: bool) -> tuple[np.ndarray, float]:
    """Scale the prediction by the median ratio over ``valid`` (or by 1 when metric) and clip it to the caps.

    Returns:
        (H×W float64 scaled and clipped prediction, the scale factor used).
    """
    scale = median_scale(pred[valid], gt[valid]) if median_scaling else 1.0
    out = np.clip(pred.astype(np.float64) * scale, caps.min_depth, caps.max_depth)
    return out, scale


def frame_depth_metrics(pred: np.ndarray, gt: np.ndarray, caps: DepthCaps = DepthCaps(),
                        median_scaling: bool = True) -> dict[str, float] | None:
    """The seven metrics of one image plus ``scale`` (the median ratio used, 1.0 when metric).

    Args:
        pred: H×W predicted depth; gt: H×W ground truth in metres (same shape).
    Returns:
        the metrics dict, or None when the image has no valid pixel.
    """
    valid = valid_depth_mask(pred, gt, caps)
    if not valid.any():
        return None
    scaled, scale = scaled_prediction(pred, gt, valid, caps, median_scaling)
    return {**compute_depth_errors(scaled[valid], gt[valid].astype(np.float64)), 'scale': scale}


class DepthMetricMean:
    """Mean of per-image metric dicts over a sequence (monodepth2's accumulation), with the frame count.

    ``add(None)`` records a frame without valid pixels (counted in ``frames_skipped``).
    """

    def __init__(self) -> None:
        self._rows: list[list[float]] = []
        self._scales: list[float] = []
        self.frames_skipped = 0

    def add(self, metrics: dict[str, float] | None) -> None:
        if metrics is None:
            self.frames_skipped += 1
            return
        self._rows.append([metrics[name] for name in METRIC_NAMES])
        if 'scale' in metrics:
            self._scales.append(metrics['scale'])

    def __len__(self) -> int:
        return len(self._rows)

    def summary(self) -> dict[str, float | int] | None:
        """``{metric: mean, 'frames': n, 'frames_skipped': k, 'scale_median', 'scale_std'}``; None if empty.

        ``scale_std / scale_median`` is monodepth2's "Scaling ratios | med | std" line: the spread of the
        per-image median ratio, i.e. how scale-consistent a monocular model is across frames.
        """
        if not self._rows:
            return None
        means = np.mean(np.asarray(self._rows), axis=0)
        out: dict[str, float | int] = {name: float(v) for name, v in zip(METRIC_NAMES, means)}
        out['frames'] = len(self._rows)
        out['frames_skipped'] = self.frames_skipped
        if self._scales:
            scales = np.asarray(self._scales)
            out['scale_median'] = float(np.median(scales))
            out['scale_std'] = float(np.std(scales / np.median(scales)))
        return out
