"""Part ``supervised_depth`` (004, S³Net §3.1): alternating optimiser steps, supervised on synthetic ground truth ⇄
self-supervised on real frames.

The part owns the batches of the data source ``loss.supervised_source`` (``data.alternate``; weights
``SupervisedDepthWeights``, on when ``supervised_depth > 0``). On that source's steps the depth net runs on every
frame of the batch and the step's whole objective is eq. (5), ``α_task · ‖f_T(x_s) − y_s‖₁`` in metres against
``/gt/depth`` (``selfdepth_ros_training.losses.supervised_depth``); the motion net does not run and gets no gradient. Every other
source's step is the method's self-supervised objective, untouched. Which steps are which is
``data.alternate``'s pattern (``selfdepth_ros_training.mixing``), a pure function of the step. 004 alternates synthetic
*translated* images; until the translation net exists, the synthetic frames are fed as rendered.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfdepth_ros_training.config.loss import SupervisedDepthWeights
from selfdepth_ros_training.losses.supervised_depth import supervised_depth_l1
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.parts import Part, Terms


class SupervisedDepthStep:
    """Callable ``(batch, nets) -> StepOutput``: eq. (5) on every frame of a batch with ``depth_gt``."""

    def __init__(self, weights: SupervisedDepthWeights) -> None:
        self.weights = weights

    def __call__(self, batch: dict[str, Any], nets: Mapping[str, Any]) -> StepOutput:
        images, gt = batch['images'], batch.get('depth_gt')
        if gt is None:
            raise ValueError(f"the supervised steps of source {self.weights.supervised_source!r} need "
                             "batch['depth_gt'] (build that source's dataset with load_gt=True)")
        B, S = images.shape[:2]
        depth = nets['depth'](images.flatten(0, 1))[0]  # N = B·S frames, full resolution
        w = self.weights
        l1 = supervised_depth_l1(depth, gt.flatten(0, 1), w.supervised_min_depth, w.supervised_max_depth)
        term = w.supervised_depth * l1  # eq. (5), weighted by α_task (eq. 11)
        vis = {'rgb': images[:, 0].detach(), 'depth': depth.view(B, S, *depth.shape[1:])[:, 0].detach()}
        return StepOutput({'supervised_depth': term, 'total': term}, vis, depths=depth)


def _no_terms(w: SupervisedDepthWeights, batch: dict[str, Any], out: StepOutput, nets: Any) -> Terms:
    return {}  # the other sources' steps are the objective's alone


SUPERVISED_DEPTH = Part('supervised_depth', SupervisedDepthWeights, _no_terms,
                        enabled=lambda w: w.supervised_depth > 0, data=('depth_gt',),
                        source=lambda w: w.supervised_source, step=SupervisedDepthStep)
"""004's alternating supervised steps on the synthetic source (see the module docstring)."""
