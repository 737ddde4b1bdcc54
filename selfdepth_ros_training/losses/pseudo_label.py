"""002's pseudo-label term, eqs. (19)–(20): a scale-invariant L1 between the prediction and a scale-consistent
pseudo-label.

Eq. (20): ``s = median(D / D_pl)`` over the label's pixels (the per-pixel depth ratio); eq. (19):
``L_pl = mean |D − s·D_pl|`` over the dynamic pixels. Because ``s`` absorbs any global scale of the label, the
term does not prefer one scale over another (002 §4.4). Outliers are excluded as 002's code does in spirit: the
largest ``outlier_fraction`` of the per-pixel errors of each image are dropped (our choice of rule, not the
paper's). ``s`` is taken over the whole label, background included, so an object's scale relative to its
background is what the term teaches.
"""
from __future__ import annotations

import torch

__all__ = ['median_aligned_l1']


def median_aligned_l1(depth: torch.Tensor, label: torch.Tensor, region: torch.Tensor,
                      outlier_fraction: float = 0.1) -> torch.Tensor:
    """Eqs. (19)–(20), metres (the prediction's unit).

    Args:
        depth: N×1×H×W predicted depth (> 0).
        label: N×1×H×W pseudo-label; non-finite or ≤ 0 = no label (left out of the median and the mean).
        region: N×1×H×W bool, the pixels the L1 is taken over (002: the dynamic regions).
        outlier_fraction: in [0, 1): share of each image's largest errors left out.
    Returns:
        A scalar, 0 (still differentiable) where no pixel is both labelled and in the region.
    """
    if depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError(f'depth must be N×1×H×W, got {tuple(depth.shape)}')
    if label.shape != depth.shape or region.shape != depth.shape:
        raise ValueError(f'label {tuple(label.shape)} and region {tuple(region.shape)} must have the shape of '
                         f'depth {tuple(depth.shape)}')
    if not 0.0 <= outlier_fraction < 1.0:
        raise ValueError(f'outlier_fraction must be in [0, 1), got {outlier_fraction}')
    label = label.detach().to(depth.dtype)
    labelled = torch.isfinite(label) & (label > 0)
    safe = torch.where(labelled, label, torch.ones_like(label))
    total = depth.sum() * 0.0
    count = 0
    for i in range(depth.shape[0]):
        if not bool(labelled[i].any()):
            continue
        s = (depth[i].detach() / safe[i])[labelled[i]].median()  # eq. (20)
        use = labelled[i] & region[i].bool()
        err = (depth[i] - s * safe[i])[use].abs()  # eq. (19)
        if err.numel() == 0:
            continue
        keep = err.numel() - int(outlier_fraction * err.numel())
        total = total + err.sort().values[:max(keep, 1)].sum()
        count += max(keep, 1)
    return total / max(count, 1)
