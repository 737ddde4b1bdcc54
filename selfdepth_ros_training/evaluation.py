"""Held-out scoring that shows learning happened (the learning test and ``bench/learning.py`` use it).

Thin glue between the trained nets and ``selfdepth_ros.eval`` (which owns the metric definitions):
depth is scored with monodepth2's protocol (caps [1e-3, 80] m, per-image median scaling) over all pixels and
over the moving-object (dynamic) region with the same per-image ratio (002); ego-motion is chained into a
trajectory and scored as ATE after Sim(3) alignment (evo).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from selfdepth_ros.eval.metrics import DepthMetricMean
from selfdepth_ros.eval.regions import region_depth_metrics
from selfdepth_ros.eval.trajectory import ate, integrate_ego_motion, snippet_ate
from selfdepth_ros.geometry import euler_to_matrix


@torch.no_grad()
def predict_depth(depth_net: torch.nn.Module, rgb: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
    """Full-resolution depth of ``rgb`` (N×3×H×W in [0, 1]) in eval mode: N×1×H×W metres (up to scale)."""
    was_training = depth_net.training
    depth_net.eval()
    out = torch.cat([depth_net(rgb[i:i + batch_size])[0] for i in range(0, len(rgb), batch_size)])
    depth_net.train(was_training)
    return out


def score_depth(pred: Iterable[np.ndarray], gt: Iterable[np.ndarray],
                moving: Iterable[np.ndarray] | None = None) -> dict[str, float]:
    """Mean per-image metrics: ``abs_rel``, ``a1`` (δ<1.25) over all valid pixels and ``abs_rel_dynamic``,
    ``a1_dynamic`` over the moving-object region (objects >= 0.5 % of the image), one median ratio per image.

    Args:
        pred, gt: sequences of H×W depth maps (prediction up to scale; ground truth in metres).
        moving: optional sequence of H×W masks, non-zero on moving objects.
    """
    everything, dynamic = DepthMetricMean(), DepthMetricMean()
    moving = moving if moving is not None else (None for _ in iter(int, 1))
    for p, g, m in zip(pred, gt, moving):
        regions = region_depth_metrics(np.asarray(p, np.float64), np.asarray(g, np.float64),
                                       np.zeros_like(g, np.uint8) if m is None else np.asarray(m))
        everything.add(regions['all'])
        if regions['dynamic'] is not None:
            dynamic.add(regions['dynamic'])
    s_all, s_dyn = everything.summary() or {}, dynamic.summary() or {}
    nan = float('nan')
    return {'abs_rel': s_all.get('abs_rel', nan), 'a1': s_all.get('a1', nan),
            'abs_rel_dynamic': s_dyn.get('abs_rel', nan), 'a1_dynamic': s_dyn.get('a1', nan),
            'frames': s_all.get('frames', 0), 'frames_dynamic': s_dyn.get('frames', 0)}


def evaluate_depth(depth_net: torch.nn.Module, rgb: torch.Tensor, gt: torch.Tensor,
                   moving: torch.Tensor | None = None) -> dict[str, float]:
    """:func:`score_depth` of the net's predictions on ``rgb`` N×3×H×W against ``gt`` N×H×W (or N×1×H×W)."""
    pred = predict_depth(depth_net, rgb)[:, 0].double().cpu().numpy()
    gt_np = gt.reshape(len(gt), *gt.shape[-2:]).double().cpu().numpy()
    mov = None if moving is None else moving.reshape(len(moving), *moving.shape[-2:]).cpu().numpy()
    return score_depth(pred, gt_np, mov)


def constant_depth_scores(gt: torch.Tensor, moving: torch.Tensor | None = None) -> dict[str, float]:
    """The constant-depth predictor's scores (after median scaling any constant is the per-image median)."""
    gt_np = gt.reshape(len(gt), *gt.shape[-2:]).double().cpu().numpy()
    mov = None if moving is None else moving.reshape(len(moving), *moving.shape[-2:]).cpu().numpy()
    return score_depth([np.ones_like(g) for g in gt_np], gt_np, mov)


@torch.no_grad()
def predict_ego_motion(depth_net: torch.nn.Module, motion_net: torch.nn.Module, rgb: torch.Tensor,
                       K: torch.Tensor | None = None) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Per-frame ego-motion ``cam_t ← cam_{t−1}`` of a sequence ``rgb`` N×3×H×W: ``[None, (R, t), ...]``."""
    nets = (depth_net, motion_net)
    modes = [n.training for n in nets]
    for n in nets:
        n.eval()
    depth = predict_depth(depth_net, rgb)
    egos: list[Any] = [None]
    for i in range(1, len(rgb), 16):
        j = min(i + 16, len(rgb))
        out = motion_net(rgb[i - 1:j - 1], depth[i - 1:j - 1], rgb[i:j], depth[i:j])
        R = euler_to_matrix(out.rotation).double().cpu().numpy()
        t = out.translation.double().cpu().numpy()
        egos += [(R[k], t[k]) for k in range(len(R))]
    for n, mode in zip(nets, modes):
        n.train(mode)
    return egos


def evaluate_ego_motion(depth_net: torch.nn.Module, motion_net: torch.nn.Module, rgb: torch.Tensor,
                        gt_poses: np.ndarray) -> dict[str, float]:
    """Trajectory scores of the chained ego-motion of ``rgb`` (N×3×H×W) against ``gt_poses`` N×4×4 (metres).

    Returns ``{'ate': whole-sequence ATE RMSE, 'snippet_ate': mean ATE over 5-frame windows}``, both after
    Sim(3) alignment; ``ate`` is NaN when the estimate does not move at all (alignment undefined).
    """
    gt = np.asarray(gt_poses, np.float64)
    est = integrate_ego_motion(predict_ego_motion(depth_net, motion_net, rgb))
    try:
        whole = float(ate(gt, est)['rmse'])
    except ValueError:
        whole = float('nan')
    return {'ate': whole, 'snippet_ate': float(snippet_ate(gt, est, length=5)['mean'])}


def load_held_out(bag: str | Path, width: int, height: int) -> dict[str, torch.Tensor | np.ndarray]:
    """Every frame of a held-out bag at the net size with its ground truth: ``rgb`` N×3×H×W, ``depth`` N×H×W
    metres, ``moving`` N×H×W bool, ``pose`` N×4×4 ``T_odom_cam`` (numpy)."""
    from selfdepth_ros_training.data.dataset import BagFramesDataset

    ds = BagFramesDataset(bag, (width, height), offsets=(0,), min_motion=0.0, load_gt=True)
    items = [ds[i] for i in range(len(ds))]
    return {'rgb': torch.stack([it['images'][0] for it in items]),
            'depth': torch.stack([it['depth_gt'][0, 0] for it in items]),
            'moving': torch.stack([it['moving_mask'][0, 0] for it in items]),
            'pose': np.stack([it['pose_gt'][0].double().numpy() for it in items])}
