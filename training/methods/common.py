"""Pieces every method shares: the step output and the choice between given and learned intrinsics."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from training.losses.scale_prior import depth_scale_prior


@dataclass
class StepOutput:
    """What one forward pass of a method yields.

    losses: scalar tensors, the weighted terms and ``'total'`` (the one that is back-propagated).
    vis: detached tensors for the image summary: ``rgb`` B×3×H×W, ``depth`` B×1×H×W, optional ``motion``
      B×3×H×W (residual field).
    intrinsics: B×3×3 intrinsics the motion net predicted (None without the learned-intrinsics head).
    """

    losses: dict[str, torch.Tensor]
    vis: dict[str, torch.Tensor] = field(default_factory=dict)
    intrinsics: torch.Tensor | None = None


def select_intrinsics(K: torch.Tensor, has_intrinsics: torch.Tensor | bool,
                      predicted: torch.Tensor | None) -> torch.Tensor:
    """Per sample: the bag's ``K`` when it had CameraInfo, else the motion net's learned intrinsics (001).

    Args:
        K: B×3×3 intrinsics from the dataset (pixels, net size).
        has_intrinsics: B bools (or one bool) from the dataset.
        predicted: B×3×3 learned intrinsics, or None when the model has no intrinsics head.
    Raises:
        ValueError: a sample lacks intrinsics and the model cannot learn them.
    """
    flags = torch.as_tensor(has_intrinsics, device=K.device).reshape(-1).bool()
    if flags.numel() == 1:
        flags = flags.expand(K.shape[0])
    if bool(flags.all()):
        return K
    if predicted is None:
        raise ValueError('a sample has no camera intrinsics (bag without CameraInfo) and the model has no learned '
                         'intrinsics head; set model.learn_intrinsics: true')
    return torch.where(flags.view(-1, 1, 1), K.to(predicted.dtype), predicted)


def add_scale_prior(losses: dict[str, torch.Tensor], depth: torch.Tensor, weight: float, metres: float) -> None:
    """Add the weighted ``depth_scale_prior`` term of ``depth`` (B×1×H×W) to ``losses`` and its total (weight > 0)."""
    if weight > 0:
        term = weight * depth_scale_prior(depth, metres)
        losses['depth_scale_prior'] = term
        losses['total'] = losses['total'] + term
