"""Trajectory metrics with ``evo``: ATE and RPE (Sim(3)-aligned for monocular), ATE over short snippets.

Poses are ``T_odom_cam`` (4×4, camera optical frame in odom, metres) as in docs/CONVENTIONS.md. Monocular
trajectories have no scale, so by default the estimate is Umeyama-aligned with scale (Sim(3)) to the ground
truth before scoring, which is what ``evo_ape … -as`` does; metric trajectories use ``alignment='se3'``.

Snippet ATE (the short-window odometry score of SfMLearner / monodepth2 and of seed 004's table): every window
of ``length`` consecutive frames is scored on its own and the per-window ATEs are averaged.
- ``protocol='sim3'``: each window Sim(3)-aligned with Umeyama (evo), ATE = RMSE of the position error.
- ``protocol='sfmlearner'`` (SfMLearner's ``compute_ate``, copied by monodepth2's ``evaluate_pose.py``): both
  windows re-expressed relative to their own first pose (so their first positions coincide at the origin), one
  least-squares scale on the translations (``Σ g·e / Σ e²``), no rotation alignment, and the published error
  ``sqrt(Σ‖s·e − g‖²) / length``. That code names it ``rmse`` but it is RMSE / sqrt(length) (÷ √5 for 5-frame
  windows); it is kept exactly so numbers compare with published tables (JSON ``snippet_ate.window_error``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from evo.core import lie_algebra as lie
from evo.core import metrics as evo_metrics
from evo.core.geometry import GeometryException
from evo.core.trajectory import PosePath3D

ALIGNMENTS = ('sim3', 'se3', 'none')
SNIPPET_PROTOCOLS = ('sim3', 'sfmlearner')
WINDOW_ERRORS = {'sim3': 'rmse of the position error after a Sim(3) Umeyama alignment',
                 'sfmlearner': 'sqrt(sum of squared position errors) / window length, after a least-squares scale '
                               '(SfMLearner / monodepth2 compute_ate)'}


def _as_pose_array(poses: Sequence[np.ndarray] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(poses, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[1:] != (4, 4):
        raise ValueError(f'{name} must be N×4×4 homogeneous poses (T_odom_cam), got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} contains non-finite values')
    return arr


def _check_pair(gt: np.ndarray, est: np.ndarray, min_poses: int) -> tuple[np.ndarray, np.ndarray]:
    gt = _as_pose_array(gt, 'gt_poses')
    est = _as_pose_array(est, 'est_poses')
    if gt.shape != est.shape:
        raise ValueError(f'gt_poses and est_poses must have the same length, got {len(gt)} and {len(est)}')
    if len(gt) < min_poses:
        raise ValueError(f'need at least {min_poses} poses, got {len(gt)}')
    return gt, est


def integrate_ego_motion(egos: Sequence[tuple[np.ndarray, np.ndarray] | None],
                         start: np.ndarray | None = None) -> np.ndarray:
    """Chain per-frame ego-motion into camera poses ``T_odom_cam``.

    ``egos[t] = (R, t)`` is the rigid transform ``cam_t ← cam_{t−1}`` (3×3 rotation, 3-vector in metres or
    relative units), so ``T_odom_cam_t = T_odom_cam_{t−1} · inv([R | t])``. ``egos[0]`` is ignored (no previous
    frame); a None later (pair reset, dropped frame) is taken as no motion.

    Args:
        egos: length-N sequence. start: 4×4 pose of frame 0 (identity by default).
    Returns:
        N×4×4 array of poses.
    """
    poses = np.empty((len(egos), 4, 4))
    current = np.eye(4) if start is None else _as_pose_array([start], 'start')[0]
    for i, ego in enumerate(egos):
        if i > 0 and ego is not None:
            rot, trans = np.asarray(ego[0], dtype=np.float64), np.asarray(ego[1], dtype=np.float64).reshape(-1)
            if rot.shape != (3, 3) or trans.shape != (3,):
                raise ValueError(f'egos[{i}] must be (R 3×3, t 3), got shapes {rot.shape} and {trans.shape}')
            inv = np.eye(4)
            inv[:3, :3] = rot.T
            inv[:3, 3] = -rot.T @ trans
            current = current @ inv
        poses[i] = current
    return poses


def align_trajectory(gt_poses: np.ndarray, est_poses: np.ndarray, alignment: str = 'sim3') -> tuple[np.ndarray, float]:
    """Align ``est_poses`` to ``gt_poses`` with Umeyama (evo): ``'sim3'`` with scale, ``'se3'`` without, or not.

    Returns:
        (N×4×4 aligned estimate, the scale applied).
    """
    if alignment not in ALIGNMENTS:
        raise ValueError(f'alignment must be one of {ALIGNMENTS}, got {alignment!r}')
    gt, est = _check_pair(gt_poses, est_poses, 1 if alignment == 'none' else 3)
    if alignment == 'none':
        return est.copy(), 1.0
    if np.ptp(est[:, :3, 3], axis=0).max() < 1e-12:
        raise ValueError('est_poses do not move: a trajectory alignment needs a non-degenerate estimate')
    path = PosePath3D(poses_se3=list(est))
    with_scale = alignment == 'sim3'
    try:
        _, _, scale = path.align(PosePath3D(poses_se3=list(gt)), correct_scale=with_scale)
    except GeometryException:
        rot, trans, scale = _umeyama_rank_deficient(est[:, :3, 3], gt[:, :3, 3], with_scale)
        path.scale(scale)  # same order as evo's align: scale, then the rigid transform
        path.transform(lie.se3(rot, trans))
    return np.asarray(path.poses_se3), float(scale)


def _umeyama_rank_deficient(x: np.ndarray, y: np.ndarray, with_scale: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Umeyama (1991) eqs. 34–43 for N×3 points ``x`` → ``y`` without evo's rank check.

    Hand-written because evo refuses a rank-deficient covariance, which every collinear path has (a straight
    road, most 5-frame snippets); the solution is then not unique but still optimal (any rotation taking the
    principal direction of ``x`` onto that of ``y``), which is all the error needs.
    """
    mx, my = x.mean(axis=0), y.mean(axis=0)
    sigma_x = np.mean(np.sum((x - mx) ** 2, axis=1))
    u, d, vt = np.linalg.svd((y - my).T @ (x - mx) / len(x))
    s = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s[2, 2] = -1
    rot = u @ s @ vt
    scale = float(np.trace(np.diag(d) @ s) / sigma_x) if with_scale else 1.0
    return rot, my - scale * rot @ mx, scale


