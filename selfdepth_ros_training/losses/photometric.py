"""Photometric losses: 3×3 (weighted) SSIM, the occlusion-aware RGB loss of 001 eq. (7), and the
monodepth2-style per-pixel reprojection error used by the baseline recipe.

Two SSIM modes, one function:
- ``padding='valid'`` + a depth-proximity ``weight`` + ``c1=inf, c2=9e-6``: the 001 reference (eq. 7), H−2×W−2 out.
- ``padding='reflect'``, no weight, ``c1=0.01², c2=0.03²``: monodepth2's SSIM (per-pixel map at full size, which
  the per-pixel minimum over sources needs). Hand-written rather than kornia's SSIM because kornia uses an 11×11
  Gaussian window, not the 3×3 box window both recipes are defined with.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from selfdepth_ros.geometry.checks import check_same_batch, check_shape
from selfdepth_ros_training.config.loss import DynamicScenesWeights, MonodepthWeights

__all__ = ['weighted_ssim', 'occlusion_mask', 'depth_proximity_weight', 'occlusion_aware_photometric_loss',
           'reprojection_error', 'OcclusionAwarePhotometricLoss']


def _pool3x3(x: torch.Tensor, padding: str) -> torch.Tensor:
    if padding == 'reflect':
        x = F.pad(x, (1, 1, 1, 1), mode='reflect')
    return F.avg_pool2d(x, 3, stride=1)


def weighted_ssim(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None = None, *,
                  c1: float = 0.01 ** 2, c2: float = 0.03 ** 2, weight_epsilon: float = 0.01,
                  padding: str = 'reflect') -> tuple[torch.Tensor, torch.Tensor]:
    """Structural dissimilarity ``clip((1 − SSIM)/2, 0, 1)`` with 3×3 box-window moments.

    With ``weight``, window moments are weighted averages with per-pixel weights ``weight + weight_epsilon``
    (the 001 reference). ``c1 = inf`` drops the luminance term, ``c2 = inf`` the contrast-structure term.

    Args:
        x, y: B×C×H×W images (intensity units, e.g. [0, 1]).
        weight: optional B×1×H×W non-negative per-pixel weight.
        c1, c2: SSIM stabilisers (intensity² units).
        weight_epsilon: added to ``weight`` in the weighted moments.
        padding: ``'reflect'`` (output H×W) or ``'valid'`` (output H−2×W−2, no padding).

    Returns:
        (dssim, pooled_weight): dssim B×C×H'×W' in [0, 1]; pooled_weight B×1×H'×W' the 3×3 average of
        ``weight`` (ones if no weight), which the reference uses to weigh each dssim pixel.
    """
    check_shape('x', x, ['B', 'C', 'H', 'W'])
    check_shape('y', y, ['B', 'C', 'H', 'W'])
    if x.shape != y.shape:
        raise ValueError(f'x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}')
    if padding not in ('reflect', 'valid'):
        raise ValueError(f"padding must be 'reflect' or 'valid', got {padding!r}")
    if math.isinf(c1) and math.isinf(c2):
        raise ValueError('c1 and c2 are both infinite: SSIM would be constant')
    if weight is None:
        def pool(z: torch.Tensor) -> torch.Tensor:
            return _pool3x3(z, padding)
        pooled_weight = torch.ones_like(_pool3x3(x[:, :1], padding))
    else:
        check_shape('weight', weight, ['B', '1', str(x.shape[2]), str(x.shape[3])])
        check_same_batch(x=x, weight=weight)
        pooled_weight = _pool3x3(weight, padding)
        w_eps = weight + weight_epsilon
        inv = 1.0 / (pooled_weight + weight_epsilon)

        def pool(z: torch.Tensor) -> torch.Tensor:
            return _pool3x3(z * w_eps, padding) * inv
    mu_x, mu_y = pool(x), pool(y)
    sigma_x = pool(x * x) - mu_x ** 2
    sigma_y = pool(y * y) - mu_y ** 2
    sigma_xy = pool(x * y) - mu_x * mu_y
    if math.isinf(c1):
        num, den = 2 * sigma_xy + c2, sigma_x + sigma_y + c2
    elif math.isinf(c2):
        num, den = 2 * mu_x * mu_y + c1, mu_x ** 2 + mu_y ** 2 + c1
    else:
        num = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
        den = (mu_x ** 2 + mu_y ** 2 + c1) * (sigma_x + sigma_y + c2)
    return torch.clamp((1 - num / den) / 2, 0, 1), pooled_weight


def occlusion_mask(z_warped: torch.Tensor, resampled_depth: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The occlusion indicator of 001 eq. (7): 1 where the moved point is in front of what frame 2 sees.

    ``mask = valid ∧ (z' < D₂(p'))`` with no tolerance (the reference). Frame-1 points hidden in frame 2
    (``z' > D₂(p')``) are left to the swapped pair.

    Args:
        z_warped: B×1×H×W depth z' of frame 1's points in frame 2 (metres).
        resampled_depth: B×1×H×W frame 2's depth sampled at p' (metres).
        valid: B×1×H×W bool from the warp.

    Returns:
        B×1×H×W float mask (no gradient).
    """
    check_shape('z_warped', z_warped, ['B', '1', 'H', 'W'])
    check_shape('resampled_depth', resampled_depth, list(map(str, z_warped.shape)))
    check_shape('valid', valid, list(map(str, z_warped.shape)))
    return (valid & (z_warped < resampled_depth)).to(z_warped.dtype).detach()


