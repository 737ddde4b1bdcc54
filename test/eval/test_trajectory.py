"""Trajectory metrics through evo: known perturbations give known ATE/RPE; ego-motion integration."""
import os
from pathlib import Path

import numpy as np
import pytest
from evo.tools import file_interface
from scipy.spatial.transform import Rotation

from selfdepth_ros.eval.trajectory import (align_trajectory, ate, integrate_ego_motion, rpe, snippet_ate,
                                           trajectory_metrics)

KITTI_00 = Path(os.environ['SELFDEPTH_REAL_DATA']) / 'poses' / 'KITTI_00_gt.txt'


def _curvy_path(n=60, seed=0):
    rng = np.random.default_rng(seed)
    poses = np.repeat(np.eye(4)[None], n, axis=0)
    yaw = np.cumsum(rng.normal(0, 0.05, n))
    poses[:, :3, :3] = Rotation.from_euler('y', yaw[:, None]).as_matrix()
    step = np.stack([np.sin(yaw), 0.05 * rng.normal(size=n), np.cos(yaw)], axis=1)
    poses[:, :3, 3] = np.cumsum(step, axis=0)
    return poses


def _sim3(poses, scale, rotvec, trans):
    S = np.eye(4)
    S[:3, :3] = Rotation.from_rotvec(rotvec).as_matrix()
    S[:3, 3] = trans
    out = S @ poses
    out[:, :3, 3] = scale * (S[:3, :3] @ poses[:, :3, 3].T).T + trans
    return out


def test_sim3_perturbation_gives_zero_ate_and_rpe():
    gt = _curvy_path()
    est = _sim3(gt, 0.37, [0.3, -1.0, 0.2], [5.0, -2.0, 7.0])
    a = ate(gt, est, 'sim3')
    assert a['rmse'] == pytest.approx(0, abs=1e-9) and a['scale'] == pytest.approx(1 / 0.37)
    r = rpe(gt, est, 'sim3')
    assert r['trans_rmse'] == pytest.approx(0, abs=1e-9) and r['rot_rmse_deg'] == pytest.approx(0, abs=1e-6)
    assert snippet_ate(gt, est, 5)['mean'] == pytest.approx(0, abs=1e-9)
    assert snippet_ate(gt, est, 5, protocol='sfmlearner')['mean'] == pytest.approx(0, abs=1e-9)
    assert ate(gt, est, 'se3')['rmse'] > 1.0  # without scale the error remains
    assert ate(gt, est, 'none')['rmse'] > 1.0


def test_constant_offset_unaligned_equals_offset():
    gt = _curvy_path()
    est = gt.copy()
    est[:, :3, 3] += [0.3, 0.0, 0.4]
    assert ate(gt, est, 'none')['rmse'] == pytest.approx(0.5)
    assert ate(gt, est, 'se3')['rmse'] == pytest.approx(0, abs=1e-9)
    assert rpe(gt, est, 'none')['trans_rmse'] == pytest.approx(0, abs=1e-12)


def test_rpe_known_step_error():
    gt = np.repeat(np.eye(4)[None], 6, axis=0)
    gt[:, 0, 3] = np.arange(6.0)                  # 1 m per frame along x
    est = gt.copy()
    est[:, 0, 3] = 1.1 * np.arange(6.0)           # 1.1 m per frame: 0.1 m relative error per step
    assert rpe(gt, est, 'none')['trans_rmse'] == pytest.approx(0.1)
    assert rpe(gt, est, 'sim3')['trans_rmse'] == pytest.approx(0, abs=1e-9)  # collinear path: evo fallback


def test_snippet_ate_sfmlearner_hand_computed():
    gt = np.repeat(np.eye(4)[None], 5, axis=0)
    gt[:, 0, 3] = [0, 1, 2, 3, 4]
    est = gt.copy()
    est[:, 0, 3] = [0, 1, 2, 3, 5]
    # scale = Σ g·e / Σ e² = 34/39; Σ (s e − g)² = 30 − 34²/39 = 14/39; SfMLearner divides the root by 5
    s = snippet_ate(gt, est, 5, protocol='sfmlearner')
    assert s['mean'] == pytest.approx(np.sqrt(14 / 39) / 5) and s['windows'] == 1