def _stats(metric: evo_metrics.PE) -> dict[str, float]:
    s = metric.get_all_statistics()
    return {k: float(s[k]) for k in ('rmse', 'mean', 'median', 'std', 'max')}


def ate(gt_poses: np.ndarray, est_poses: np.ndarray, alignment: str = 'sim3') -> dict[str, float]:
    """Absolute trajectory error (evo APE on the translation part, metres) after alignment.

    Returns:
        ``{'rmse', 'mean', 'median', 'std', 'max', 'scale', 'poses'}``.
    """
    aligned, scale = align_trajectory(gt_poses, est_poses, alignment)
    ape = evo_metrics.APE(evo_metrics.PoseRelation.translation_part)
    ape.process_data((PosePath3D(poses_se3=list(np.asarray(gt_poses, dtype=np.float64))),
                      PosePath3D(poses_se3=list(aligned))))
    return {**_stats(ape), 'scale': scale, 'poses': len(aligned)}


def rpe(gt_poses: np.ndarray, est_poses: np.ndarray, alignment: str = 'sim3', delta: int = 1) -> dict[str, float]:
    """Relative pose error over ``delta`` frames (evo RPE), translation in metres and rotation in degrees.

    The estimate is aligned first (the scale matters for the translation part of a monocular estimate).

    Returns:
        ``{'trans_rmse', 'trans_mean', 'rot_rmse_deg', 'rot_mean_deg', 'delta', 'pairs'}``.
    """
    if delta < 1:
        raise ValueError(f'delta must be ≥ 1 frame, got {delta}')
    aligned, _ = align_trajectory(gt_poses, est_poses, alignment)
    if len(aligned) <= delta:
        raise ValueError(f'need more than delta={delta} poses, got {len(aligned)}')
    pair = (PosePath3D(poses_se3=list(np.asarray(gt_poses, dtype=np.float64))), PosePath3D(poses_se3=list(aligned)))
    out: dict[str, float] = {'delta': delta}
    for key, relation in (('trans', evo_metrics.PoseRelation.translation_part),
                          ('rot', evo_metrics.PoseRelation.rotation_angle_deg)):
        metric = evo_metrics.RPE(relation, delta=delta, delta_unit=evo_metrics.Unit.frames, all_pairs=False)
        metric.process_data(pair)
        s = _stats(metric)
        suffix = '_deg' if key == 'rot' else ''
        out[f'{key}_rmse{suffix}'] = s['rmse']
        out[f'{key}_mean{suffix}'] = s['mean']
        out['pairs'] = len(metric.error)
    return out


