"""003's SPIMO masks (§3.4): moving objects found by a depth net's sensitivity to shifted positional input.

A network trained with neural positional encoding (``ModelConfig.positional_encoding``) memorises where moving
objects tend to be; shifting its positional input moves it to "generalisation mode", and its depth changes most on
what the photometric loss could not supervise: moving objects. Run it N times with the positional input shifted by
``(u_i, v_i)`` (eq. 6), take the per-pixel normalised variance of the depths (eq. 7)

    var = Σᵢ (Dᵢ − D̄)² / (D̄² (N − 1)),

and call a pixel likely moving where ``var ≥ γ`` (003: γ = 3 %; eq. 7's mask M is 1 on the static rest).
Offsets are in normalised coordinates (``models.positional``: the image spans −1..1): 003's u = [0, 0.5, −0.5, 0],
v = [0, 0, 0, −0.25].
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .positional import normalised_positions

SPIMO_OFFSETS = ((0.0, 0.0), (0.5, 0.0), (-0.5, 0.0), (0.0, -0.25))
"""003's (u_i, v_i) positional offsets."""
SPIMO_GAMMA = 0.03
"""003's threshold γ on the normalised variance."""


def normalised_variance(depths: torch.Tensor) -> torch.Tensor:
    """Eq. (7)'s dispersion of N depth estimates per pixel: ``Σᵢ (Dᵢ − D̄)² / (D̄² (N − 1))``.

    Args:
        depths: N×B×1×H×W positive depths (N ≥ 2), one per positional offset.
    Returns:
        B×1×H×W.
    Raises:
        ValueError: fewer than 2 estimates, another shape, or a non-positive mean depth.
    """
    if depths.dim() != 5 or depths.shape[0] < 2 or depths.shape[2] != 1:
        raise ValueError(f'depths must be N×B×1×H×W with N >= 2, got shape {tuple(depths.shape)}')
    mean = depths.mean(dim=0)
    if not bool((mean > 0).all()):
        raise ValueError('depths must have a positive mean at every pixel (metres)')
    return ((depths - mean) ** 2).sum(dim=0) / (mean ** 2 * (depths.shape[0] - 1))


def shifted_depths(depth_net: Callable[..., list[torch.Tensor]], rgb: torch.Tensor,
                   window: torch.Tensor | None = None,
                   offsets: Sequence[tuple[float, float]] = SPIMO_OFFSETS) -> torch.Tensor:
    """Eq. (6): the depth net's full-resolution depth of ``rgb`` (B×3×H×W) once per positional offset.

    ``window`` (B×4, ``models.positional``) places a crop in its original image; None is the full frame.
    Returns N×B×1×H×W. Raises ``ValueError`` for a net without positional input or fewer than 2 offsets.
    """
    config = getattr(getattr(depth_net, 'module', depth_net), 'config', None)
    if not getattr(config, 'positional_encoding', False):
        raise ValueError('SPIMO masks need a depth net with positional_encoding (ModelConfig)')
    if len(offsets) < 2:
        raise ValueError(f'SPIMO needs at least 2 positional offsets, got {len(offsets)}')
    B, _, H, W = rgb.shape
    base = normalised_positions(H, W, window, batch=B, device=rgb.device, dtype=rgb.dtype)
    shifts = torch.tensor(offsets, device=rgb.device, dtype=rgb.dtype)
    return torch.stack([depth_net(rgb, base + shift.view(1, 2, 1, 1))[0] for shift in shifts])


def spimo_mask(depth_net: Callable[..., list[torch.Tensor]], rgb: torch.Tensor, window: torch.Tensor | None = None,
               offsets: Sequence[tuple[float, float]] = SPIMO_OFFSETS, gamma: float = SPIMO_GAMMA,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(moving, variance)``: B×1×H×W bool "likely moving" (``variance ≥ gamma``, eq. 7) and the variance.

    Runs without gradients (003 uses a fixed copy of the stage-1 net). Raises ``ValueError`` for ``gamma ≤ 0``.
    """
    if not gamma > 0:
        raise ValueError(f'gamma must be > 0, got {gamma!r}')
    with torch.no_grad():
        variance = normalised_variance(shifted_depths(depth_net, rgb, window, offsets))
    return variance >= gamma, variance
