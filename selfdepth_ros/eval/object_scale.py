"""Object depth scale alignment (seed 002, §4.3, our simplification): rescale each moving object's depth so that
it agrees with the static background where the object meets the ground.

002 trains a scale-alignment network on ground and object masks; here each object's scale is one number fitted
in closed form at its ground contact: for every image column the object covers, the depth of its lowest pixel
is compared with the background depth just below it (the road the object stands on), and the object's scale is
the median of those ratios. An object with no background below it (touching the image bottom) is left as it is.
Used to make pseudo-labels (``selfdepth_ros_training.methods.pseudo_labels``) and for per-object aligned evaluation.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ['contact_scale', 'align_objects', 'label_objects']


def label_objects(mask: torch.Tensor, min_fraction: float = 0.005) -> torch.Tensor:
    """Connected components (8-neighbour) of an N×1×H×W bool mask as int64 ids 1.. per image (0: background);
    components under ``min_fraction`` of the image (002: 0.5 %) become background."""
    from scipy import ndimage  # lazy: only the pseudo-label paths need it

    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f'mask must be N×1×H×W, got {tuple(mask.shape)}')
    out = np.zeros(mask.shape, dtype=np.int64)
    m = mask.detach().cpu().numpy().astype(bool)
    min_pixels = min_fraction * m.shape[-1] * m.shape[-2]
    for i in range(m.shape[0]):
        ids, n = ndimage.label(m[i, 0], structure=np.ones((3, 3)))
        k = 0
        for j in range(1, n + 1):
            comp = ids == j
            if comp.sum() >= min_pixels:
                k += 1
                out[i, 0][comp] = k
    return torch.from_numpy(out).to(mask.device)


def contact_scale(depth: torch.Tensor, obj: torch.Tensor, background: torch.Tensor) -> float | None:
    """The scale ``s`` that puts one object on the ground: median over its columns of
    ``depth[below] / depth[lowest object pixel]``; None without any contact.

    Args:
        depth: H×W depth, metres (or any common scale).
        obj: H×W bool, the object's pixels.
        background: H×W bool, pixels trusted as static background.
    """
    H = depth.shape[0]
    rows = torch.arange(H, device=depth.device).view(H, 1).expand_as(obj)
    cols = obj.any(dim=0).nonzero().flatten()
    if cols.numel() == 0:
        return None
    bottom = torch.where(obj, rows, torch.full_like(rows, -1)).max(dim=0).values[cols]
    below = bottom + 1
    ok = below < H
    cols, bottom, below = cols[ok], bottom[ok], below[ok]
    ok = background[below, cols]
    if not bool(ok.any()):
        return None
    ratio = depth[below[ok], cols[ok]] / depth[bottom[ok], cols[ok]].clamp_min(1e-6)
    return float(ratio.median())


def align_objects(depth: torch.Tensor, objects: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each object's depth times its :func:`contact_scale`; the background unchanged.

    Args:
        depth: N×1×H×W depth.
        objects: N×1×H×W int object ids (0 = background), e.g. from :func:`label_objects`.
    Returns:
        ``(aligned, scales)``: N×1×H×W depth, and an N×1×H×W map of the scale applied (1 on the background and
        on objects without ground contact).
    """
    if depth.shape != objects.shape or depth.dim() != 4 or depth.shape[1] != 1:
        raise ValueError(f'depth {tuple(depth.shape)} and objects {tuple(objects.shape)} must both be N×1×H×W')
    scales = torch.ones_like(depth)
    for i in range(depth.shape[0]):
        ids, d = objects[i, 0], depth[i, 0]
        background = ids == 0
        for k in ids.unique().tolist():
            if k == 0:
                continue
            s = contact_scale(d, ids == k, background)
            if s is not None:
                scales[i, 0][ids == k] = s
    return depth * scales, scales
