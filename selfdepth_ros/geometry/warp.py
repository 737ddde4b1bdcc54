"""The view warp of seed 001, eqs. (1)/(7): ``z' p' = K R K⁻¹ z p + K T(u, v)``, and bilinear resampling.

For a pair (frame 1 → frame 2) with motion ``X2 = R·X1 + T(u, v)`` (``T = T_ego + T_obj``, docs/CONVENTIONS.md),
each pixel p of frame 1 with depth z lands at pixel p' of frame 2 with depth z'. Frame 1 is reconstructed by
sampling frame 2 at p' (an "inverse warp").
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from selfdepth_ros.geometry.camera import backproject, project
from selfdepth_ros.geometry.checks import check_floating, check_same_batch, check_shape

__all__ = ['warp_coordinates', 'resample', 'inverse_warp', 'WarpResult']


class WarpResult(NamedTuple):
    """Output of :func:`inverse_warp` (all B×·×H×W on frame 1's pixel grid)."""

    image: torch.Tensor  #: B×C×H×W, frame 2 sampled at p' (frame 1 reconstructed)
    uv: torch.Tensor  #: B×2×H×W, p' in frame-2 pixels (column, row), not clamped
    z: torch.Tensor  #: B×1×H×W, z' = depth of the moved point in frame 2 (metres)
    valid: torch.Tensor  #: B×1×H×W bool, z' > 0 and p' inside frame 2


def _translation_field(T: torch.Tensor, B: int, H: int, W: int) -> torch.Tensor:
    """Accept T as B×3, B×3×1×1 or B×3×H×W; return something broadcastable to B×3×H×W."""
    if T.ndim == 2:
        check_shape('T', T, ['B', '3'])
        T = T[:, :, None, None]
    elif T.ndim == 4 and T.shape[-2:] == (1, 1):
        check_shape('T', T, ['B', '3', '1', '1'])
    else:
        sizes = check_shape('T', T, ['B', '3', 'H', 'W'])
        if (sizes['H'], sizes['W']) != (H, W):
            raise ValueError(f'T must have shape B×3, B×3×1×1 or B×3×{H}×{W} (the depth size), got {tuple(T.shape)}')
    if T.shape[0] != B:
        raise ValueError(f'T must have batch size {B} (as depth), got {tuple(T.shape)}')
    return T


def warp_coordinates(depth: torch.Tensor, K: torch.Tensor, R: torch.Tensor, T: torch.Tensor,
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where each pixel of frame 1 lands in frame 2: ``z' p' = K R K⁻¹ z p + K T(u, v)`` (001 eqs. 1, 7).

    Args:
        depth: B×1×H×W z-depth of frame 1 (metres).
        K: B×3×3 intrinsics (pixels), shared by both frames.
        R: B×3×3 rotation cam2 ← cam1 (e.g. ``euler_to_matrix(angles)``).
        T: translation in frame-2 axes (metres): B×3 (ego only), B×3×1×1, or a per-pixel field B×3×H×W
           (``T_ego + T_obj``).

    Returns:
        (uv, z_warped, valid):
        uv B×2×H×W pixel coordinates p' (column, row) in frame 2, not clamped; finite everywhere
        (non-finite values, from non-finite inputs, are replaced by 0 and marked invalid).
        z_warped B×1×H×W depth z' of the moved point in frame 2 (metres).
        valid B×1×H×W bool: z' > 0 and 0 ≤ u ≤ W−1, 0 ≤ v ≤ H−1 within 1e-4 px (the reference uses
        u < W−1, v < H−1 exactly; the two differ only within 1e-4 px of the border, e.g. for the identity warp).
    """
    sizes = check_shape('depth', depth, ['B', '1', 'H', 'W'])
    B, H, W = sizes['B'], sizes['H'], sizes['W']
    check_shape('K', K, ['B', '3', '3'])
    check_shape('R', R, ['B', '3', '3'])
    check_same_batch(depth=depth, K=K, R=R)
    check_floating('depth', depth)
    T = _translation_field(T, B, H, W).to(depth.dtype)
    points = backproject(depth, K)
    moved = (R.to(depth.dtype) @ points.reshape(B, 3, -1)).reshape(B, 3, H, W) + T
    uv, z = project(moved, K)
    finite = torch.isfinite(uv).all(dim=1, keepdim=True) & torch.isfinite(z)
    uv = torch.where(finite, uv, torch.zeros_like(uv))
    u, v = uv[:, :1], uv[:, 1:]
    tol = 1e-4  # pixels: round-off of K·K⁻¹ must not push border pixels of an identity warp outside
    valid = finite & (z > 0) & (u >= -tol) & (u <= W - 1 + tol) & (v >= -tol) & (v <= H - 1 + tol)
    return uv, z, valid


def resample(image: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinearly sample ``image`` at pixel coordinates ``uv``; outside points take the nearest border value.

    Equals the 001 reference resampler after its coordinate clamping:
    ``grid_sample(align_corners=True, padding_mode='border')`` with uv normalised by W−1 and H−1.

    Args:
        image: B×C×H×W (any channels: RGB, depth, translation field).
        uv: B×2×h×w sample positions (column, row) in ``image``'s pixels.

    Returns:
        B×C×h×w.
    """
    sizes = check_shape('image', image, ['B', 'C', 'H', 'W'])
    check_shape('uv', uv, ['B', '2', 'h', 'w'])
    check_same_batch(image=image, uv=uv)
    check_floating('image', image)
    H, W = sizes['H'], sizes['W']
    if H < 2 or W < 2:
        raise ValueError(f'image must be at least 2×2 pixels to resample, got {tuple(image.shape)}')
    scale = torch.tensor([2.0 / (W - 1), 2.0 / (H - 1)], dtype=uv.dtype, device=uv.device).view(1, 2, 1, 1)
    grid = (uv * scale - 1.0).permute(0, 2, 3, 1).to(image.dtype)
    return F.grid_sample(image, grid, mode='bilinear', padding_mode='border', align_corners=True)


def inverse_warp(source: torch.Tensor, depth: torch.Tensor, K: torch.Tensor, R: torch.Tensor, T: torch.Tensor,
                 ) -> WarpResult:
    """Reconstruct frame 1 by sampling frame 2 (``source``) at the warped pixels p' of frame 1.

    Args:
        source: B×C×H×W frame 2 (image, or any per-pixel quantity of frame 2).
        depth: B×1×H×W depth of frame 1 (metres).
        K, R, T: as in :func:`warp_coordinates` (motion frame 1 → frame 2).

    Returns:
        :class:`WarpResult` (image, uv, z, valid); ``image`` is frame 2 resampled onto frame 1's grid.
    """
    uv, z, valid = warp_coordinates(depth, K, R, T)
    return WarpResult(resample(source, uv), uv, z, valid)