def depth_proximity_weight(z_warped: torch.Tensor, resampled_depth: torch.Tensor, mask: torch.Tensor,
                           valid: torch.Tensor) -> torch.Tensor:
    """SSIM weight of the 001 reference: ``σ² / ((D₂(p') − z')² + σ²)`` on valid pixels, no gradient.

    ``σ²`` is the per-image masked mean of ``(D₂(p') − z')²`` computed as ``Σ e²·mask / (Σ mask + 1)`` plus 1e-4
    (metres²), so the weight is ~1 where the two depths agree to within their typical disagreement.

    Returns:
        B×1×H×W weight in (0, 1].
    """
    sq = (resampled_depth - z_warped) ** 2
    second_moment = (sq * mask).sum((1, 2, 3), keepdim=True) / (mask.sum((1, 2, 3), keepdim=True) + 1.0) + 1e-4
    return (second_moment / (sq + second_moment) * valid.to(sq.dtype)).detach()


def occlusion_aware_photometric_loss(target: torch.Tensor, resampled: torch.Tensor, z_warped: torch.Tensor,
                                     resampled_depth: torch.Tensor, valid: torch.Tensor, *,
                                     ssim_c1: float = math.inf, ssim_c2: float = 9e-6,
                                     ssim_padding: str = 'valid') -> dict[str, torch.Tensor]:
    """Occlusion-aware photometric consistency of 001 eq. (7), unweighted terms, as the reference computes them.

    ``rgb = mean(|I − I_warp| · 1[z' < D₂(p')])`` over all pixels and channels (masked pixels count as zero);
    ``ssim = mean(dssim(I_warp, I; w) · avgpool3x3(w))`` with the depth-proximity weight ``w``.
    Weights (α_rgb, β_rgb) are applied by the caller (``dynamic_scenes_loss``).

    Args:
        target: B×3×H×W frame 1, I (values in [0, 1]).
        resampled: B×3×H×W frame 2 sampled at p', I_warp.
        z_warped: B×1×H×W z' (metres); resampled_depth: B×1×H×W D₂(p') (metres); valid: B×1×H×W bool.
        ssim_c1, ssim_c2, ssim_padding: SSIM variant; the defaults are the reference's (no luminance term,
            3×3 window without padding).

    Returns:
        dict with scalars ``rgb``, ``ssim`` and maps ``mask`` (B×1×H×W occlusion mask), ``weight``
        (B×1×H×W depth-proximity weight).
    """
    check_shape('target', target, ['B', 'C', 'H', 'W'])
    if resampled.shape != target.shape:
        raise ValueError(f'resampled must have the shape of target {tuple(target.shape)}, got {tuple(resampled.shape)}')
    mask = occlusion_mask(z_warped, resampled_depth, valid)
    check_same_batch(target=target, z_warped=z_warped)
    rgb = ((resampled - target).abs() * mask).mean()
    weight = depth_proximity_weight(z_warped, resampled_depth, mask, valid)
    dssim, pooled = weighted_ssim(resampled, target, weight, c1=ssim_c1, c2=ssim_c2, padding=ssim_padding)
    return {'rgb': rgb, 'ssim': (dssim * pooled).mean(), 'mask': mask, 'weight': weight}


def reprojection_error(target: torch.Tensor, reconstructed: torch.Tensor,
                       alpha: float = MonodepthWeights.ssim_alpha) -> torch.Tensor:
    """Per-pixel photometric error ``α·(1 − SSIM)/2 + (1 − α)·|I − I'|`` (monodepth2; 004's ``L_pe``).

    SSIM is the 3×3 reflection-padded monodepth2 variant; both terms are averaged over channels.

    Args:
        target, reconstructed: B×C×H×W images in [0, 1].
        alpha: SSIM weight (0.85 in monodepth2).

    Returns:
        B×1×H×W error map.
    """
    dssim, _ = weighted_ssim(reconstructed, target, padding='reflect')
    l1 = (target - reconstructed).abs().mean(1, keepdim=True)
    return alpha * dssim.mean(1, keepdim=True) + (1 - alpha) * l1


class OcclusionAwarePhotometricLoss(nn.Module):
    """Module form of :func:`occlusion_aware_photometric_loss` returning ``α_rgb·rgb + β_rgb·ssim`` (eq. 7).

    Default weights are the 001 reference's effective ones (2 and 3, see ``dynamic_scenes.DEFAULT_WEIGHTS``).
    """

    def __init__(self, rgb_weight: float = DynamicScenesWeights.rgb_consistency,
                 ssim_weight: float = DynamicScenesWeights.ssim) -> None:
        super().__init__()
        self.rgb_weight, self.ssim_weight = rgb_weight, ssim_weight

    def forward(self, target: torch.Tensor, resampled: torch.Tensor, z_warped: torch.Tensor,
                resampled_depth: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        out = occlusion_aware_photometric_loss(target, resampled, z_warped, resampled_depth, valid)
        return self.rgb_weight * out['rgb'] + self.ssim_weight * out['ssim']
