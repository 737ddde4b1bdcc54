"""Where :class:`~selfdepth_ros.eval.evaluate.FrameRecord` streams come from: a GT bag run through the
Predictor, or a GT bag paired by stamp with a bag of the node's recorded outputs.

Recorded outputs are paired by header stamp and walked in stamp order, whatever their receive order.

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
from selfdepth_ros.bag.samples import header_stamp
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


def _stamp_index(bag: BagReader, topic: str | None) -> dict[int, int]:
    """``{header stamp: receive time}`` of every message of ``topic`` (one pass, no image decoded; the first
    message wins on a repeated stamp). Empty when ``topic`` is None or absent."""
    if topic is None or topic not in bag.topics:
        return {}
    out: dict[int, int] = {}
    for raw in bag.messages(topic):
        out.setdefault(header_stamp(raw.msg, raw.log_time_ns)[0], raw.log_time_ns)
    return out


def _sample_at(bag: BagReader, topic: str, stamp_ns: int, log_ns: int):
    """The sample of ``topic`` with this stamp, read by its receive time (rosbags reads that range only)."""
    for sample in bag.samples(topic, start_ns=log_ns, stop_ns=log_ns + 1):
        if sample.stamp_ns == stamp_ns:
            return sample
    return None


def _nearest_key(index: dict[int, int], stamps: np.ndarray, stamp_ns: int, tolerance_ns: int) -> int | None:
    if len(stamps) == 0:
        return None
    k = int(stamps[_nearest(stamps, stamp_ns)])
    return k if abs(k - stamp_ns) <= tolerance_ns else None


def _nearest(stamps: np.ndarray, stamp_ns: int) -> int:
    """Index of the stamp in sorted ``stamps`` nearest to ``stamp_ns``."""
    j = int(np.searchsorted(stamps, stamp_ns))
    candidates = [k for k in (j - 1, j) if 0 <= k < len(stamps)]
    return min(candidates, key=lambda k: abs(int(stamps[k]) - stamp_ns))


def recorded_records(index: FrameIndex, pred_bag: str | Path, topics: PredictionTopics = PredictionTopics(),
                     max_frames: int | None = None, tolerance_ns: int = 1_000_000,
                     stats: SourceStats | None = None) -> Iterator[FrameRecord]:
    """Pair the node's recorded outputs with the GT frames by header stamp, in stamp order.

    Receive order is not assumed to follow stamp order (``selfdepth replay --mode lockstep`` records each
    output at its frame's bag time plus that frame's delay, so a slow frame lands after a faster later one).
    Latency is ``receive time in the recording − header stamp`` of the depth message: the end-to-end delay
    the graph added (queueing, inference, DDS), which is what a consumer of ``~/depth`` sees.
    """
    stats = stats if stats is not None else SourceStats()
    with BagReader(pred_bag) as bag:
        bag.require(topics.depth)
        depth_at = _stamp_index(bag, topics.depth)
        odom_at, motion_at = _stamp_index(bag, topics.odom), _stamp_index(bag, topics.motion)
        odom_stamps, motion_stamps = np.array(sorted(odom_at), np.int64), np.array(sorted(motion_at), np.int64)
        gt_stamps = index.stamps_ns
        limit = len(index) if max_frames is None else min(len(index), max_frames)
        last_i, prev_pred_i = -1, None
        for stamp in sorted(depth_at):
            i = _nearest(gt_stamps, stamp)
            if abs(int(gt_stamps[i]) - stamp) > tolerance_ns or i <= last_i:
                stats.extra['unmatched_predictions'] = stats.extra.get('unmatched_predictions', 0) + 1
                continue
            if i >= limit:
                break
            depth = _sample_at(bag, topics.depth, stamp, depth_at[stamp])
            if depth is None:
                continue
            stats.without_prediction += i - last_i - 1
            stats.gt_frames += i - last_i
            stats.predicted += 1
            last_i = i
            k_odo = _nearest_key(odom_at, odom_stamps, stamp, tolerance_ns)
            k_mot = _nearest_key(motion_at, motion_stamps, stamp, tolerance_ns)
            odo = None if k_odo is None else _sample_at(bag, topics.odom, k_odo, odom_at[k_odo])
            mot = None if k_mot is None else _sample_at(bag, topics.motion, k_mot, motion_at[k_mot])
            paired = mot is not None and prev_pred_i == i - 1
            yield FrameRecord(stamp_ns=int(gt_stamps[i]), pred_depth=depth.image, **_gt_fields(index, i),
                              pred_motion=mot.image if paired else None,
                              gt_motion=index.gt('motion', i - 1) if paired else None,
                              motion_mask=index.gt('moving_mask', i - 1) if paired else None,
                              pred_pose=None if odo is None else odo.T,
                              latency_ms=(depth_at[stamp] - stamp) / 1e6, rgb=index.image(i))
            prev_pred_i = i
    stats.without_prediction += max(0, limit - last_i - 1)
    stats.gt_frames += max(0, limit - last_i - 1)
