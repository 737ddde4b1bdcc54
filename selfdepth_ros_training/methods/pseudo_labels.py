"""Part ``pseudo_labels`` (seed 002, §4.3–4.4): scale-consistent depth labels for moving objects, and the
median-aligned L1 on them (eqs. 19–20, weight 0.1) added to the stage-1 losses.

Each step, the labels come from the model being trained, detached (the stage-1 model when the run starts with
``selfdepth train --init <stage-1 checkpoint>``): the frame's depth with every moving object rescaled to its
ground contact (``selfdepth_ros.eval.object_scale``). A self-training *round* is one such run; the next round is
``--init`` from the previous round's checkpoint. Where we depart from 002: no object network and no learned
scale-alignment network (the object keeps the stage-1 depth shape and gets one closed-form scale), and labels are
refreshed every step rather than frozen per round.

Object regions (``pseudo_label_regions``):

- ``motion``: the residual object-motion field, ``|T_obj| > pseudo_label_threshold`` metres (001's field);
- ``gt``: ``/gt/moving_mask`` (synthetic drives, the oracle ablation only).

Components under 0.5 % of the image are dropped (002's dynamic-region rule).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from selfdepth_ros.eval.object_scale import align_objects, label_objects
from selfdepth_ros_training.config.loss import _Weights
from selfdepth_ros_training.config.validate import require
from selfdepth_ros_training.losses.pseudo_label import median_aligned_l1
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.parts import Part, Terms

REGIONS = ('motion', 'gt')


@dataclass
class PseudoLabelWeights(_Weights):
    """002's pseudo-label term (``selfdepth_ros_training.methods.pseudo_labels``); 0 disables it."""

    pseudo_labels: float = 0.0
    """Weight of eq. (19) (002: 0.1)."""
    pseudo_label_regions: str = 'motion'
    """Where the moving objects are: 'motion' (|T_obj| of the residual field) or 'gt' (/gt/moving_mask, oracle)."""
    pseudo_label_threshold: float = 0.05
    """'motion': a pixel moves when its residual translation exceeds this, metres per frame."""
    pseudo_label_outliers: float = 0.1
    """Share of each image's largest label errors left out of eq. (19)."""

    def __post_init__(self) -> None:
        require(self.pseudo_labels >= 0.0, f'pseudo_labels must be >= 0, got {self.pseudo_labels}')
        require(self.pseudo_label_regions in REGIONS, f'pseudo_label_regions must be one of {REGIONS}, got '
                f'{self.pseudo_label_regions!r}')
        require(self.pseudo_label_threshold > 0.0,
                f'pseudo_label_threshold must be > 0, got {self.pseudo_label_threshold}')
        require(0.0 <= self.pseudo_label_outliers < 1.0,
                f'pseudo_label_outliers must be in [0, 1), got {self.pseudo_label_outliers}')
        super().__post_init__()


@dataclass
class _NoWeights(_Weights):
    pass


def moving_regions(residual: torch.Tensor, threshold: float) -> torch.Tensor:
    """N×1×H×W bool: pixels whose N×3×H×W residual translation (metres) is longer than ``threshold``."""
    if residual.dim() != 4 or residual.shape[1] != 3:
        raise ValueError(f'residual must be N×3×H×W, got {tuple(residual.shape)}')
    return residual.detach().norm(dim=1, keepdim=True) > threshold


def make_pseudo_labels(depth: torch.Tensor, moving: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(label, objects)``: the detached N×1×H×W depth with each moving object (component of ``moving``, ≥ 0.5 %
    of the image) aligned to its ground contact, and the N×1×H×W bool object pixels."""
    objects = label_objects(moving)
    label, _ = align_objects(depth.detach(), objects)
    return label, objects > 0


def _apply(w: PseudoLabelWeights, batch: dict[str, Any], out: StepOutput, nets: Any) -> Terms:
    if out.depths is None:
        raise ValueError('pseudo_labels needs the objective to return its depth maps (StepOutput.depths)')
    if w.pseudo_label_regions == 'gt':
        if batch.get('moving_mask') is None:
            raise ValueError("pseudo_label_regions 'gt' needs batch['moving_mask'] (a synthetic drive with "
                             '/gt/moving_mask)')
        moving = batch['moving_mask'][:, 0].bool()
    else:
        if 'motion' not in out.vis:
            raise ValueError("pseudo_label_regions 'motion' needs the objective's residual field (vis['motion'])")
        moving = moving_regions(out.vis['motion'], w.pseudo_label_threshold)
    depth = out.depths[:moving.shape[0]]  # frame 1 of each pair: the residual field's reference frame
    if moving.shape != depth.shape:
        raise ValueError(f'the object regions {tuple(moving.shape)} must be on the depth\'s pixels '
                         f'{tuple(depth.shape)} (a cropped loss frame is not supported)')
    label, objects = make_pseudo_labels(depth, moving.to(depth.device))
    l1 = median_aligned_l1(depth, label, objects, w.pseudo_label_outliers)  # eqs. (19)-(20)
    return {'pseudo_labels': w.pseudo_labels * l1}


PSEUDO_LABELS = Part('pseudo_labels', PseudoLabelWeights, _apply, enabled=lambda w: w.pseudo_labels > 0)
"""002's pseudo-label term (see the module docstring)."""
PSEUDO_LABELS_GT = Part('pseudo_labels_gt', _NoWeights, lambda w, b, o, n: {},
                        enabled=lambda w: w.pseudo_labels > 0 and w.pseudo_label_regions == 'gt',
                        data=('moving_mask',))
"""Declares ``moving_mask`` only for the oracle regions (a part's data is static; its terms are the part above's)."""
