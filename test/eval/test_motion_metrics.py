"""Motion-field EPE on moving pixels and the near-zero fraction on static pixels; latency summary."""
import numpy as np
import pytest

from selfdepth_ros.eval.latency import latency_summary
from selfdepth_ros.eval.motion_metrics import MotionFieldMetrics, moving_pixels


def _frame():
    gt = np.zeros((4, 4, 3), np.float32)
    mask = np.zeros((4, 4), np.uint8)
    mask[:2, :2] = 255                  # 4 moving pixels
    gt[:2, :2] = [1.0, 0.0, 0.0]
    pred = gt.copy()
    pred[:2, :2] += [0.0, 0.3, 0.4]     # error 0.5 m on each moving pixel
    pred[2:, :] = [0.01, 0.0, 0.0]      # 8 static pixels near zero
    pred[:2, 2:] = [0.0, 0.0, 0.1]      # 4 static pixels above the 0.05 m threshold
    return pred, gt, mask


def test_epe_and_static_near_zero_hand_computed():
    pred, gt, mask = _frame()
    metric = MotionFieldMetrics(static_threshold=0.05)
    frame = metric.add(pred, gt, mask)
    assert frame['epe'] == pytest.approx(0.5) and frame['static_near_zero'] == pytest.approx(8 / 12)
    s = metric.summary()
    assert (s['moving_pixels'], s['static_pixels'], s['frames']) == (4, 12, 1)
    assert MotionFieldMetrics(static_threshold=0.2).add(pred, gt, mask)['static_near_zero'] == 1.0


def test_scale_brings_relative_motion_to_metres_and_pixels_are_pooled():
    pred, gt, mask = _frame()
    metric = MotionFieldMetrics()
    metric.add(pred / 4.0, gt, mask, scale=4.0)          # same as frame above
    perfect = gt.copy()
    metric.add(np.concatenate([perfect] * 2, axis=1), np.concatenate([gt] * 2, axis=1),
               np.concatenate([mask] * 2, axis=1))      # 8 moving pixels with zero error
    assert metric.summary()['epe'] == pytest.approx(4 * 0.5 / 12)


def test_moving_pixels_fall_back_to_nonzero_ground_truth():
    _, gt, mask = _frame()
    assert (moving_pixels(gt) == (mask > 0)).all()
    with pytest.raises(ValueError, match='moving_mask must be H×W'):
        moving_pixels(gt, mask[:2])


def test_motion_errors():
    pred, gt, mask = _frame()
    with pytest.raises(ValueError, match='pred_motion must have shape'):
        MotionFieldMetrics().add(pred[:2], gt, mask)
    with pytest.raises(ValueError, match='gt_motion must be an H×W×3'):
        MotionFieldMetrics().add(pred, gt[..., :2], mask)
    with pytest.raises(ValueError, match='static_threshold'):
        MotionFieldMetrics(0.0)
    assert MotionFieldMetrics().summary() is None


def test_latency_summary():
    s = latency_summary([10.0, None, 20.0, 30.0, 40.0, 50.0])
    assert s == {'mean': 30.0, 'p50': 30.0, 'p90': pytest.approx(46.0), 'min': 10.0, 'max': 50.0, 'frames': 5}
    assert latency_summary([None, None]) is None
    with pytest.raises(ValueError, match='finite and non-negative'):
        latency_summary([1.0, -2.0])
