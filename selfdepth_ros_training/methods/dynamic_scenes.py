"""001 (Li et al., CoRL 2020): depth + ego-motion + residual object-motion field from frame pairs.

A batch of B pairs ``images`` B×2×3×H×W becomes the 2B stack the 001 loss expects: the first B samples are
(frame 1 → frame 2), the last B the same pairs reversed. The depth net runs once on all 2B frames, the motion
net once on the 2B ordered RGB-D pairs; ``selfdepth_ros_training.losses.dynamic_scenes.dynamic_scenes_loss`` then adds eq. (7)
photometric + SSIM, eq. (5) depth smoothing, eq. (6) rotation / translation cycle consistency and eqs. (2)-(3)
motion-field smoothness and sparsity with the recipe's weights
(plus the ``scale_prior`` part). With ``data.random_scale_crop`` the loss sees 003's crops
(``selfdepth_ros_training.methods.pair_forward``); the parts read the full frames' depth.
"""
from __future__ import annotations

from typing import Any

from selfdepth_ros_training.config.loss import DYNAMIC_SCENES_TERMS, DynamicScenesWeights
from selfdepth_ros_training.losses.dynamic_scenes import dynamic_scenes_loss
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.pair_forward import pair_forward
from selfdepth_ros_training.methods.parts import Method, Objective
from selfdepth_ros_training.methods.pseudo_labels import PSEUDO_LABELS, PSEUDO_LABELS_GT
from selfdepth_ros_training.methods.relative_depth import RELATIVE_DEPTH, RELATIVE_DEPTH_GT
from selfdepth_ros_training.methods.scale_prior import SCALE_PRIOR
from selfdepth_ros_training.methods.supervised_depth import SUPERVISED_DEPTH


class DynamicScenesStep:
    """Callable ``(batch, nets) -> StepOutput``: the 001 objective (``nets['depth']``, ``nets['motion']``)."""

    def __init__(self, weights: DynamicScenesWeights) -> None:
        self.weights = {k: getattr(weights, k) for k in DYNAMIC_SCENES_TERMS}
        self.automask = bool(weights.automask)

    def __call__(self, batch: dict[str, Any], nets: dict[str, Any]) -> StepOutput:
        images = batch['images']
        B = images.shape[0]
        f = pair_forward(batch, nets['depth'], nets['motion'])  # 003's crop when the batch has one
        losses = dynamic_scenes_loss(f.rgb, f.depth, f.rotation, f.translation, f.residual, f.K, self.weights,
                                     automask=self.automask)
        vis = {'rgb': f.rgb[:B].detach(), 'depth': f.depth[:B].detach(), 'motion': f.residual[:B].detach()}
        learned = f.learned.detach() if f.learned is not None else None
        return StepOutput(losses, vis, learned, depths=f.full_depth)


DYNAMIC_SCENES = Objective('dynamic_scenes', DynamicScenesWeights, DynamicScenesStep, frames=2)
METHOD = Method('dynamic_scenes', DYNAMIC_SCENES, parts=(SCALE_PRIOR, SUPERVISED_DEPTH, PSEUDO_LABELS,
                                                          PSEUDO_LABELS_GT, RELATIVE_DEPTH, RELATIVE_DEPTH_GT))
