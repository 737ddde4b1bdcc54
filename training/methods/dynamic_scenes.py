"""001 (Li et al., CoRL 2020): depth + ego-motion + residual object-motion field from frame pairs.

A batch of B pairs ``images`` B×2×3×H×W becomes the 2B stack the 001 loss expects: the first B samples are
(frame 1 → frame 2), the last B the same pairs reversed. The depth net runs once on all 2B frames, the motion
net once on the 2B ordered RGB-D pairs; ``training.losses.dynamic_scenes.dynamic_scenes_loss`` then adds eq. (7)
photometric + SSIM, eq. (5) depth smoothing, eq. (6) rotation / translation cycle consistency and eqs. (2)-(3)
motion-field smoothness and sparsity with the recipe's weights
(plus the ``scale_prior`` part).
"""
from __future__ import annotations

from typing import Any

import torch

from training.config.loss import DYNAMIC_SCENES_TERMS, DynamicScenesWeights
from training.losses.dynamic_scenes import dynamic_scenes_loss
from training.methods.common import StepOutput, select_intrinsics
from training.methods.parts import Method, Objective
from training.methods.scale_prior import SCALE_PRIOR
from training.methods.supervised_depth import SUPERVISED_DEPTH


class DynamicScenesStep:
    """Callable ``(batch, nets) -> StepOutput``: the 001 objective (``nets['depth']``, ``nets['motion']``)."""

    def __init__(self, weights: DynamicScenesWeights) -> None:
        self.weights = {k: getattr(weights, k) for k in DYNAMIC_SCENES_TERMS}
        self.automask = bool(weights.automask)

    def __call__(self, batch: dict[str, Any], nets: dict[str, Any]) -> StepOutput:
        depth_net, motion_net = nets['depth'], nets['motion']
        images = batch['images']
        if images.dim() != 5 or images.shape[1] != 2:
            raise ValueError(f"dynamic_scenes needs frame pairs: batch['images'] B×2×3×H×W, got {tuple(images.shape)}")
        B = images.shape[0]
        rgb = torch.cat([images[:, 0], images[:, 1]])  # 2B: frame 1 of each order
        other = torch.cat([images[:, 1], images[:, 0]])
        depth = depth_net(rgb)[0]  # full-resolution depth of all 2B frames
        other_depth = torch.cat([depth[B:], depth[:B]])
        motion = motion_net(rgb, depth, other, other_depth)
        learned = None
        if motion.intrinsics is not None:
            learned = 0.5 * (motion.intrinsics[:B] + motion.intrinsics[B:])  # 001: both orders, one camera
        K = select_intrinsics(batch['K'].to(rgb.dtype), batch['has_intrinsics'], learned)
        losses = dynamic_scenes_loss(rgb, depth, motion.rotation, motion.translation, motion.residual,
                                     torch.cat([K, K]), self.weights, automask=self.automask)
        vis = {'rgb': images[:, 0].detach(), 'depth': depth[:B].detach(), 'motion': motion.residual[:B].detach()}
        return StepOutput(losses, vis, learned.detach() if learned is not None else None, depths=depth)


DYNAMIC_SCENES = Objective('dynamic_scenes', DynamicScenesWeights, DynamicScenesStep, frames=2)
METHOD = Method('dynamic_scenes', DYNAMIC_SCENES, parts=(SCALE_PRIOR, SUPERVISED_DEPTH))
