"""Pieces every objective shares: the step output and the choice between given and learned intrinsics."""
from __future__ import annotations

from dataclasses import dataclass, field

from typing import Any

import torch


@dataclass
class StepOutput:
    """What one forward pass of a method yields.

    losses: scalar tensors, the weighted terms and ``'total'`` (the one that is back-propagated).
    vis: detached tensors for the image summary: ``rgb`` B×3×H×W, ``depth`` B×1×H×W, optional ``motion``
      B×3×H×W (residual field).
    intrinsics: B×3×3 intrinsics the motion net predicted (None without the learned-intrinsics head).
    depths: N×1×H×W every full-resolution depth map the objective predicted (all frames; the parts read it).
    totals: the objectives of the optimisers besides the main one (``selfdepth_ros_training.methods.parts``), by name.
    """

    losses: dict[str, torch.Tensor]
    vis: dict[str, torch.Tensor] = field(default_factory=dict)
    intrinsics: torch.Tensor | None = None
    depths: torch.Tensor | None = None
    totals: dict[str, torch.Tensor] = field(default_factory=dict)


def square_in_source(learned: torch.Tensor | None, placeholder_K: torch.Tensor, motion_net: Any
                     ) -> torch.Tensor | None:
    """``ModelConfig.square_pixels``: the learned B×3×3 K with fx = fy in the bag's own image. The dataset's
    placeholder K of a sample without CameraInfo is square there (``fy/fx`` = the resize's aspect ``a = sy/sx``), so
    the net-size foci become ``sqrt(fx·fy/a)`` and ``sqrt(fx·fy·a)``; unchanged when the option is off."""
    config = getattr(getattr(motion_net, 'module', motion_net), 'config', None)
    if learned is None or not getattr(config, 'square_pixels', False):
        return learned
    aspect = (placeholder_K[:, 1, 1] / placeholder_K[:, 0, 0]).to(learned.dtype)
    mean = (learned[:, 0, 0] * learned[:, 1, 1]).clamp_min(1e-12)
    out = learned.clone()
    out[:, 0, 0], out[:, 1, 1] = (mean / aspect).sqrt(), (mean * aspect).sqrt()
    return out


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
