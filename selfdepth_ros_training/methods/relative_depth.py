"""Part ``relative_depth`` (seed 000): a head classifies each pixel into 10 per-image quantile bins of depth,
trained with per-pixel NLL (000 §3).

The head (net ``bins_head``) reads the depth net's *output*, not its decoder features: the scale-free
``log D − mean log D`` plus the RGB, through two 3×3 convolutions and a 1×1 classifier. That needs no change to
the depth net (its state dict, ONNX graph and older checkpoints are untouched) and the runtime, which loads only
``depth`` and ``motion``, ignores it. Labels (``relative_depth_labels``):

- ``self``: bins of the self-supervised depth itself, detached; the head's input is detached too (otherwise the
  depth net could make its own labels trivially easy), so the term trains the head only;
- ``gt``: bins of ``/gt/depth`` (synthetic frames); the gradient also reaches the depth net through the head's
  input, 000's relative-depth supervision as an auxiliary task.

The term is ``relative_depth · NLL`` over the frames' valid pixels (000 uses NLL per pixel; no equation number).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from selfdepth_ros.eval.depth_bins import INVALID_BIN, quantile_bins
from selfdepth_ros_training.config.loss import _Weights
from selfdepth_ros_training.config.validate import require
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.parts import Part, Terms

LABELS = ('self', 'gt')
BINS = 10
"""Quantile classes per image (000: 10)."""


@dataclass
class RelativeDepthWeights(_Weights):
    """000's relative depth bins (``selfdepth_ros_training.methods.relative_depth``); 0 disables the head."""

    relative_depth: float = 0.0
    """Weight of the per-pixel NLL of the bins head."""
    relative_depth_labels: str = 'self'
    """'self': bins of the detached self-supervised depth; 'gt': bins of /gt/depth (synthetic frames)."""

    def __post_init__(self) -> None:
        require(self.relative_depth >= 0.0, f'relative_depth must be >= 0, got {self.relative_depth}')
        require(self.relative_depth_labels in LABELS, f'relative_depth_labels must be one of {LABELS}, got '
                f'{self.relative_depth_labels!r}')
        super().__post_init__()


@dataclass
class _NoWeights(_Weights):
    pass


class BinsHead(nn.Module):
    """``(rgb N×3×H×W, depth N×1×H×W) -> logits N×bins×H×W`` from scale-free log depth and colour."""

    def __init__(self, bins: int = 10, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(4, width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True))
        self.classify = nn.Conv2d(width, bins, 1)

    def forward(self, rgb: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        log = depth.clamp_min(1e-3).log()
        log = log - log.mean(dim=(2, 3), keepdim=True)  # relative: the bins do not depend on the depth's scale
        return self.classify(self.body(torch.cat([rgb, log], dim=1)))


def predict_bins(head: Any, rgb: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """N×1×H×W int64 bin indices (the head's argmax): what ``selfdepth_ros.eval.depth_bins.bins_accuracy`` scores."""
    with torch.no_grad():
        return head(rgb, depth).argmax(dim=1, keepdim=True)


def _apply(w: Any, batch: dict[str, Any], out: StepOutput, nets: Any) -> Terms:
    if out.depths is None:
        raise ValueError('relative_depth needs the objective to return its depth maps (StepOutput.depths)')
    images = batch['images']
    rgb = images.transpose(0, 1).flatten(0, 1)  # frame-major, as out.depths stacks the frames
    depth = out.depths[:rgb.shape[0]]
    if w.relative_depth_labels == 'gt':
        if batch.get('depth_gt') is None:
            raise ValueError("relative_depth_labels 'gt' needs batch['depth_gt'] (a synthetic source with /gt/depth)")
        labels = quantile_bins(batch['depth_gt'].transpose(0, 1).flatten(0, 1), BINS)
    else:
        depth = depth.detach()
        labels = quantile_bins(depth, BINS)
    logits = nets['bins_head'](rgb, depth)
    if not bool((labels != INVALID_BIN).any()):
        return {'relative_depth': logits.sum() * 0.0}
    nll = F.cross_entropy(logits, labels[:, 0], ignore_index=INVALID_BIN)
    return {'relative_depth': w.relative_depth * nll}


RELATIVE_DEPTH = Part('relative_depth', RelativeDepthWeights, _apply, enabled=lambda w: w.relative_depth > 0,
                      nets={'bins_head': lambda model: BinsHead(BINS)})
"""000's bins head and its NLL (see the module docstring)."""
RELATIVE_DEPTH_GT = Part('relative_depth_gt', _NoWeights, lambda w, b, o, n: {},
                         enabled=lambda w: w.relative_depth > 0 and w.relative_depth_labels == 'gt',
                         data=('depth_gt',))
"""Declares ``depth_gt`` only when the labels come from it (a part's data is static; its terms are the part above's)."""
