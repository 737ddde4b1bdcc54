"""Depth metrics against hand-computed values, median scaling, caps and monodepth2's per-frame accumulation."""
import math

import numpy as np
import pytest

from selfdepth_ros.eval.metrics import (METRIC_NAMES, DepthCaps, DepthMetricMean, compute_depth_errors,
                                        frame_depth_metrics, median_scale, valid_depth_mask)

GT = np.array([1.0, 2.0, 4.0, 3.0])
PRED = np.array([1.4, 2.0, 2.2, 3.6])  # ratios max(d/d*, d*/d) = 1.4, 1, 1.818, 1.2


def test_seven_metrics_hand_computed():
    m = compute_depth_errors(PRED, GT)
    assert set(m) == set(METRIC_NAMES)
    assert m['abs_rel'] == pytest.approx((0.4 / 1 + 0 + 1.8 / 4 + 0.6 / 3) / 4)      # 0.2625
    assert m['sq_rel'] == pytest.approx((0.16 / 1 + 0 + 3.24 / 4 + 0.36 / 3) / 4)   # 0.2725
    assert m['rmse'] == pytest.approx(math.sqrt((0.16 + 0 + 3.24 + 0.36) / 4))       # sqrt(0.94)
    logs = [math.log(1 / 1.4), 0.0, math.log(4 / 2.2), math.log(3 / 3.6)]
    assert m['rmse_log'] == pytest.approx(math.sqrt(sum(v * v for v in logs) / 4))
    assert (m['a1'], m['a2'], m['a3']) == pytest.approx((2 / 4, 3 / 4, 4 / 4))


def test_perfect_prediction_scores_zero_error():
    m = compute_depth_errors(GT, GT)
    assert [m[k] for k in ('abs_rel', 'sq_rel', 'rmse', 'rmse_log')] == [0, 0, 0, 0]
    assert [m[k] for k in ('a1', 'a2', 'a3')] == [1, 1, 1]


def test_median_scaling_removes_any_global_scale():
    rng = np.random.default_rng(0)
    gt = rng.uniform(2, 60, size=(12, 20))
    noisy = gt * rng.uniform(0.9, 1.1, size=gt.shape)
    ref = frame_depth_metrics(noisy, gt)
    for k in (0.01, 3.0, 250.0):
        m = frame_depth_metrics(noisy * k, gt)
        assert m['abs_rel'] == pytest.approx(ref['abs_rel'])
        assert m['scale'] == pytest.approx(ref['scale'] / k)
    exact = frame_depth_metrics(gt / 7.0, gt)
    assert exact['scale'] == pytest.approx(7.0) and exact['abs_rel'] == pytest.approx(0, abs=1e-12)


def test_median_ratio_then_clip_hand_computed():
    gt = np.array([[1.0, 2.0, 3.0]])
    pred = np.array([[2.0, 4.0, 100.0]])  # median ratio 2 / 4 = 0.5 → [1, 2, 50]
    assert median_scale(pred.ravel(), gt.ravel()) == 0.5
    m = frame_depth_metrics(pred, gt)
    assert m['scale'] == 0.5
    assert m['abs_rel'] == pytest.approx((0 + 0 + 47 / 3) / 3)
    # metric mode: no scaling, predictions clipped to the 80 m cap
    m = frame_depth_metrics(np.array([[200.0]]), np.array([[50.0]]), median_scaling=False)
    assert m['scale'] == 1.0 and m['abs_rel'] == pytest.approx(30 / 50)


def test_invalid_ground_truth_and_predictions_are_ignored():
    gt = np.array([[np.nan, np.inf, 0.0, 1e-4, 100.0, 80.0, 10.0, 20.0]])
    pred = np.array([[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 10.0, np.nan]])
    valid = valid_depth_mask(pred, gt)
    assert valid.tolist() == [[False, False, False, False, False, False, True, False]]
    m = frame_depth_metrics(pred, gt, median_scaling=False)
    assert m['abs_rel'] == 0.0
    custom = DepthCaps(min_depth=0.5, max_depth=150.0)
    assert valid_depth_mask(pred, gt, custom).sum() == 3  # 100 m and 80 m now count
    assert frame_depth_metrics(np.ones((2, 2)), np.full((2, 2), np.nan)) is None


def test_accumulation_is_mean_of_per_frame_metrics_not_pixel_pooled():
    acc = DepthMetricMean()
    f1 = frame_depth_metrics(np.array([[2.0]]), np.array([[1.0]]), median_scaling=False)  # abs_rel 1
    f2 = frame_depth_metrics(np.full((1, 3), 1.0), np.full((1, 3), 1.0), median_scaling=False)  # abs_rel 0
    acc.add(f1)
    acc.add(f2)
    acc.add(None)
    s = acc.summary()
    assert s['abs_rel'] == pytest.approx(0.5)  # pooled over pixels would be 0.25
    assert s['frames'] == 2 and s['frames_skipped'] == 1
    assert DepthMetricMean().summary() is None


def test_scale_spread_is_monodepth2_ratio_std():
    acc = DepthMetricMean()
    gt = np.full((2, 2), 10.0)
    for k in (1.0, 2.0, 4.0):
        acc.add(frame_depth_metrics(gt / k, gt))
    s = acc.summary()
    assert s['scale_median'] == pytest.approx(2.0)
    assert s['scale_std'] == pytest.approx(np.std([0.5, 1.0, 2.0]))


def test_errors_name_argument_and_shape():
    with pytest.raises(ValueError, match='pred must have the shape of gt'):
        frame_depth_metrics(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match='gt must be an H×W'):
        valid_depth_mask(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match='min_depth < max_depth'):
        DepthCaps(min_depth=5, max_depth=1)
    with pytest.raises(ValueError, match='non-empty 1-D'):
        compute_depth_errors(np.ones(0), np.ones(0))
