"""004's supervised depth loss on synthetic frames, eq. (5): ``L_task = ‖f_T(x_s) − y_s‖₁``.

Scale-aware: the synthetic world's ``/gt/depth`` is metric, so the prediction is compared in metres as it is, with
no median or least-squares scaling (that is what lets synthetic supervision fix the depth scale the
self-supervised objective leaves free). As 004 does after T²Net, the ground truth is clipped to
``[min_depth, max_depth]`` (the simulator writes its sky at 1000 m); pixels without ground truth (non-finite or
≤ 0) are left out of the mean.
"""
from __future__ import annotations

import torch

from selfdepth_ros.geometry.checks import check_shape
from selfdepth_ros_training.config.loss import SupervisedDepthWeights

__all__ = ['supervised_depth_l1']

_DEFAULTS = SupervisedDepthWeights()


def supervised_depth_l1(depth: torch.Tensor, gt: torch.Tensor, min_depth: float = _DEFAULTS.supervised_min_depth,
                        max_depth: float = _DEFAULTS.supervised_max_depth) -> torch.Tensor:
    """Eq. (5): the mean over pixels with ground truth of ``|depth − clip(gt, min_depth, max_depth)|``, metres.

    Args:
        depth: N×1×H×W predicted depth, metres.
        gt: N×1×H×W ground-truth depth, metres; non-finite or ≤ 0 where there is none.
    Returns:
        A scalar; 0 (still differentiable) when no pixel has ground truth.
    Raises:
        ValueError: shapes differ, or the clip range is not 0 < min_depth < max_depth.
    """
    check_shape('depth', depth, ['N', '1', 'H', 'W'])
    if gt.shape != depth.shape:
        raise ValueError(f'gt must have the shape of depth {tuple(depth.shape)}, got {tuple(gt.shape)}')
    if not 0.0 < min_depth < max_depth:
        raise ValueError(f'need 0 < min_depth < max_depth, got {min_depth}, {max_depth}')
    gt = gt.to(depth.dtype)
    valid = torch.isfinite(gt) & (gt > 0)
    target = torch.where(valid, gt, torch.ones_like(gt)).clamp(min_depth, max_depth)
    error = (depth - target).abs() * valid
    return error.sum() / valid.sum().clamp_min(1)
