"""Where :class:`~selfdepth_ros.eval.evaluate.FrameRecord` streams come from: a GT bag run through the
Predictor, or a GT bag paired by stamp with a bag of the node's recorded outputs.

Motion pairing: the Predictor's (and the node's) field at frame t is ``T_obj`` of the pair (t−1 → t) on the
pixels of t−1, which is the ground truth stored with frame t−1 (docs/CONVENTIONS.md). It is scored only when
t−1 is the previous *predicted* frame, so a dropped frame never pairs a two-interval motion with a
one-interval ground truth.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from selfdepth_ros.bag.index import FrameIndex, GroundTruthTopics
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.eval.evaluate import FrameRecord


@dataclass
class SourceStats:
    """Counts filled in while a source is consumed (written into the JSON under ``source``)."""

    gt_frames: int = 0
    predicted: int = 0
    without_prediction: int = 0
    """GT frames for which the recorded bag has no prediction (dropped by the node, or never recorded)."""
    extra: dict = field(default_factory=dict)


def open_gt_index(bag: str | Path, image_topic: str = '/camera/image_raw',
                  camera_info_topic: str | None = '/camera/camera_info',
                  gt_topics: GroundTruthTopics = GroundTruthTopics(semantic=None)) -> FrameIndex:
    """Index the ground-truth bag (images paired by stamp with CameraInfo and the GT topics)."""
    return FrameIndex(bag, image_topic, camera_info_topic, gt_topics, stamp_policy='sort')


def _gt_fields(index: FrameIndex, i: int) -> dict:
    return {'gt_depth': index.gt('depth', i), 'moving_mask': index.gt('moving_mask', i),
            'gt_pose': index.gt('odom', i)}


def predictor_records(index: FrameIndex, predictor, max_frames: int | None = None,
                      stats: SourceStats | None = None) -> Iterator[FrameRecord]:
    """Run ``predictor`` (``selfdepth_ros.inference.Predictor``) over the frames of ``index`` in order."""
    stats = stats if stats is not None else SourceStats()
    n = len(index) if max_frames is None else min(len(index), max_frames)
    prev_motion = prev_mask = None
    for i in range(n):
        rgb = index.image(i)
        K = None if index.K is None else index.K[i]
        pred = predictor.predict(rgb, K, int(index.stamps_ns[i]))
        stats.gt_frames += 1
        stats.predicted += 1
        paired = pred.ego is not None and i > 0  # the pair (i−1 → i) exists
        yield FrameRecord(stamp_ns=int(index.stamps_ns[i]), pred_depth=pred.depth, **_gt_fields(index, i),
                          pred_motion=pred.motion if paired else None,
                          gt_motion=prev_motion if paired else None, motion_mask=prev_mask,
                          pred_ego=pred.ego, latency_ms=pred.latency_ms, rgb=rgb)
        prev_motion, prev_mask = index.gt('motion', i), index.gt('moving_mask', i)


@dataclass(frozen=True)
class PredictionTopics:
    """Topics of the node's outputs in a recorded bag (docs/DESIGN.md: ``~/depth``, ``~/odom``, ``~/motion``)."""

    depth: str = '/selfdepth/depth'
    odom: str | None = '/selfdepth/odom'
    motion: str | None = '/selfdepth/motion'


def _stamped(bag_path: Path, topic: str | None, with_log_time: bool = False) -> Iterator:
    """Samples of ``topic`` in receive order from an own reader (so several topics can be walked in step)."""
    if topic is None:
        return
    with BagReader(bag_path) as bag:
        if topic not in bag.topics:
            return
        yield from bag.samples(topic, with_log_time=with_log_time)


class _Follower:
    """Walk a stamped stream forward to a requested stamp (streams are in receive order, nearly stamp order)."""

    def __init__(self, stream: Iterator, tolerance_ns: int) -> None:
        self._stream, self._tol, self._pending = stream, tolerance_ns, {}

    def get(self, stamp_ns: int):
        for key in [k for k in self._pending if k < stamp_ns - self._tol]:
            del self._pending[key]  # older than anything still to be asked for
        for key in self._pending:
            if abs(key - stamp_ns) <= self._tol:
                return self._pending.pop(key)
        for sample in self._stream:
            if abs(sample.stamp_ns - stamp_ns) <= self._tol:
                return sample
            if sample.stamp_ns > stamp_ns:
                self._pending[sample.stamp_ns] = sample
                return None
        return None


def _nearest(stamps: np.ndarray, stamp_ns: int) -> int:
    """Index of the stamp in sorted ``stamps`` nearest to ``stamp_ns``."""
    j = int(np.searchsorted(stamps, stamp_ns))
    candidates = [k for k in (j - 1, j) if 0 <= k < len(stamps)]
    return min(candidates, key=lambda k: abs(int(stamps[k]) - stamp_ns))


def recorded_records(index: FrameIndex, pred_bag: str | Path, topics: PredictionTopics = PredictionTopics(),
                     max_frames: int | None = None, tolerance_ns: int = 1_000_000,
                     stats: SourceStats | None = None) -> Iterator[FrameRecord]:
    """Pair the node's recorded outputs with the GT frames by header stamp.

    Latency is ``receive time in the recording − header stamp`` of the depth message: the end-to-end delay
    the graph added (queueing, inference, DDS), which is what a consumer of ``~/depth`` sees.
    """
    stats = stats if stats is not None else SourceStats()
    pred_bag = Path(pred_bag)
    with BagReader(pred_bag) as bag:
        bag.require(topics.depth)
    odom = _Follower(_stamped(pred_bag, topics.odom), tolerance_ns)
    motion = _Follower(_stamped(pred_bag, topics.motion), tolerance_ns)
    gt_stamps = index.stamps_ns
    limit = len(index) if max_frames is None else min(len(index), max_frames)
    last_i, prev_pred_i = -1, None
    for log_ns, depth in _stamped(pred_bag, topics.depth, with_log_time=True):
        i = _nearest(gt_stamps, depth.stamp_ns)
        if abs(int(gt_stamps[i]) - depth.stamp_ns) > tolerance_ns or i <= last_i:
            stats.extra['unmatched_predictions'] = stats.extra.get('unmatched_predictions', 0) + 1
            continue
        if i >= limit:
            break
        stats.without_prediction += i - last_i - 1
        stats.gt_frames += i - last_i
        stats.predicted += 1
        last_i = i
        odo, mot = odom.get(depth.stamp_ns), motion.get(depth.stamp_ns)
        paired = mot is not None and prev_pred_i == i - 1
        yield FrameRecord(stamp_ns=int(gt_stamps[i]), pred_depth=depth.image, **_gt_fields(index, i),
                          pred_motion=mot.image if paired else None,
                          gt_motion=index.gt('motion', i - 1) if paired else None,
                          motion_mask=index.gt('moving_mask', i - 1) if paired else None,
                          pred_pose=None if odo is None else odo.T,
                          latency_ms=(log_ns - depth.stamp_ns) / 1e6, rgb=index.image(i))
        prev_pred_i = i
    stats.without_prediction += max(0, limit - last_i - 1)
    stats.gt_frames += max(0, limit - last_i - 1)
