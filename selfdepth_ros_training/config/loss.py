"""The ``loss:`` section: typed weights with their defaults, the one place every loss default lives.

A method's ``loss:`` section is its base objective's weights plus the weights of its switchable parts
(``selfdepth_ros_training.methods``), composed into one dataclass: the recipe writes them side by side, flat, as it always did.
The loss functions in ``selfdepth_ros_training.losses`` take their keyword defaults from here.

Each class validates its own fields in ``__post_init__`` and hands on to the next class of a composed section
(cooperative ``super()``), so a composed section checks every field exactly once.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from selfdepth_ros_training.config.validate import require as _require


class _Weights:
    """Cooperative ``__post_init__`` root of every weights class."""

    def __post_init__(self) -> None:
        pass


@dataclass
class ScalePriorWeights(_Weights):
    """Our addition to both methods (not in 001 or monodepth2): a weak prior on the log of the mean depth.

    Self-supervision fixes depth only up to scale, and in short runs the depth net escapes early, wrong ego-motion
    by pushing the whole scene to infinity (mean depth 470 m after 100 steps, 2,600 m after 600: parallax and
    its gradients vanish).
    ``depth_scale_prior · (mean log depth − log depth_prior_metres)²`` removes that escape; being weak, it leaves
    the scale free to settle with the translation (``selfdepth_ros_training.losses.scale_prior``). 0 disables it.
    """

    depth_scale_prior: float = 0.0
    """Weight of the prior (0 = off, the papers' losses only)."""
    depth_prior_metres: float = 10.0
    """Geometric-mean depth the prior pulls towards, metres (only the order of magnitude matters)."""

    def __post_init__(self) -> None:
        _require(self.depth_scale_prior >= 0.0, f'depth_scale_prior must be >= 0, got {self.depth_scale_prior}')
        _require(self.depth_prior_metres > 0.0, f'depth_prior_metres must be > 0, got {self.depth_prior_metres}')
        super().__post_init__()


DepthScalePrior = ScalePriorWeights  # the name older code used


@dataclass
class DynamicScenesWeights(_Weights):
    """001 loss weights: the effective weights of the reference implementation's defaults (its ``loss_weights``
    rgb 1, ssim 3, depth_smoothing 1e-3, rotation cycle 1e-3, translation cycle 5e-2, motion_smoothing 1,
    motion_drift 0.2, times its final factor 2, and for SSIM its extra 0.5); names as in
    ``selfdepth_ros_training.losses.dynamic_scenes``."""

    rgb_consistency: float = 2.0
    """Occlusion-masked L1 photometric term (eq. 7)."""
    ssim: float = 3.0
    """Depth-weighted (1 - SSIM)/2 term (eq. 7)."""
    depth_smoothing: float = 0.002
    """Edge-aware smoothness of mean-normalised disparity (eq. 5)."""
    rotation_cycle_consistency: float = 0.002
    """Rotation cycle consistency (eq. 6)."""
    translation_cycle_consistency: float = 0.1
    """Translation-field cycle consistency (eq. 6)."""
    motion_smoothing: float = 2.0
    """Group smoothness L_g1 of the residual field (eq. 2)."""
    motion_drift: float = 0.4
    """Self-normalising L_1/2 sparsity of the residual field (eq. 3)."""
    automask: bool = False
    """Ours, not 001: monodepth2/004's auto-mask on the photometric terms (drop pixels the un-warped frame matches
    better); without it, fine-tuning on real drives collapsed the ego-motion (``identity_automask``)."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(DynamicScenesWeights):
            value = getattr(self, f.name)
            _require(isinstance(value, bool) or value >= 0.0, f'{f.name} must be >= 0, got {value}')
        super().__post_init__()


@dataclass
class SupervisedDepthWeights(_Weights):
    """004's supervised depth on synthetic frames (eq. 5), alternated with the self-supervised objective on real
    ones (``selfdepth_ros_training.methods.supervised_depth``): the steps of data source ``supervised_source`` are the masked L1
    ``supervised_depth · mean |depth − clip(gt)|`` in metres and nothing else; every other source's steps are the
    method's self-supervised objective. 0 disables it (every step self-supervised, no ground truth read)."""

    supervised_depth: float = 0.0
    """α_task of eq. (5)/(11): weight of the L1 (metres) against ``/gt/depth`` on the supervised source's steps."""
    supervised_source: str = 'synthetic'
    """The ``data.alternate`` source whose batches carry metric ground truth (``depth_gt``) and are supervised."""
    supervised_min_depth: float = 0.01
    """Ground truth is clipped to [min, max] metres, as 004 (after T²Net) does with vKITTI's depth."""
    supervised_max_depth: float = 80.0
    """Upper clip (the simulator's sky is 1000 m: supervised as this far)."""

    def __post_init__(self) -> None:
        _require(self.supervised_depth >= 0.0, f'supervised_depth must be >= 0, got {self.supervised_depth}')
        _require(bool(self.supervised_source), 'supervised_source must name a data.alternate source')
        _require(0.0 < self.supervised_min_depth < self.supervised_max_depth,
                 'need 0 < supervised_min_depth < supervised_max_depth, got '
                 f'{self.supervised_min_depth}, {self.supervised_max_depth}')
        super().__post_init__()


DYNAMIC_SCENES_TERMS = ('rgb_consistency', 'ssim', 'depth_smoothing', 'rotation_cycle_consistency',
                        'translation_cycle_consistency', 'motion_smoothing', 'motion_drift')
"""The seven weighted terms of the 001 loss (eq. 4), in the reference's order."""


@dataclass
class MonodepthWeights(_Weights):
    """monodepth2 baseline loss: per-pixel min reprojection with auto-mask plus smoothness (no motion field)."""

    ssim_alpha: float = 0.85
    """Photometric error = alpha * (1 - SSIM)/2 + (1 - alpha) * L1."""
    smoothness: float = 1.0e-3
    """Edge-aware disparity smoothness weight, divided by 2**scale for each output scale."""
    num_scales: int = 4
    """Depth-net output scales used in the loss (each upsampled to full resolution, monodepth2 style)."""
    automask: bool = True
    """Keep only pixels whose warped error beats the identity (un-warped) error (004 / monodepth2)."""
    bidirectional_automask: bool = False
    """004 eq. (10): also reconstruct each source frame from the target (t → t′, the source's depth and the inverse
    motion) and add that direction's per-pixel minimum, auto-masked the same way; off = monodepth2 (t′ → t only)."""

    def __post_init__(self) -> None:
        _require(0.0 <= self.ssim_alpha <= 1.0, f'ssim_alpha must be in [0, 1], got {self.ssim_alpha}')
        _require(self.smoothness >= 0.0, f'smoothness must be >= 0, got {self.smoothness}')
        _require(1 <= self.num_scales <= 6, f'num_scales must be in 1..6, got {self.num_scales}')
        super().__post_init__()


AUTOMASK_TIE_BREAK = 1e-5
"""Std of the noise that breaks exact ties of the auto-mask at random (monodepth2)."""


def compose(name: str, *classes: type) -> type:
    """One weights dataclass with the fields of all ``classes`` (a base objective's and its parts'); a field
    name two of them declare is an error naming both."""
    seen: dict[str, str] = {}
    for cls in classes:
        for f in dataclasses.fields(cls):
            if f.name in seen:
                raise TypeError(f'loss weight {f.name!r} is declared by both {seen[f.name]} and {cls.__name__}')
            seen[f.name] = cls.__name__
    if len(classes) == 1:
        return classes[0]
    return dataclasses.make_dataclass(name, [], bases=tuple(classes))
