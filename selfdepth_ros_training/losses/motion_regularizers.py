"""Regularisers of the object translation field ``T_obj``: group smoothness L_g1 (001 eq. 2), the
self-normalising sparsity L_1/2 (eq. 3) and their combination L_reg,mot (eq. 4).

As in the 001 reference, both act on ``T_obj`` divided by the RMS magnitude of the *total* field
``T = T_ego + T_obj`` (:func:`normalize_motion_field`), so they do not push the overall motion scale.
"""
from __future__ import annotations

import torch
from torch import nn

from selfdepth_ros.geometry.checks import check_shape

__all__ = ['normalize_motion_field', 'group_smoothness', 'sqrt_sparsity', 'motion_field_regularization',
           'MotionFieldRegularization']


def normalize_motion_field(residual: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """``T_obj / sqrt(mean_pixels ‖T‖² + 1e-12)`` per image (the reference's ``normalize_motion_map``).

    Args:
        residual: B×3×H×W object translation field (metres).
        total: B×3×H×W (or broadcastable, e.g. B×3×1×1) total translation ``T_ego + T_obj`` (metres).

    Returns:
        B×3×H×W unitless field.
    """
    check_shape('residual', residual, ['B', '3', 'H', 'W'])
    total = total.expand_as(residual)
    norm_sq = 3.0 * (total ** 2).mean((1, 2, 3), keepdim=True)  # = mean over pixels of ‖T(u,v)‖²
    return residual / torch.sqrt(norm_sq + 1e-12)


def group_smoothness(field: torch.Tensor, wrap_around: bool = False, reduction: str = 'mean') -> torch.Tensor:
    """Group smoothness L_g1 of 001 eq. (2): ``Σ_i ∬ sqrt((∂u T_i)² + (∂v T_i)²)``, as a mean.

    Per-channel isotropic total variation with backward differences at each pixel
    ``(T[v,u] − T[v−1,u], T[v,u] − T[v,u−1])``. Zero inside constant regions, ``|jump|`` per pixel along an edge.

    Args:
        field: B×C×H×W (usually the normalised T_obj, C = 3).
        wrap_around: also difference across the image border (periodic); the reference does this only when the
            sparsity weight is zero.
        reduction: ``'mean'`` → scalar mean over all terms; ``'none'`` → the per-pixel map
            (B×C×H×W with wrap-around, else B×C×(H−1)×(W−1)).
    """
    check_shape('field', field, ['B', 'C', 'H', 'W'])
    if reduction not in ('mean', 'none'):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    d_v = field - torch.roll(field, 1, dims=2)
    d_u = field - torch.roll(field, 1, dims=3)
    if not wrap_around:
        d_v, d_u = d_v[..., 1:, 1:], d_u[..., 1:, 1:]
    tv = torch.sqrt(1e-24 + d_v ** 2 + d_u ** 2)
    return tv.mean() if reduction == 'mean' else tv


def sqrt_sparsity(field: torch.Tensor, mean_abs: torch.Tensor | None = None) -> torch.Tensor:
    """Sparsity L_1/2 of 001 eq. (3): ``mean(2·m·sqrt(1 + |T_i|/m))`` with ``m = ⟨|T_i|⟩``.

    Per element the penalty is ``2m·sqrt(1 + x/m)`` ≈ ``2m + x`` for ``x ≪ m`` (L1-like) and ≈ ``2·sqrt(m·x)`` for
    ``x ≫ m`` (sub-linear), so large object motions are penalised less than by L1 and small drifts are sparsified.

    Args:
        field: B×C×H×W (usually the normalised T_obj).
        mean_abs: optional scale m, broadcastable to B×C×1×1; default the per-image, per-channel spatial mean of
            ``|field|`` (the reference). No gradient flows through m.

    Returns:
        Scalar mean over all elements.
    """
    check_shape('field', field, ['B', 'C', 'H', 'W'])
    x = field.abs()
    m = (x.mean((2, 3), keepdim=True) if mean_abs is None else torch.as_tensor(mean_abs, dtype=x.dtype)).detach()
    return (2 * m * torch.sqrt(x / (m + 1e-24) + 1)).mean()


def motion_field_regularization(residual: torch.Tensor, total: torch.Tensor, smoothness_weight: float = 2.0,
                                sparsity_weight: float = 0.4) -> dict[str, torch.Tensor]:
    """L_reg,mot of 001 eq. (4): ``α_mot·L_g1[T̂_obj] + β_mot·L_1/2[T̂_obj]`` on the normalised field T̂_obj.

    Defaults are the reference's effective weights (1.0 and 0.2, ×2). Wrap-around smoothing is used only when
    ``sparsity_weight == 0`` (reference behaviour).

    Returns:
        dict with weighted scalars ``motion_smoothing``, ``motion_drift`` and their sum ``total``.
    """
    normalized = normalize_motion_field(residual, total)
    smooth = smoothness_weight * group_smoothness(normalized, wrap_around=sparsity_weight == 0)
    drift = sparsity_weight * sqrt_sparsity(normalized)
    return {'motion_smoothing': smooth, 'motion_drift': drift, 'total': smooth + drift}


class MotionFieldRegularization(nn.Module):
    """Module form of :func:`motion_field_regularization` (eq. 4), returning the weighted sum."""

    def __init__(self, smoothness_weight: float = 2.0, sparsity_weight: float = 0.4) -> None:
        super().__init__()
        self.smoothness_weight, self.sparsity_weight = smoothness_weight, sparsity_weight

    def forward(self, residual: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
        return motion_field_regularization(residual, total, self.smoothness_weight, self.sparsity_weight)['total']
