"""A weak prior on the depth scale (our addition; neither 001 nor monodepth2 has it).

Self-supervised depth is defined up to one global factor shared with the translation. Early in a short run the
motion net's translation points the wrong way, and the depth net can cancel the wrong parallax by pushing the
whole scene to infinity: measured on the synthetic drives, mean depth went from 0.8 m to 470 m in 100 steps and
3000 m by step 500, where parallax and its gradients vanish and learning stalls (held-out abs rel 0.46 → 0.48).
Pulling the mean log depth towards a nominal value removes that escape; with a small weight the depth scale
still settles wherever the translation puts it (it went 10 m → 4 m in the same run, which learned: 0.46 → 0.33).
"""
from __future__ import annotations

import math

import torch

from selfdepth_ros.geometry.checks import check_shape

__all__ = ['depth_scale_prior']


def depth_scale_prior(depth: torch.Tensor, metres: float) -> torch.Tensor:
    """``(mean(log depth) − log metres)²`` over all pixels of the batch (a scalar, zero at the nominal scale).

    Args:
        depth: B×1×H×W predicted depth, metres (> 0).
        metres: the nominal geometric-mean depth (> 0).
    """
    check_shape('depth', depth, ['B', '1', 'H', 'W'])
    if not metres > 0:
        raise ValueError(f'metres must be > 0, got {metres!r}')
    return (depth.clamp_min(1e-6).log().mean() - math.log(metres)) ** 2
