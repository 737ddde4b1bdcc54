"""The two inference functions every backend runs, with their fixed input/output names.

Depth graph: ``rgb`` B×3×H×W in [0, 1] → ``depth`` B×1×H×W metres (full resolution only). Motion graph:
``rgb1, depth1, rgb2, depth2`` → ``rotation`` B×3 rad, ``translation`` B×3, ``residual`` B×3×H×W (+ ``intrinsics``
B×3×3 when the config learns them), the pair (1 → 2) convention of docs/CONVENTIONS.md. ``selfdepth export``
writes exactly these functions, and the Predictor runs them on whichever backend it was given.

:func:`probe_inputs` is a deterministic, analytic input (no random generator: identical on every machine and
torch version), used for the parity check of each backend at load and recorded by the export for its files.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .models import DepthNet, ModelConfig, MotionNet

DEPTH_INPUTS = ('rgb',)
MOTION_INPUTS = ('rgb1', 'depth1', 'rgb2', 'depth2')


class DepthGraph(nn.Module):
    """The exported depth function: full-resolution depth only."""

    def __init__(self, net: DepthNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.net(rgb)[0]


class MotionGraph(nn.Module):
    """The exported motion function: a tuple of tensors (intrinsics only when the config learns them)."""

    def __init__(self, net: MotionNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, rgb1: torch.Tensor, depth1: torch.Tensor, rgb2: torch.Tensor,
                depth2: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(rgb1, depth1, rgb2, depth2)
        return tuple(t for t in out if t is not None)


def output_names(what: str, config: ModelConfig) -> list[str]:
    """Output names of the ``what`` ('depth' or 'motion') graph of a net with ``config``."""
    if what == 'depth':
        return ['depth']
    return ['rotation', 'translation', 'residual'] + (['intrinsics'] if config.learn_intrinsics else [])


def input_names(what: str) -> tuple[str, ...]:
    return DEPTH_INPUTS if what == 'depth' else MOTION_INPUTS


def _pattern(height: int, width: int, phase: float) -> np.ndarray:
    """3×H×W float32 in [0.1, 0.9]: sums of sines at a few frequencies per channel (texture at every scale)."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    chans = []
    for c in range(3):
        a = np.sin(2 * math.pi * ((u + phase) / 37.0 + v / 23.0 + c / 3.0))
        b = np.sin(2 * math.pi * ((u + phase) / 7.3 - v / 11.0) + c)
        chans.append(0.5 + 0.25 * a + 0.15 * b)
    return np.stack(chans).astype(np.float32)


def probe_inputs(what: str, config: ModelConfig, batch: int = 1) -> dict[str, torch.Tensor]:
    """The parity probe of graph ``what`` at the net size of ``config`` (CPU tensors, batch ``batch``).

    Images: a smooth multi-frequency texture, the second frame shifted 2 px sideways; depths: a ramp from 2 m
    (top) to 20 m (bottom) with a gentle sideways wave. Deterministic to the bit on every machine.
    """
    h, w = config.height, config.width
    rgb1 = torch.from_numpy(_pattern(h, w, 0.0))[None].repeat(batch, 1, 1, 1)
    if what == 'depth':
        return {'rgb': rgb1}
    rgb2 = torch.from_numpy(_pattern(h, w, 2.0))[None].repeat(batch, 1, 1, 1)
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    ramp = 2.0 + 18.0 * v / max(h - 1, 1) + 0.5 * np.sin(2 * math.pi * u / 53.0)
    depth1 = torch.from_numpy(ramp.astype(np.float32))[None, None].repeat(batch, 1, 1, 1)
    depth2 = depth1 * 0.98
    return {'rgb1': rgb1, 'depth1': depth1, 'rgb2': rgb2, 'depth2': depth2}


def graphs_of(depth_net: DepthNet, motion_net: MotionNet) -> dict[str, nn.Module]:
    """``{'depth': DepthGraph, 'motion': MotionGraph}`` of two nets (eval mode, sharing their weights)."""
    return {'depth': DepthGraph(depth_net).eval(), 'motion': MotionGraph(motion_net).eval()}
