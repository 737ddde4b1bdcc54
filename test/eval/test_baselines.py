"""Trivial baselines: constant depth (per-frame median / global median) and straight-ahead ego-motion, scored on
exactly the model's pixels and frames, with hand-computed values."""
import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from selfdepth_ros.eval.baselines import frame_steps, straight_ahead_metrics, straight_ahead_poses
from selfdepth_ros.eval.evaluate import EvalConfig, FrameRecord, evaluate


def _frame(t, gt, pred=None, mask=None):
    gt = np.asarray(gt, np.float32)
    return FrameRecord(stamp_ns=t * 100_000_000, pred_depth=gt.copy() if pred is None else np.asarray(pred, np.float32),
                       gt_depth=gt, moving_mask=mask)


def test_constant_depth_median_scaled_hand_computed():
    # frame A: median 2 → errors |1−2|/1, 0, |4−2|/4; frame B: constant 8 = gt
    m = evaluate([_frame(0, [[1.0, 2.0, 4.0]]), _frame(1, [[8.0, 8.0, 8.0]])]).metrics
    assert m['depth']['abs_rel'] == pytest.approx(0, abs=1e-12)      # the model predicts gt exactly
    c = m['baselines']['constant_depth']
    assert c['depth']['abs_rel'] == pytest.approx((0.5 + 0.0) / 2)    # A: (1 + 0 + 0.5) / 3 = 0.5
    assert c['depth']['sq_rel'] == pytest.approx((2 / 3 + 0.0) / 2)   # A: (1 + 0 + 4/4) / 3
    assert c['depth']['rmse'] == pytest.approx(np.sqrt(5 / 3) / 2)
    assert c['depth']['a1'] == pytest.approx((1 / 3 + 1) / 2)
    assert c['depth']['frames'] == 2 and c['constant_m'] is None and 'median(gt) of each frame' in c['prediction']
    assert 'scale_median' not in c['depth']
    json.dumps(m)


def test_constant_depth_metric_is_the_median_of_all_gt():
    recs = [_frame(0, [[1.0, 2.0, 4.0]]), _frame(1, [[8.0, 8.0, 8.0]])]
    m = evaluate(recs, EvalConfig(median_scaling=False)).metrics
    c = m['baselines']['constant_depth']
    assert c['constant_m'] == pytest.approx(6.0)                       # median of 1, 2, 4, 8, 8, 8
    assert c['depth']['abs_rel'] == pytest.approx(((5 + 2 + 0.5) / 3 + 2 / 8) / 2)
    assert 'median of all scored ground-truth depths' in c['prediction']
    assert m['depth']['abs_rel'] == pytest.approx(0, abs=1e-12)


def test_constant_depth_uses_the_models_pixels():
    # 100 m is beyond the cap, the NaN prediction masks the 4 m pixel: only 1 m and 2 m count (median 1.5)
    rec = _frame(0, [[1.0, 2.0, 4.0, 100.0]], pred=[[1.0, 2.0, np.nan, 3.0]])
    for cfg in (EvalConfig(), EvalConfig(median_scaling=False)):
        c = evaluate([rec], cfg).metrics['baselines']['constant_depth']
        assert c['depth']['abs_rel'] == pytest.approx((0.5 / 1 + 0.5 / 2) / 2)


def test_constant_depth_static_dynamic_share_one_median():
    mask = np.array([[0, 0, 0, 255]], np.uint8)          # one moving pixel = 25 % of the image
    recs = [_frame(0, [[1.0, 2.0, 4.0, 8.0]], mask=mask), _frame(1, [[3.0, 3.0, 3.0, 3.0]], mask=mask * 0)]
    m = evaluate(recs).metrics
    c = m['baselines']['constant_depth']
    # frame 0: median 3 over all pixels; static {1, 2, 4}, dynamic {8}; frame 1 has no dynamic region
    assert c['depth_static']['abs_rel'] == pytest.approx(((2 + 0.5 + 0.25) / 3 + 0) / 2)
    assert c['depth_dynamic']['abs_rel'] == pytest.approx(5 / 8) and c['depth_dynamic']['frames'] == 1
    assert c['depth_static']['frames'] == m['depth_static']['frames'] == 2
    m = evaluate(recs, EvalConfig(median_scaling=False)).metrics
    c = m['baselines']['constant_depth']                 # metric: median of 1 2 4 8 3 3 3 3 = 3
    assert c['constant_m'] == pytest.approx(3.0) and c['depth_dynamic']['abs_rel'] == pytest.approx(5 / 8)


def test_exact_model_beats_both_baselines(make_records):
    m = evaluate(make_records()).metrics
    c, s = m['baselines']['constant_depth'], m['baselines']['straight_ahead']
    for key in ('depth', 'depth_static', 'depth_dynamic'):
        assert m[key]['abs_rel'] == pytest.approx(0, abs=1e-6) and c[key]['abs_rel'] > 0.05
        assert c[key]['frames'] == m[key]['frames']
    assert m['trajectory']['snippet_ate']['mean'] == pytest.approx(0, abs=1e-9)
    assert s['snippet_ate']['mean'] > 1e-3 and s['ate']['rmse'] > 0.05     # the path weaves: sin(0.3 t)
    assert s['ate']['poses'] == m['trajectory']['ate']['poses'] and s['alignment'] == 'sim3'


def _straight_gt(n=12, speed=1.3):
    # a camera pitched and yawed in odom, driving along its own optical axis at constant speed
    start = np.eye(4)
    start[:3, :3] = Rotation.from_euler('yx', [0.7, -0.1]).as_matrix()
    start[:3, 3] = [4.0, -1.0, 2.0]
    return straight_ahead_poses(start, np.arange(n), speed)


@pytest.mark.parametrize('alignment', ['sim3', 'se3'])
@pytest.mark.parametrize('protocol', ['sim3', 'sfmlearner'])
def test_straight_ahead_scores_zero_on_a_straight_constant_speed_drive(alignment, protocol):
    gt = _straight_gt()
    s = straight_ahead_metrics(gt, np.arange(12) * 100_000_000, alignment, 5, protocol)
    assert s['snippet_ate']['mean'] == pytest.approx(0, abs=1e-9) and s['snippet_ate']['protocol'] == protocol
    assert s['ate']['rmse'] == pytest.approx(0, abs=1e-9) and s['rpe']['trans_rmse'] == pytest.approx(0, abs=1e-9)
    assert s['speed_m_per_frame'] == pytest.approx(1.0 if alignment == 'sim3' else 1.3)


def test_straight_ahead_in_the_evaluator_uses_the_models_frames_and_protocol():
    gt = _straight_gt(8)
    recs = [FrameRecord(t * 100_000_000, None, None, gt_pose=gt[t], pred_pose=gt[t]) for t in range(8)]
    recs[2].pred_pose = None                               # no prediction: left out for both
    m = evaluate(recs, EvalConfig(snippet_protocol='sfmlearner')).metrics
    s = m['baselines']['straight_ahead']
    assert s['ate']['poses'] == m['trajectory']['ate']['poses'] == 7
    assert s['snippet_ate']['protocol'] == 'sfmlearner' and s['snippet_ate']['mean'] == pytest.approx(0, abs=1e-9)


def test_frame_steps_follow_the_stamps():
    np.testing.assert_allclose(frame_steps(np.array([0, 100, 300, 400])), [0, 1, 3, 4])   # a dropped frame
    np.testing.assert_allclose(frame_steps(np.array([5, 5, 5])), [0, 1, 2])               # no interval: indices