def test_snippet_ate_motionless_estimate_is_the_sim3_limit():
    gt = np.repeat(np.eye(4)[None], 5, axis=0)
    gt[:, 0, 3] = [0, 1, 2, 3, 4]
    est = np.repeat(np.eye(4)[None], 5, axis=0)
    assert snippet_ate(gt, est, 5)['mean'] == pytest.approx(np.sqrt(2.0))  # RMS distance to the centroid


def test_known_noise_gives_known_rmse():
    rng = np.random.default_rng(1)
    gt = _curvy_path(2000, seed=2)
    sigma = 0.05
    est = gt.copy()
    est[:, :3, 3] += rng.normal(0, sigma, size=(len(gt), 3))
    est = _sim3(est, 2.5, [0.1, 0.2, 0.3], [1.0, 2.0, 3.0])
    assert ate(gt, est, 'sim3')['rmse'] == pytest.approx(sigma * np.sqrt(3), rel=0.03)


def test_integrate_ego_motion_inverts_relative_poses():
    gt = _curvy_path(20)
    egos = [None] + [(T[:3, :3], T[:3, 3]) for T in (np.linalg.inv(gt[i]) @ gt[i - 1] for i in range(1, 20))]
    np.testing.assert_allclose(integrate_ego_motion(egos, start=gt[0]), gt, atol=1e-9)


def test_integrate_ego_motion_hand_case():
    # cam_t ← cam_{t−1} maps X to X − (0, 0, 1): the camera moved 1 m forward (+z); a None step is no motion
    egos = [None, (np.eye(3), np.array([0, 0, -1.0])), None, (np.eye(3), np.array([0, 0, -1.0]))]
    np.testing.assert_allclose(integrate_ego_motion(egos)[:, 2, 3], [0, 1, 1, 2])
    with pytest.raises(ValueError, match=r'egos\[1\] must be \(R 3×3, t 3\)'):
        integrate_ego_motion([None, (np.eye(2), np.zeros(3))])


@pytest.mark.skipif(not KITTI_00.is_file(), reason='KITTI_00_gt.txt not available')
def test_real_kitti_trajectory_perturbed():
    gt = np.asarray(file_interface.read_kitti_poses_file(str(KITTI_00)).poses_se3)
    assert len(gt) == 4541
    est = _sim3(gt, 0.02, [0.0, 0.5, 0.0], [10.0, 0.0, -3.0])  # monocular: arbitrary scale and frame
    assert ate(gt, est, 'sim3')['rmse'] == pytest.approx(0, abs=1e-6)
    sigma = 0.5
    noisy = gt.copy()
    noisy[:, :3, 3] += np.random.default_rng(3).normal(0, sigma, size=(len(gt), 3))
    a = ate(gt, _sim3(noisy, 0.02, [0.0, 0.5, 0.0], [10.0, 0.0, -3.0]), 'sim3')
    assert a['rmse'] == pytest.approx(sigma * np.sqrt(3), rel=0.03) and a['scale'] == pytest.approx(50, rel=1e-3)
    short = trajectory_metrics(gt[:200], est[:200])
    assert short['snippet_ate']['windows'] == 196 and short['snippet_ate']['mean'] == pytest.approx(0, abs=1e-6)


def test_alignment_and_shape_errors():
    gt = _curvy_path(10)
    with pytest.raises(ValueError, match='same length'):
        ate(gt, gt[:5])
    with pytest.raises(ValueError, match='est_poses must be N×4×4'):
        ate(gt, gt[:, :3])
    with pytest.raises(ValueError, match='alignment must be one of'):
        align_trajectory(gt, gt, 'affine')
    with pytest.raises(ValueError, match='do not move'):
        ate(gt, np.repeat(np.eye(4)[None], 10, axis=0))
    with pytest.raises(ValueError, match='protocol must be one of'):
        snippet_ate(gt, gt, protocol='kitti')
