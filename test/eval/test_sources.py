"""Record streams from bags: offline Predictor runs and recorded node outputs paired by stamp."""
import numpy as np
import pytest

from selfdepth_ros.eval.evaluate import evaluate
from selfdepth_ros.eval.sources import SourceStats, open_gt_index, predictor_records, recorded_records

GT_FRAMES = 8


def test_predictor_records_pair_motion_with_previous_gt_frame(gt_bag, fake_predictor):
    index = open_gt_index(gt_bag)
    stats = SourceStats()
    recs = list(predictor_records(index, fake_predictor, stats=stats))
    assert len(recs) == GT_FRAMES and stats.predicted == GT_FRAMES
    assert recs[0].pred_motion is None and recs[0].rgb.shape == (32, 48, 3)
    np.testing.assert_array_equal(recs[2].gt_motion, index.gt('motion', 1))
    m = evaluate(recs).metrics
    assert m['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert m['motion_field']['epe'] == pytest.approx(0, abs=1e-6) and m['motion_field']['frames'] == GT_FRAMES - 1
    assert m['trajectory']['ate']['rmse'] == pytest.approx(0, abs=1e-9)
    assert m['trajectory']['ate']['scale'] == pytest.approx(3.0)
    assert m['latency_ms']['mean'] == 5.0


def test_predictor_records_respect_max_frames(gt_bag, fake_predictor):
    assert len(list(predictor_records(open_gt_index(gt_bag), fake_predictor, max_frames=3))) == 3


def test_recorded_records_pair_by_stamp_and_count_drops(gt_bag, pred_bag):
    index = open_gt_index(gt_bag)
    stats = SourceStats()
    recs = list(recorded_records(index, pred_bag, stats=stats))
    assert [r.stamp_ns for r in recs] == [int(s) for i, s in enumerate(index.stamps_ns) if i != 3]
    assert (stats.gt_frames, stats.predicted, stats.without_prediction) == (GT_FRAMES, GT_FRAMES - 1, 1)
    # frame 4's motion spans the dropped frame 3 (pair 2 → 4): not scored; frame 0 has no pair
    assert [r.pred_motion is not None for r in recs] == [False, True, True, False, True, True, True]
    m = evaluate(recs).metrics
    assert m['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert m['motion_field']['epe'] == pytest.approx(0, abs=1e-6) and m['motion_field']['frames'] == 5
    assert m['trajectory']['ate']['rmse'] == pytest.approx(0, abs=1e-9)
    assert m['latency_ms']['p50'] == pytest.approx(30.0)


def test_recorded_records_max_frames(gt_bag, pred_bag):
    stats = SourceStats()
    recs = list(recorded_records(open_gt_index(gt_bag), pred_bag, max_frames=5, stats=stats))
    assert len(recs) == 4 and (stats.gt_frames, stats.without_prediction) == (5, 1)
