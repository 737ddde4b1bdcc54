"""Motion-field metrics for the per-pixel object translation ``T_obj`` (docs/CONVENTIONS.md, 001's convention).

- ``epe``: end-point error ‖T_obj_pred − T_obj_gt‖ (metres per frame interval) averaged over moving pixels.
- ``static_near_zero``: fraction of static pixels whose predicted ‖T_obj‖ is below ``static_threshold``
  (default 0.05 m per frame): 001's sparsity prior says the field should vanish on the static scene.
Moving pixels are the moving-object mask when given, else the pixels where the ground truth is non-zero.
Over a sequence the pixels are pooled (sum of errors / number of pixels), so frames with few moving pixels
weigh less, as in optical-flow EPE over a dataset.
"""
from __future__ import annotations

import numpy as np

STATIC_MOTION_THRESHOLD = 0.05


def _check_field(field: np.ndarray, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    if field.ndim != 3 or field.shape[2] != 3:
        raise ValueError(f'{name} must be an H×W×3 translation field, got shape {field.shape}')
    if shape is not None and field.shape != shape:
        raise ValueError(f'{name} must have shape {shape}, got {field.shape}')
    return field.astype(np.float64)


def moving_pixels(gt_motion: np.ndarray, moving_mask: np.ndarray | None = None) -> np.ndarray:
    """H×W bool: the moving-object mask (non-zero) if given, else where ``gt_motion`` is non-zero."""
    if moving_mask is not None:
        if moving_mask.shape != gt_motion.shape[:2]:
            raise ValueError(f'moving_mask must be H×W {gt_motion.shape[:2]}, got {moving_mask.shape}')
        return moving_mask != 0
    return np.linalg.norm(np.nan_to_num(gt_motion), axis=2) > 0


class MotionFieldMetrics:
    """Pooled motion-field metrics over frames; see the module docstring for the definitions."""

    def __init__(self, static_threshold: float = STATIC_MOTION_THRESHOLD) -> None:
        if static_threshold <= 0:
            raise ValueError(f'static_threshold must be > 0 m, got {static_threshold}')
        self.static_threshold = static_threshold
        self._epe_sum = 0.0
        self._moving = 0
        self._near_zero = 0
        self._static = 0
        self.frames = 0

    def add(self, pred_motion: np.ndarray, gt_motion: np.ndarray, moving_mask: np.ndarray | None = None,
            scale: float = 1.0) -> dict[str, float | None]:
        """Score one frame and add it to the totals.

        Args:
            pred_motion: H×W×3 predicted ``T_obj`` (network units). gt_motion: H×W×3 ground truth (metres).
            moving_mask: optional H×W, non-zero on moving objects.
            scale: factor bringing the prediction to metres (the frame's depth median ratio for a monocular
                model: translations scale with depth).
        Returns:
            this frame's ``{'epe', 'static_near_zero'}`` (None where the frame has no such pixels).
        """
        gt = _check_field(gt_motion, 'gt_motion')
        pred = _check_field(pred_motion, 'pred_motion', gt.shape) * scale
        finite = np.isfinite(pred).all(axis=2) & np.isfinite(gt).all(axis=2)
        moving = moving_pixels(gt_motion, moving_mask) & finite
        static = ~moving_pixels(gt_motion, moving_mask) & finite
        epe = np.linalg.norm(pred[moving] - gt[moving], axis=1)
        near_zero = np.linalg.norm(pred[static], axis=1) < self.static_threshold
        self._epe_sum += float(epe.sum())
        self._moving += int(epe.size)
        self._near_zero += int(near_zero.sum())
        self._static += int(near_zero.size)
        self.frames += 1
        return {'epe': float(epe.mean()) if epe.size else None,
                'static_near_zero': float(near_zero.mean()) if near_zero.size else None}

    def summary(self) -> dict[str, float | int | None] | None:
        """``{'epe', 'static_near_zero', 'static_threshold', 'moving_pixels', 'static_pixels', 'frames'}``."""
        if self.frames == 0:
            return None
        return {'epe': self._epe_sum / self._moving if self._moving else None,
                'static_near_zero': self._near_zero / self._static if self._static else None,
                'static_threshold': self.static_threshold, 'moving_pixels': self._moving,
                'static_pixels': self._static, 'frames': self.frames}
