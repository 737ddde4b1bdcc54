"""Corrupt data inside a bag (issue 12): implausible ground truth, a corrupt frame and stamps going backwards are
skipped with a reason, counted in the JSON ``skipped`` and stated in the first headline line; what is left is
scored as if the bad messages were not there. Bags written by BagWriter (write_raw for the corrupt frame)."""
import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros.eval.cli import main as eval_main, skipped_reasons, what_was_scored
from selfdepth_ros.eval.evaluate import evaluate
from selfdepth_ros.eval.plausibility import REASONS, SkipLog
from selfdepth_ros.eval.sources import SourceStats, open_gt_index, predictor_records
from selfdepth_ros.image_codec import rosbags_typestore

W, H, N = 48, 32, 14
K = np.array([[40.0, 0, 23.5], [0, 40.0, 15.5], [0, 0, 1]])
FID = 'camera_optical_frame'


def _stamp(t):
    return 1_000_000_000 + 100_000_000 * t


def _pose(t):
    pose = np.eye(4)
    pose[:3, 3] = [np.sin(0.4 * t), 0.0, 1.0 * t]
    return pose


def _mask():
    mask = np.zeros((H, W), np.uint8)
    mask[:, : W // 4] = 255
    return mask


def _motion(value):
    field = np.zeros((H, W, 3), np.float32)
    field[_mask() > 0] = [0.0, 0.0, value]
    return field


def _bag(path, corrupt=True):
    """N frames; with ``corrupt``: frame 2's image data truncated, GT depth of 6 with a −5 m pixel, GT motion of 4
    with a 3.6e12 m vector, GT pose of 8 at 3.6e12 m, image stamps of 10 and 11 before frame 0 (backwards)."""
    rng = np.random.default_rng(0)
    ts = rosbags_typestore()
    with BagWriter(path) as bag:
        for t in range(N):
            stamp = _stamp(t)
            img_stamp = 500_000_000 + t if corrupt and t in (10, 11) else stamp
            img = m.image_msg(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), 'rgb8', img_stamp, FID)
            if corrupt and t == 2:
                bad = dataclasses.replace(img, data=img.data[:-7])
                bag.write_raw('/camera/image_raw', m.IMAGE, ts.serialize_cdr(bad, m.IMAGE), stamp)
            else:
                bag.write('/camera/image_raw', m.IMAGE, img, stamp)
            bag.write_camera_info('/camera/camera_info', K, W, H, img_stamp, FID)
            depth = np.full((H, W), t + 1.0, np.float32)
            if corrupt and t == 6:
                depth[5, 5] = -5.0
            bag.write_image('/gt/depth', depth, '32FC1', stamp, FID)
            pose = _pose(t)
            if corrupt and t == 8:
                pose[0, 3] = 3.6e12
            bag.write_odometry('/gt/odom', pose, stamp, 'odom', FID)
            motion = _motion(t + 1.0)
            if corrupt and t == 4:
                motion[0, 0] = [3.6e12, 0, 0]
            bag.write_image('/gt/motion', motion, '32FC3', stamp, FID)
            bag.write_image('/gt/moving_mask', _mask(), 'mono8', stamp, FID)
    return path


class StampPredictor:
    """Exact depth t+1 and motion; ego-motion exact at 1/3 scale, from the frame stamps; ``reset`` starts a pair."""

    def __init__(self):
        self.prev = None

    def reset(self, reason=''):
        self.prev = None

    def predict(self, rgb, K, stamp_ns):
        t = round((stamp_ns - 1_000_000_000) / 100_000_000)
        ego = None
        if self.prev is not None:
            rel = np.linalg.inv(_pose(t)) @ _pose(self.prev)
            ego = (rel[:3, :3], rel[:3, 3] / 3.0)
        self.prev = t
        return SimpleNamespace(depth=np.full((H, W), t + 1.0, np.float32), ego=ego,
                               motion=_motion(float(t)) if ego is not None else None, latency_ms=5.0)


EXPECTED = {'corrupt image on /camera/image_raw': 1, 'non-monotonic stamps': 2, REASONS['depth']: 1,
            REASONS['motion']: 1, REASONS['pose']: 1}


def test_corrupt_messages_are_skipped_with_reasons_and_the_rest_scored(tmp_path, capsys):
    with pytest.warns(UserWarning):
        index = open_gt_index(_bag(tmp_path / 'bag'))
    skips, stats = SkipLog(), SourceStats()
    result = evaluate(predictor_records(index, StampPredictor(), stats=stats, skips=skips))
    result.metrics['skipped'] = skipped_reasons(index, skips)
    index.close()
    mt = result.metrics
    assert mt['skipped'] == EXPECTED
    assert mt['frames'] == 11  # 14 − the corrupt image − 2 backwards stamps
    assert mt['scored']['depth_frames'] == 10  # frame 6's depth is implausible
    assert mt['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert mt['motion_field']['epe'] == pytest.approx(0, abs=1e-6)  # the 3.6e12 m vector is not scored
    assert mt['scored']['motion_pairs'] == 7  # pairs 1 (3, 4, 5 with 4 skipped ...): every pair but the bad one
    # pair resets at the two gaps (after frame 1, after frame 9): the longest run 3..9 without frame 8's pose
    assert mt['trajectory']['ate']['poses'] == 6 and mt['trajectory']['ate']['rmse'] == pytest.approx(0, abs=1e-6)
    assert stats.extra['pair_resets_at_gaps'] == 2
    line = what_was_scored(mt)
    assert line.startswith('depth: 10 of 11 frames, trajectory: 6 poses, motion: 7 pairs (longest run')
    assert '; skipped: 1 corrupt image on /camera/image_raw, ' in line and '2 non-monotonic stamps' in line
    err = capsys.readouterr().err
    assert '/gt/motion of frame ' in err and '/gt/depth of frame ' in err and '/gt/odom of frame ' in err


def test_clean_bag_skips_nothing(tmp_path):
    index = open_gt_index(_bag(tmp_path / 'bag', corrupt=False))
    skips = SkipLog()
    mt = evaluate(predictor_records(index, StampPredictor(), skips=skips)).metrics
    assert skipped_reasons(index, skips) == {}
    assert (mt['frames'], mt['scored']['depth_frames'], mt['trajectory']['ate']['poses']) == (N, N, N)


def test_eval_cli_json_has_skipped_and_the_headline_says_it(tmp_path, capsys):
    gt = _bag(tmp_path / 'gt')
    pred = tmp_path / 'pred'
    with BagWriter(pred) as bag:  # the node's outputs: exact depth at every clean stamp
        for t in range(N):
            bag.write('/selfdepth/depth', m.IMAGE, m.image_msg(np.full((H, W), t + 1.0, np.float32), '32FC1',
                                                               _stamp(t), FID), _stamp(t) + 1000)
    out = tmp_path / 'm.json'
    with pytest.warns(UserWarning):
        assert eval_main(['--pred-bag', str(pred), '--bag', str(gt), '--json', str(out)]) == 0
    data = json.loads(out.read_text())
    assert data['skipped'] == {k: v for k, v in EXPECTED.items() if k != REASONS['motion']}  # no motion scored
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith('depth: 10 of 11 frames') and '2 non-monotonic stamps' in first
