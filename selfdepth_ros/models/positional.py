"""Neural positional encoding (seed 003 §3.2, from PLADE-Net): each pixel's normalised place ``(u, v)`` in the
ORIGINAL image goes through a small per-pixel MLP into the depth encoder.

Normalised coordinates: the image's left/top edge is −1, its right/bottom edge +1, the centre (0, 0) (003 §3.4:
"image center at (0,0), top-left corner at (−1,−1)"); a pixel's value is that of its centre,
``u = (2·col + 1)/W − 1``. This is the convention resizing keeps (``scale_intrinsics``: edges map to edges), so a
crop of a resized image describes its pixels by a *window* ``(u0, v0, u1, v1)``, the normalised coordinates of
its edges in the original image: pixel ``col`` of a crop ``w`` wide is at ``u0 + (u1 − u0)(col + 0.5)/w``. The
full frame is the window ``(−1, −1, 1, 1)``; the runtime (node, inference, export) always uses it.
"""
from __future__ import annotations

import torch
from torch import nn

FULL_WINDOW = (-1.0, -1.0, 1.0, 1.0)
NPE_HIDDEN = 16
"""Hidden width of the per-pixel MLP (PLADE-Net's NPE is a small fully-connected net; this size is ours)."""


def normalised_positions(height: int, width: int, window: torch.Tensor | None = None, *,
                         batch: int = 1, device: torch.device | str | None = None,
                         dtype: torch.dtype | None = None) -> torch.Tensor:
    """``(u, v)`` of every pixel centre of an ``height × width`` image, in the original image's normalised frame.

    Args:
        height, width: the image (or crop) size in pixels.
        window: B×4 ``(u0, v0, u1, v1)``, the crop's edges in the original image's normalised coordinates
            (None: the full frame ``(−1, −1, 1, 1)`` for ``batch`` images).
    Returns:
        B×2×H×W: channel 0 is u (column), channel 1 v (row).
    Raises:
        ValueError: a non-positive size or a window that is not B×4.
    """
    if height < 1 or width < 1:
        raise ValueError(f'positions need a positive image size, got {height}×{width}')
    if window is None:
        window = torch.tensor([FULL_WINDOW], device=device, dtype=dtype or torch.get_default_dtype())
        window = window.expand(batch, 4)
    if window.dim() != 2 or window.shape[1] != 4:
        raise ValueError(f'window must be B×4 (u0, v0, u1, v1), got shape {tuple(window.shape)}')
    window = window.to(device=device or window.device, dtype=dtype or window.dtype)
    cols = (torch.arange(width, device=window.device, dtype=window.dtype) + 0.5) / width
    rows = (torch.arange(height, device=window.device, dtype=window.dtype) + 0.5) / height
    u0, v0, u1, v1 = (window[:, i].view(-1, 1, 1) for i in range(4))
    u = (u0 + (u1 - u0) * cols.view(1, 1, width)).expand(-1, height, width)
    v = (v0 + (v1 - v0) * rows.view(1, height, 1)).expand(-1, height, width)
    return torch.stack([u, v], dim=1)


class NeuralPositionalEncoding(nn.Module):
    """Per-pixel MLP ``(u, v) → channels`` (1×1 convolutions: the same fully-connected net at every pixel).

    Input B×2×H×W positions (:func:`normalised_positions`), output B×channels×H×W features.
    """

    def __init__(self, channels: int, hidden: int = NPE_HIDDEN) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(2, hidden, 1), nn.ELU(), nn.Conv2d(hidden, hidden, 1), nn.ELU(),
                                 nn.Conv2d(hidden, channels, 1))

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        if positions.dim() != 4 or positions.shape[1] != 2:
            raise ValueError(f'positions must be B×2×H×W (u, v), got shape {tuple(positions.shape)}')
        return self.mlp(positions)
