"""Relative depth as per-image quantile classes (seed 000, §3): bin ``k`` holds the pixels whose depth lies between
the image's ``k/n`` and ``(k+1)/n`` quantiles ("a bin index of 5 means the depth is greater than 50 % of the other
pixels"), and the accuracy of predicted bins against bins of ground-truth depth.

Pure functions on tensors; the training part ``relative_depth`` and the evaluation both use them.
"""
from __future__ import annotations

import torch

__all__ = ['INVALID_BIN', 'quantile_bins', 'bins_accuracy']

INVALID_BIN = -1
"""The bin of a pixel without a valid depth (non-finite or ≤ 0): ``ignore_index`` of the NLL."""


def quantile_bins(depth: torch.Tensor, bins: int = 10) -> torch.Tensor:
    """Per image, each valid pixel's quantile class of depth.

    Args:
        depth: N×1×H×W depth (any positive unit; only its order matters); non-finite or ≤ 0 = invalid.
        bins: number of classes (000: 10).
    Returns:
        N×1×H×W int64 in ``0..bins-1`` (``INVALID_BIN`` where invalid): ``floor(bins · rank / count)`` with
        ``rank`` the pixel's 0-based rank among the image's valid pixels (ties broken by position), so every
        bin holds ``count / bins`` pixels when ``bins`` divides ``count``.
    Raises:
        ValueError: ``depth`` is not N×1×H×W or ``bins < 2``.
    """
    if depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError(f'depth must be N×1×H×W, got {tuple(depth.shape)}')
    if bins < 2:
        raise ValueError(f'bins must be >= 2, got {bins}')
    flat = depth.detach().flatten(1)
    valid = torch.isfinite(flat) & (flat > 0)
    key = torch.where(valid, flat, torch.full_like(flat, float('inf')))  # invalid pixels rank last
    order = key.argsort(dim=1, stable=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(flat.shape[1], device=flat.device).expand_as(order))
    count = valid.sum(dim=1, keepdim=True).clamp_min(1)
    out = torch.div(rank * bins, count, rounding_mode='floor').clamp_max(bins - 1)
    return torch.where(valid, out, torch.full_like(out, INVALID_BIN)).view_as(depth)


def bins_accuracy(pred_bins: torch.Tensor, gt_depth: torch.Tensor, bins: int = 10) -> dict[str, float]:
    """Per-pixel and ±1-bin accuracy of predicted bins against the quantile bins of ground-truth depth.

    Args:
        pred_bins: N×1×H×W int bin indices (e.g. the head's argmax).
        gt_depth: N×1×H×W ground-truth depth; pixels without it (non-finite or ≤ 0) are left out.
    Returns:
        ``{'bins_acc': …, 'bins_acc1': …, 'pixels': …}`` (fractions of the valid pixels; NaN when none).
    """
    if pred_bins.shape != gt_depth.shape:
        raise ValueError(f'pred_bins {tuple(pred_bins.shape)} and gt_depth {tuple(gt_depth.shape)} must match')
    gt = quantile_bins(gt_depth, bins)
    valid = gt != INVALID_BIN
    n = int(valid.sum())
    if n == 0:
        return {'bins_acc': float('nan'), 'bins_acc1': float('nan'), 'pixels': 0}
    diff = (pred_bins.long() - gt).abs()[valid]
    return {'bins_acc': float((diff == 0).float().mean()), 'bins_acc1': float((diff <= 1).float().mean()),
            'pixels': n}
