"""End-to-end scoring of FrameRecord streams: exact predictions give zero error; JSON keys; missing inputs."""
import json

import numpy as np
import pytest

from selfdepth_ros.eval.evaluate import EvalConfig, FrameRecord, evaluate, resize_depth

H, W = 24, 40

def test_exact_relative_predictions_score_zero_everywhere(make_records):
    res = evaluate(make_records())
    m = res.metrics
    assert set(m) >= {'depth', 'depth_static', 'depth_dynamic', 'trajectory', 'motion_field', 'latency_ms'}
    for key in ('depth', 'depth_static', 'depth_dynamic'):
        assert m[key]['abs_rel'] == pytest.approx(0, abs=1e-6) and m[key]['a1'] == 1.0
        assert m[key]['frames'] == 8 and m[key]['scale_median'] == pytest.approx(5.0)
    assert m['trajectory']['ate']['rmse'] == pytest.approx(0, abs=1e-9)
    assert m['trajectory']['ate']['scale'] == pytest.approx(2.0)
    assert m['trajectory']['snippet_ate']['windows'] == 4
    assert m['motion_field']['epe'] == pytest.approx(0, abs=1e-6)   # motion scaled by the depth ratio
    assert m['motion_field']['static_near_zero'] == 1.0
    assert m['latency_ms']['p50'] == pytest.approx(13.5)
    json.dumps(m)  # JSON-serialisable as is
    assert res.est_positions.shape == res.gt_positions.shape == (8, 3)
    assert [s.index for s in res.samples][0] == 0 and len(res.samples) == 2


def test_metric_mode_penalises_wrong_scale(make_records):
    m = evaluate(make_records(), EvalConfig(median_scaling=False, trajectory_alignment='se3')).metrics
    assert m['depth']['abs_rel'] == pytest.approx(0.8, rel=1e-5)
    assert m['trajectory']['ate']['rmse'] > 0.5


def test_missing_inputs_give_none_keys(make_records):
    recs = make_records(3)
    for r in recs:
        r.moving_mask = r.pred_motion = r.pred_pose = r.gt_pose = r.latency_ms = None
    recs[1].gt_depth = None
    m = evaluate(recs).metrics
    assert m['depth']['frames'] == 2 and m['depth']['frames_skipped'] == 1
    assert m['depth_static'] is None and m['depth_dynamic'] is None
    assert m['trajectory'] is None and m['motion_field'] is None and m['latency_ms'] is None


def test_ego_motion_is_integrated_when_no_pose_is_given(make_records):
    recs = make_records(6)
    poses = [r.gt_pose for r in recs]
    for i, r in enumerate(recs):
        r.pred_pose = None
        if i:
            rel = np.linalg.inv(poses[i]) @ poses[i - 1]      # cam_t ← cam_{t−1}
            r.pred_ego = (rel[:3, :3], 3.0 * rel[:3, 3])     # at another scale
    m = evaluate(recs).metrics
    assert m['trajectory']['ate']['rmse'] == pytest.approx(0, abs=1e-9)
    assert m['trajectory']['ate']['scale'] == pytest.approx(1 / 3)


def test_prediction_at_net_resolution_is_resized_like_monodepth2():
    gt = np.full((H, W), 10.0, np.float32)
    small = resize_depth(np.full((H // 2, W // 2), 2.0, np.float32), gt.shape)
    assert small.shape == gt.shape and np.allclose(small, 2.0)
    rec = FrameRecord(0, np.full((H // 2, W // 2), 2.0, np.float32), gt)
    assert evaluate([rec]).metrics['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match='gt_depth must be H×W'):
        evaluate([FrameRecord(0, gt, gt[None])])
