"""Part ``scale_prior`` (ours, every shipped method): a weak prior on the depth scale, on every depth map the
objective predicted (``selfdepth_ros_training.losses.scale_prior``; weights ``ScalePriorWeights``, on when
``depth_scale_prior > 0``)."""
from __future__ import annotations

from typing import Any

from selfdepth_ros_training.config.loss import ScalePriorWeights
from selfdepth_ros_training.losses.scale_prior import depth_scale_prior
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.parts import Part, Terms


def _apply(w: ScalePriorWeights, batch: dict[str, Any], out: StepOutput, nets: Any) -> Terms:
    if out.depths is None:
        raise ValueError('the scale prior needs the objective to return its depth maps (StepOutput.depths)')
    return {'depth_scale_prior': w.depth_scale_prior * depth_scale_prior(out.depths, w.depth_prior_metres)}


SCALE_PRIOR = Part('scale_prior', ScalePriorWeights, _apply, enabled=lambda w: w.depth_scale_prior > 0)
