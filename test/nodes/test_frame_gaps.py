"""Frames the node drops must not corrupt odometry (issue 12): a pair that spans more than 1.5x the nominal frame
interval is reset (no ego-motion, no odometry step) and reported on the console and in /diagnostics.

The nominal interval is the checkpoint's training interval when it states one, else the median interval of the
received images. Real rclpy over DDS (loopback) with the harness's FakePredictor (0.5 m per pair, whatever the gap:
as the real net, it does not scale with the interval)."""
import time

import numpy as np
import pytest

from selfdepth_ros.nodes.frame_gaps import FrameGapGuard

DT_NS = 100_000_000  # a 10 Hz camera


def test_guard_resets_pairs_that_span_dropped_frames():
    g = FrameGapGuard()
    for i in range(6):
        g.observe(i * DT_NS)                     # the camera's frames, all received
    assert g.nominal(None) == (pytest.approx(0.1), 'observed')
    assert g.check(0, None, 0.5) is None         # first processed frame: no pair yet
    assert g.check(DT_NS, None, 0.5) is None     # consecutive: kept
    reason = g.check(3 * DT_NS, None, 0.5)       # frame 2 dropped by the worker
    assert reason.startswith('frames dropped: the pair spans 0.200 s = 2.0x the nominal frame interval 0.100 s')
    assert g.check(4 * DT_NS, None, 0.5) is None and g.resets == 1
    assert g.check(10 * DT_NS, None, 0.5) is None  # over max_time_gap: the Predictor's own time-gap reset
    assert g.nominal(0.05) == (0.05, 'checkpoint')
    assert g.check(11 * DT_NS, 0.05, 0.5) is not None  # the checkpoint was trained at 20 Hz: 0.1 s is two frames


rclpy = pytest.importorskip('rclpy')


def _status(h, suffix='perception'):
    for d in reversed(h.got['diag']):
        for s in d.status:
            if s.name.endswith(suffix):
                return s, dict((kv.key, kv.value) for kv in s.values)
    return None, {}


@pytest.mark.ros
def test_every_other_frame_dropped_by_a_slow_node_leaves_odometry_alone(harness, fake_predictor_cls, make_frame):
    seen = []

    class Slow(fake_predictor_cls):  # takes 2.5 camera intervals per frame: the node drops every other frame or more
        def predict(self, rgb, K=None, stamp_ns=None):
            time.sleep(0.25)
            pred = super().predict(rgb, K, stamp_ns)
            seen.append((stamp_ns, pred.ego is not None, pred.reset_reason))
            return pred
    h = harness({'diagnostics_period': 0.1, 'max_time_gap': 2.0}, factory=lambda p: Slow(p['max_time_gap']))
    t0 = 20_000_000_000
    for i in range(16):  # a synthetic 10 Hz drive, published in real time
        h.send(make_frame(48, 64, 3 * i), t0 + i * DT_NS, expect=False)
        time.sleep(0.1)
    h.wait(lambda: len(seen) >= 4 and h.node.pairer.dropped > 0, 10, 'processed and dropped frames')
    time.sleep(0.5)
    gaps = np.diff([s for s, _, _ in seen])
    used = [ego for _, ego, _ in seen[1:]]
    assert all(not u for u, g in zip(used, gaps) if g > 1.5 * DT_NS)   # pairs over dropped frames: reset
    assert all(u for u, g in zip(used, gaps) if g <= 1.5 * DT_NS)      # consecutive ones (if any): used
    assert any(g > 1.5 * DT_NS for g in gaps)
    assert h.node.odom.steps == sum(used)  # odometry moved only for real consecutive pairs
    reasons = [r for (_, _, r), g in zip(seen[1:], gaps) if g > 1.5 * DT_NS]
    assert all(r.startswith('frames dropped: the pair spans') and '(observed)' in r for r in reasons)
    h.wait(lambda: int(_status(h)[1].get('pairs_reset_frames_dropped', 0)) == h.node.gaps.resets > 0, 10,
           'the resets in /diagnostics')
    _, values = _status(h)
    assert values['nominal_frame_interval_source'] == 'observed'
    assert float(values['nominal_frame_interval_s']) == pytest.approx(0.1, abs=0.01)
    assert any(s.level == b'\x01' and 'frames dropped' in s.message
               for d in h.got['diag'] for s in d.status if s.name.endswith('perception'))


@pytest.mark.ros
@pytest.mark.parametrize('trained_s, pairs_used', [(0.1, False), (None, True)])
def test_a_camera_slower_than_the_training_rate(harness, fake_predictor_cls, make_frame, trained_s, pairs_used):
    class Trained(fake_predictor_cls):
        frame_interval_s = trained_s
    h = harness({'diagnostics_period': 0.1}, factory=lambda p: Trained(p['max_time_gap']))
    for i in range(4):  # a 5 Hz camera, no frame dropped by the node
        h.send(make_frame(48, 64, 3 * i), 30_000_000_000 + i * 2 * DT_NS)
    h.wait(lambda: len(h.got['odom']) >= 4, 10, 'odometry')
    assert h.node.odom.steps == (3 if pairs_used else 0)
    assert h.node.gaps.resets == (0 if pairs_used else 3)
    if not pairs_used:
        assert 'nominal frame interval 0.100 s (checkpoint)' in h.node._last_reset
