"""Edge-aware disparity smoothness, 001 eq. (5) (Godard et al.; monodepth2's ``get_smooth_loss``).

The term itself is kornia's ``inverse_depth_smoothness_loss`` (the same first differences and weights as the 001
reference, struct2depth's); what is ours is the per-image mean normalisation in front of it and the shape checks.
"""
from __future__ import annotations

import torch
from kornia.losses import inverse_depth_smoothness_loss
from torch import nn

from selfdepth_ros.geometry.checks import check_same_batch, check_shape

__all__ = ['edge_aware_smoothness', 'EdgeAwareSmoothness']


def edge_aware_smoothness(disparity: torch.Tensor, image: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """``mean|∂u d|·e^{−mean_c|∂u I|} + mean|∂v d|·e^{−mean_c|∂v I|}`` (001 eq. 5), first differences.

    Args:
        disparity: B×1×H×W disparity ``d = 1/D`` (1/metres, any positive scale).
        image: B×C×H×W reference image in [0, 1]; its gradients weaken the smoothing at edges.
        normalize: divide ``d`` by its per-image mean first (001 reference and monodepth2), which makes the
            loss invariant to the depth scale.

    Returns:
        Scalar loss (unitless when normalised). Each mean runs over the B×1×H×(W−1) / B×1×(H−1)×W differences.
    """
    sizes = check_shape('disparity', disparity, ['B', '1', 'H', 'W'])
    check_shape('image', image, ['B', 'C', str(sizes['H']), str(sizes['W'])])
    check_same_batch(disparity=disparity, image=image)
    if normalize:
        disparity = disparity / disparity.mean((1, 2, 3), keepdim=True).clamp_min(1e-12)
    return inverse_depth_smoothness_loss(disparity, image.to(disparity.dtype))


class EdgeAwareSmoothness(nn.Module):
    """Module form of :func:`edge_aware_smoothness` (eq. 5) with its weight α_dep."""

    def __init__(self, weight: float = 1.0, normalize: bool = True) -> None:
        super().__init__()
        self.weight, self.normalize = weight, normalize

    def forward(self, disparity: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.weight * edge_aware_smoothness(disparity, image, self.normalize)
