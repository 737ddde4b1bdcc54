"""The static-scene baseline (monodepth2 conventions): ego-motion only, min reprojection + auto-mask + smoothness.

A batch of triplets ``images`` B×3×3×H×W holds (t−1, t, t+1); t is the target. The depth net runs once on all
3B frames (the motion net's RGB-D input needs every frame's depth), the motion net once on the 2B ordered pairs
(t → t−1, t → t+1). The residual field is not used: every pixel moves rigidly with the camera, which is exactly
what the dynamic-scene method is compared against. For each of ``num_scales`` depth outputs, the disparity is
upsampled to full resolution, both sources are warped onto t (``z' p' = K R K⁻¹ z p + K T``) and
``selfdepth_ros_training.losses.automask.monodepth_loss`` gives the auto-masked per-pixel minimum of
``0.85·(1−SSIM)/2 + 0.15·L1`` (004 eq. 10's t′ → t direction, monodepth2) plus ``1e-3 / 2^s`` edge-aware
smoothness; with ``loss.bidirectional_automask`` (004) the target is also warped onto each source's grid with that
source's depth and the inverse motion, and eq. 10's t → t′ term, auto-masked the same way, is added;
the scales are averaged (plus the ``scale_prior`` part on every frame's depth).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from selfdepth_ros.geometry import euler_to_matrix, invert_pose, inverse_warp, make_pose
from selfdepth_ros_training.config.loss import MonodepthWeights
from selfdepth_ros_training.losses.automask import monodepth_loss
from selfdepth_ros_training.methods.common import StepOutput, select_intrinsics, square_in_source
from selfdepth_ros_training.methods.parts import Method, Objective
from selfdepth_ros_training.methods.scale_prior import SCALE_PRIOR
from selfdepth_ros_training.methods.supervised_depth import SUPERVISED_DEPTH


class MonodepthBaselineStep:
    """Callable ``(batch, nets) -> StepOutput`` for the monodepth2-style baseline (``nets['depth']``,
    ``nets['motion']``)."""

    def __init__(self, weights: MonodepthWeights) -> None:
        self.weights = weights

    def __call__(self, batch: dict[str, Any], nets: dict[str, Any]) -> StepOutput:
        depth_net, motion_net = nets['depth'], nets['motion']
        images = batch['images']
        if images.dim() != 5 or images.shape[1] != 3:
            raise ValueError('monodepth_baseline needs frame triplets (t-1, t, t+1): batch[\'images\'] '
                             f'B×3×3×H×W, got {tuple(images.shape)}')
        B, _, _, H, W = images.shape
        prev, target, nxt = images[:, 0], images[:, 1], images[:, 2]
        depths = depth_net(torch.cat([target, prev, nxt]))  # one call: all frames, all scales
        full = depths[0]
        d_t, d_prev, d_next = full[:B], full[B:2 * B], full[2 * B:]
        motion = motion_net(torch.cat([target, target]), torch.cat([d_t, d_t]),
                            torch.cat([prev, nxt]), torch.cat([d_prev, d_next]))  # (t → t−1), (t → t+1)
        learned = None
        if motion.intrinsics is not None:
            learned = 0.5 * (motion.intrinsics[:B] + motion.intrinsics[B:])
        learned = square_in_source(learned, batch['K'], motion_net)
        K = select_intrinsics(batch['K'].to(target.dtype), batch['has_intrinsics'], learned)
        R = euler_to_matrix(motion.rotation)
        sources = [prev, nxt]
        w = self.weights
        if w.bidirectional_automask:  # 004 eq. (10), t → t': the inverse motions, cam t ← cam t'
            back = invert_pose(make_pose(R, motion.translation))
            R_back, T_back = back[:, :3, :3], back[:, :3, 3]
        totals, photo, smooth = [], [], []
        for scale in range(min(w.num_scales, len(depths))):
            disp = _full_size(1.0 / depths[scale][:B], H, W)
            depth = 1.0 / disp
            warped = inverse_warp(torch.cat(sources), torch.cat([depth, depth]), torch.cat([K, K]), R,
                                  motion.translation).image
            warped_targets = None
            if w.bidirectional_automask:  # t warped onto each source's grid with that source's depth
                source_depth = 1.0 / _full_size(1.0 / depths[scale][B:], H, W)
                back_warped = inverse_warp(torch.cat([target, target]), source_depth, torch.cat([K, K]), R_back,
                                           T_back).image
                warped_targets = [back_warped[:B], back_warped[B:]]
            terms = monodepth_loss(target, [warped[:B], warped[B:]], sources, disp,
                                   smoothness_weight=w.smoothness / 2 ** scale, alpha=w.ssim_alpha,
                                   automask=w.automask, warped_targets=warped_targets)
            totals.append(terms['total'])
            photo.append(terms['photometric'])
            smooth.append(terms['smoothness'])
        n = len(totals)
        losses = {'photometric': sum(photo) / n, 'smoothness': sum(smooth) / n, 'total': sum(totals) / n}
        vis = {'rgb': target.detach(), 'depth': d_t.detach()}
        return StepOutput(losses, vis, learned.detach() if learned is not None else None, depths=full)


def _full_size(disparity: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A depth-net scale's disparity upsampled to the input size (monodepth2: the loss runs at full size)."""
    if disparity.shape[-2:] == (height, width):
        return disparity
    return F.interpolate(disparity, size=(height, width), mode='bilinear', align_corners=False)


MIN_REPROJECTION = Objective('min_reprojection', MonodepthWeights, MonodepthBaselineStep, frames=3)
METHOD = Method('monodepth_baseline', MIN_REPROJECTION, parts=(SCALE_PRIOR, SUPERVISED_DEPTH))