def _window_ate_sim3(gt: np.ndarray, est: np.ndarray) -> float:
    if np.ptp(est[:, :3, 3], axis=0).max() < 1e-12:
        # Sim(3) limit for a motionless estimate: scale 0 puts every point on the gt centroid.
        centred = gt[:, :3, 3] - gt[:, :3, 3].mean(axis=0)
        return float(np.sqrt(np.mean(np.sum(centred ** 2, axis=1))))
    return ate(gt, est, 'sim3')['rmse']


def _window_ate_sfmlearner(gt: np.ndarray, est: np.ndarray) -> float:
    # Hand-written: evo has no origin-anchored least-squares-scale variant with SfMLearner's normalisation.
    gt_xyz = (np.linalg.inv(gt[0]) @ gt)[:, :3, 3]
    est_xyz = (np.linalg.inv(est[0]) @ est)[:, :3, 3]
    denom = np.sum(est_xyz ** 2)
    scale = np.sum(gt_xyz * est_xyz) / denom if denom > 0 else 0.0
    return float(np.sqrt(np.sum((scale * est_xyz - gt_xyz) ** 2)) / len(gt_xyz))


def snippet_ate(gt_poses: np.ndarray, est_poses: np.ndarray, length: int = 5, protocol: str = 'sim3',
                stride: int = 1) -> dict[str, float]:
    """Mean ATE over all windows of ``length`` consecutive frames, each aligned on its own.

    Returns:
        ``{'mean', 'std', 'windows', 'length', 'protocol', 'window_error'}`` (metres; ``window_error`` says
        what one window's number is).
    """
    if protocol not in SNIPPET_PROTOCOLS:
        raise ValueError(f'protocol must be one of {SNIPPET_PROTOCOLS}, got {protocol!r}')
    if length < 3 or stride < 1:
        raise ValueError(f'need length ≥ 3 and stride ≥ 1, got length={length}, stride={stride}')
    gt, est = _check_pair(gt_poses, est_poses, length)
    window_ate = _window_ate_sim3 if protocol == 'sim3' else _window_ate_sfmlearner
    errors = np.array([window_ate(gt[i:i + length], est[i:i + length])
                       for i in range(0, len(gt) - length + 1, stride)])
    return {'mean': float(errors.mean()), 'std': float(errors.std()), 'windows': int(errors.size),
            'length': length, 'protocol': protocol, 'window_error': WINDOW_ERRORS[protocol]}


def trajectory_metrics(gt_poses: np.ndarray, est_poses: np.ndarray, alignment: str = 'sim3',
                       snippet_length: int = 5, snippet_protocol: str = 'sim3') -> dict:
    """ATE, RPE (delta 1 frame) and snippet ATE in one dict, as written under the JSON key ``trajectory``."""
    out: dict = {'alignment': alignment, 'ate': ate(gt_poses, est_poses, alignment),
                 'rpe': rpe(gt_poses, est_poses, alignment, delta=1)}
    if len(gt_poses) >= snippet_length:
        out['snippet_ate'] = snippet_ate(gt_poses, est_poses, snippet_length, snippet_protocol)
    return out
