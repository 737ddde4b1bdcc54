"""Motion cycle consistency of 001 eq. (6): the forward (1→2) and backward (2→1) motions should cancel.

Following the reference, the composed motion is "backward, then forward": rotation ``R₁R₂`` and translation
``R₁T₂(p') + T₁(p)``. For exact inverses (``R₂ = R₁ᵀ``, ``T₂(p') = −R₁ᵀT₁(p)``) both vanish, as in the paper's
form ``R₂T₁ + T₂``; each error is normalised by the motions' magnitudes so it does not drive them to zero.
"""
from __future__ import annotations

import torch
from torch import nn

from selfdepth_ros.geometry.checks import check_same_batch, check_shape
from selfdepth_ros.geometry.warp import resample
from selfdepth_ros_training.config.loss import DynamicScenesWeights

__all__ = ['rotation_cycle_loss', 'translation_cycle_loss', 'motion_cycle_consistency', 'MotionCycleConsistency']


def rotation_cycle_loss(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """``mean_b  ‖R₁R₂ − I‖² / (‖R₁ − I‖² + ‖R₂ − I‖²)`` (eq. 6, first term; ‖·‖² = mean of squared entries).

    Args:
        R1: B×3×3 forward rotations (cam2 ← cam1); R2: B×3×3 backward rotations (cam1 ← cam2).

    Returns:
        Scalar (unitless).
    """
    check_shape('R1', R1, ['B', '3', '3'])
    check_shape('R2', R2, ['B', '3', '3'])
    check_same_batch(R1=R1, R2=R2)
    eye = torch.eye(3, dtype=R1.dtype, device=R1.device)
    err = ((R1 @ R2 - eye) ** 2).mean((1, 2))
    scale = ((R1 - eye) ** 2).mean((1, 2)) + ((R2 - eye) ** 2).mean((1, 2))
    return (err / (1e-24 + scale)).mean()


def translation_cycle_loss(R1: torch.Tensor, T1: torch.Tensor, T2_resampled: torch.Tensor,
                           mask: torch.Tensor) -> torch.Tensor:
    """``mean(mask · ‖R₁T₂(p') + T₁‖² / (‖T₁‖² + ‖T₂(p')‖²))`` over all pixels (eq. 6, second term).

    Args:
        R1: B×3×3 forward rotation.
        T1: B×3×H×W forward total translation field (metres, frame-2 axes).
        T2_resampled: B×3×H×W backward total translation field sampled at the warped pixels p' (metres).
        mask: B×1×H×W weight, the occlusion mask of eq. (7) in the reference.

    Returns:
        Scalar (unitless).
    """
    sizes = check_shape('T1', T1, ['B', '3', 'H', 'W'])
    check_shape('T2_resampled', T2_resampled, list(map(str, T1.shape)))
    check_shape('mask', mask, [str(sizes['B']), '1', str(sizes['H']), str(sizes['W'])])
    check_shape('R1', R1, [str(sizes['B']), '3', '3'])
    B, _, H, W = T1.shape
    rotated = (R1.to(T1.dtype) @ T2_resampled.reshape(B, 3, -1)).reshape(B, 3, H, W)
    err = ((rotated + T1) ** 2).sum(1, keepdim=True)
    scale = (T1 ** 2).sum(1, keepdim=True) + (T2_resampled ** 2).sum(1, keepdim=True)
    return (mask * err / (1e-24 + scale)).mean()


def motion_cycle_consistency(R1: torch.Tensor, T1: torch.Tensor, R2: torch.Tensor, T2: torch.Tensor,
                             uv: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """Both terms of eq. (6), unweighted; resamples ``T2`` at ``uv`` with no gradient through the grid.

    Args:
        R1, R2: B×3×3 forward / backward rotations.
        T1, T2: B×3×H×W forward / backward total translation fields (each on its own frame's grid).
        uv: B×2×H×W frame-1 pixels warped into frame 2 (from ``warp_coordinates``).
        mask: B×1×H×W occlusion mask.

    Returns:
        dict with scalars ``rotation`` and ``translation``.
    """
    T2_resampled = resample(T2, uv.detach())  # reference: stop_gradient on the sampling grid
    return {'rotation': rotation_cycle_loss(R1, R2), 'translation': translation_cycle_loss(R1, T1, T2_resampled, mask)}


class MotionCycleConsistency(nn.Module):
    """Module form of eq. (6): ``α_cyc·rotation + β_cyc·translation`` (defaults: ``DynamicScenesWeights``)."""

    def __init__(self, rotation_weight: float = DynamicScenesWeights.rotation_cycle_consistency,
                 translation_weight: float = DynamicScenesWeights.translation_cycle_consistency) -> None:
        super().__init__()
        self.rotation_weight, self.translation_weight = rotation_weight, translation_weight

    def forward(self, R1: torch.Tensor, T1: torch.Tensor, R2: torch.Tensor, T2: torch.Tensor, uv: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        out = motion_cycle_consistency(R1, T1, R2, T2, uv, mask)
        return self.rotation_weight * out['rotation'] + self.translation_weight * out['translation']
