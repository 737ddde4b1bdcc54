"""The complete training loss of 001 (Li et al., CoRL 2020) on a batch holding both frame orders.

Batch layout (as the reference): 2B samples, the first B are pairs (frame 1 → frame 2), the last B the same
pairs reversed (frame 2 → frame 1); the reverse of sample i is sample (i + B) mod 2B. Each sample's RGB and depth
are those of its *first* frame; its motion takes that frame to the other one.

Terms (reference ``DepthMotionFieldLossAggregator``, single scale), each multiplied by its weight:
``rgb_consistency`` and ``ssim`` (eq. 7), ``depth_smoothing`` (eq. 5), ``rotation_cycle_consistency`` and
``translation_cycle_consistency`` (eq. 6), ``motion_smoothing`` (L_g1, eq. 2) and ``motion_drift`` (L_1/2, eq. 3),
together eq. (4). Matches the reference's default-weighted terms to float precision (test/losses/golden).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from selfdepth_ros.geometry import check_floating, check_shape, euler_to_matrix, resample, warp_coordinates
from selfdepth_ros_training.config.loss import DYNAMIC_SCENES_TERMS, DynamicScenesWeights
from selfdepth_ros_training.losses.cycle import motion_cycle_consistency
from selfdepth_ros_training.losses.motion_regularizers import group_smoothness, normalize_motion_field, sqrt_sparsity
from selfdepth_ros_training.losses.photometric import occlusion_aware_photometric_loss, reprojection_error
from selfdepth_ros_training.losses.smoothness import edge_aware_smoothness

__all__ = ['DEFAULT_WEIGHTS', 'dynamic_scenes_loss', 'identity_automask', 'DynamicScenesLoss', 'swap_pair_order']

#: Effective weights of the 001 reference defaults (``selfdepth_ros_training.config.loss.DynamicScenesWeights``, where they are
#: set), applied to the raw (unweighted) terms computed here.
DEFAULT_WEIGHTS: dict[str, float] = {k: getattr(DynamicScenesWeights, k) for k in DYNAMIC_SCENES_TERMS}


def swap_pair_order(x: torch.Tensor) -> torch.Tensor:
    """Map each of the 2B samples to its reverse pair: sample i → sample (i + B) mod 2B."""
    return torch.roll(x, x.shape[0] // 2, dims=0)


def _merge_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = sorted(set(weights) - set(merged))
        if unknown:
            raise ValueError(f'unknown loss weight(s) {unknown}; known: {sorted(merged)}')
        merged.update({k: float(v) for k, v in weights.items()})
    return merged


def dynamic_scenes_loss(rgb: torch.Tensor, depth: torch.Tensor, rotation_angles: torch.Tensor,
                        background_translation: torch.Tensor, residual_translation: torch.Tensor,
                        intrinsics: torch.Tensor, weights: Mapping[str, float] | None = None, *,
                        target_depth_stop_gradient: bool = True, automask: bool = False,
                        return_maps: bool = False) -> dict[str, torch.Tensor]:
    """All 001 loss terms, weighted, plus their sum, for a 2B batch holding both frame orders.

    Args:
        rgb: 2B×3×H×W first frame of each sample, values in [0, 1].
        depth: 2B×1×H×W predicted depth of that frame (metres, > 0).
        rotation_angles: 2B×3 (rx, ry, rz) radians, ``R = Rx·Ry·Rz`` (cam2 ← cam1).
        background_translation: 2B×3 or 2B×3×1×1 ego translation T_ego (metres, other-frame axes).
        residual_translation: 2B×3×H×W object translation field T_obj (metres).
        intrinsics: 2B×3×3 (pixels).
        weights: overrides of :data:`DEFAULT_WEIGHTS` (unknown names raise ``ValueError``); 0 disables a term.
        target_depth_stop_gradient: no gradient through the other frame's depth used as occlusion reference
            (reference default).
        automask: ours, not 001: also drop pixels where the un-warped other frame matches better than the warped
            one (monodepth2's / 004's auto-mask, eq. 10 there; see :func:`identity_automask`).
        return_maps: also return B×·×H×W diagnostics ``occlusion_mask``, ``depth_proximity_weight``,
            ``warped_rgb`` (detached).

    Returns:
        dict: the seven weighted scalar terms named as in :data:`DEFAULT_WEIGHTS`, ``total`` (their sum), and the
        maps if asked.
    """
    sizes = check_shape('rgb', rgb, ['N', '3', 'H', 'W'])
    N, H, W = sizes['N'], sizes['H'], sizes['W']
    if N % 2:
        raise ValueError(f'rgb must stack both frame orders (2B samples), got an odd batch of {N}')
    check_floating('rgb', rgb)
    check_shape('depth', depth, [str(N), '1', str(H), str(W)])
    check_shape('rotation_angles', rotation_angles, [str(N), '3'])
    if background_translation.ndim == 4:
        check_shape('background_translation', background_translation, [str(N), '3', '1', '1'])
    else:
        check_shape('background_translation', background_translation, [str(N), '3'])
        background_translation = background_translation[:, :, None, None]
    check_shape('residual_translation', residual_translation, [str(N), '3', str(H), str(W)])
    check_shape('intrinsics', intrinsics, [str(N), '3', '3'])
    w = _merge_weights(weights)

    translation = residual_translation + background_translation  # eq. (1): T = T_obj + T_ego
    rotation = euler_to_matrix(rotation_angles)
    uv, z_warped, valid = warp_coordinates(depth, intrinsics, rotation, translation)

    other_depth = swap_pair_order(depth)
    if target_depth_stop_gradient:
        other_depth = other_depth.detach()
    sampled = resample(torch.cat([swap_pair_order(rgb), other_depth], dim=1), uv)
    if automask:
        valid = valid & identity_automask(rgb, sampled[:, :3], swap_pair_order(rgb))
    photo = occlusion_aware_photometric_loss(rgb, sampled[:, :3], z_warped, sampled[:, 3:], valid)  # eq. (7)

    cycle = motion_cycle_consistency(rotation, translation, swap_pair_order(rotation),
                                     swap_pair_order(translation), uv, photo['mask'])  # eq. (6)

    normalized = normalize_motion_field(residual_translation, translation)
    raw = {
        'rgb_consistency': photo['rgb'],
        'ssim': photo['ssim'],
        'depth_smoothing': edge_aware_smoothness(1.0 / depth, rgb),  # eq. (5) on disparity
        'rotation_cycle_consistency': cycle['rotation'],
        'translation_cycle_consistency': cycle['translation'],
        # eq. (2); the reference wraps around the border only when the sparsity term is off.
        'motion_smoothing': group_smoothness(normalized, wrap_around=w['motion_drift'] == 0),
        'motion_drift': sqrt_sparsity(normalized),  # eq. (3)
    }
    out = {k: w[k] * v for k, v in raw.items()}
    out['total'] = sum(out.values())
    if return_maps:
        out.update(occlusion_mask=photo['mask'], depth_proximity_weight=photo['weight'],
                   warped_rgb=sampled[:, :3].detach())
    return out


def identity_automask(target: torch.Tensor, warped: torch.Tensor, unwarped: torch.Tensor) -> torch.Tensor:
    """B×1×H×W bool, no gradient: True where the warped reconstruction beats the un-warped other frame,
    ``L_pe(W(x'), x) < L_pe(x', x)`` (monodepth2 / 004 eq. 10, ``L_pe`` = 0.85·DSSIM + 0.15·L1).

    On real drives the 001 loss alone let fine-tuning collapse the ego-motion towards zero (measured on the KITTI
    snippet: half the predicted translations pointed backwards after 100 steps): low-texture road and sky are
    reproduced as well by no motion as by a slightly wrong one. Dropping the pixels where no motion wins removes
    that pull, as it does for a stopped camera and for objects moving with it.
    """
    with torch.no_grad():
        return reprojection_error(target, warped) < reprojection_error(target, unwarped)


class DynamicScenesLoss(nn.Module):
    """Module form of :func:`dynamic_scenes_loss` holding the weights (``None`` → :data:`DEFAULT_WEIGHTS`)."""

    def __init__(self, weights: Mapping[str, float] | None = None, target_depth_stop_gradient: bool = True) -> None:
        super().__init__()
        self.weights = _merge_weights(weights)
        self.target_depth_stop_gradient = target_depth_stop_gradient

    def forward(self, rgb: torch.Tensor, depth: torch.Tensor, rotation_angles: torch.Tensor,
                background_translation: torch.Tensor, residual_translation: torch.Tensor,
                intrinsics: torch.Tensor) -> dict[str, torch.Tensor]:
        return dynamic_scenes_loss(rgb, depth, rotation_angles, background_translation, residual_translation,
                                   intrinsics, self.weights, target_depth_stop_gradient=self.target_depth_stop_gradient)
