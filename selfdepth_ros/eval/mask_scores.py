"""Scores of a moving-object mask against ``/gt/moving_mask`` (issue 13 item 3, 003 §3.4's SPIMO masks), and the
issue's baseline: a mask made from photometric error alone.

``mask_scores`` gives IoU, precision and recall of a predicted bool mask over the ground-truth one;
``photometric_error_mask`` marks the ``share`` of each image's pixels with the largest photometric error as moving
(the baseline the SPIMO mask's IoU must beat).
"""
from __future__ import annotations

import torch


def mask_scores(predicted: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """IoU, precision and recall of bool ``predicted`` against bool ``truth`` (same shape, any), pooled over all
    pixels. An empty denominator scores 1.0 when both masks are empty there (nothing to find, nothing claimed),
    else 0.0. Raises ``ValueError`` for shapes that differ or an empty tensor."""
    if predicted.shape != truth.shape:
        raise ValueError(f'predicted {tuple(predicted.shape)} and truth {tuple(truth.shape)} masks differ in shape')
    if predicted.numel() == 0:
        raise ValueError('masks are empty')
    p, t = predicted.bool(), truth.bool()
    tp = int((p & t).sum())
    union, claimed, real = int((p | t).sum()), int(p.sum()), int(t.sum())

    def ratio(num: int, den: int) -> float:
        return num / den if den else 1.0

    return {'iou': ratio(tp, union), 'precision': ratio(tp, claimed) if claimed else (1.0 if real == 0 else 0.0),
            'recall': ratio(tp, real)}


def photometric_error_mask(error: torch.Tensor, share: float) -> torch.Tensor:
    """B×1×H×W bool: per image, the pixels whose B×1×H×W photometric ``error`` is in the top ``share`` (0 < share
    < 1) are "moving". Raises ``ValueError`` for another shape or share."""
    if error.dim() != 4 or error.shape[1] != 1:
        raise ValueError(f'error must be B×1×H×W, got {tuple(error.shape)}')
    if not 0.0 < share < 1.0:
        raise ValueError(f'share must be in (0, 1), got {share!r}')
    flat = error.detach().flatten(1)
    threshold = torch.quantile(flat.float(), 1.0 - share, dim=1).to(flat.dtype)
    return error > threshold.view(-1, 1, 1, 1)
