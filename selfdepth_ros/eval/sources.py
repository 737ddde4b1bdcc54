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
from selfdepth_ros.eval.plausibility import REASONS, SkipLog, depth_problem, motion_problem, pose_problem


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
    return FrameIndex(bag, image_topic, camera_info_topic, gt_topics, stamp_policy='drop')


class GroundTruthChecks:
    """Ground truth of the frames of ``index`` with implausible values left out (:mod:`.plausibility`), each
    counted in ``skips`` and named (topic, frame, stamp) on its first occurrence."""

    def __init__(self, index: FrameIndex, skips: SkipLog | None = None) -> None:
        self.index, self.skips = index, skips if skips is not None else SkipLog()
        self._last_pose: np.ndarray | None = None
        self._motion: dict[int, np.ndarray | None] = {}

    def _where(self, name: str, i: int) -> str:
        return f'{getattr(self.index.gt_topics, name)} of frame {i} (stamp {int(self.index.stamps_ns[i])} ns)'

    def fields(self, i: int) -> dict:
        depth = self.index.gt('depth', i)
        if depth is not None and (why := depth_problem(depth)):
            self.skips.skip(REASONS['depth'], f'{self._where("depth", i)}: {why}')
            depth = None
        pose = self.index.gt('odom', i)
        if pose is not None:
            why = pose_problem(pose, self._last_pose)
            if why:
                self.skips.skip(REASONS['pose'], f'{self._where("odom", i)}: {why}')
                pose = None
            else:
                self._last_pose = pose
        return {'gt_depth': depth, 'moving_mask': self.index.gt('moving_mask', i), 'gt_pose': pose}

    def motion(self, i: int) -> np.ndarray | None:
        if i not in self._motion:
            field = self.index.gt('motion', i)
            if field is not None and (why := motion_problem(field)):
                self.skips.skip(REASONS['motion'], f'{self._where("motion", i)}: {why}')
                field = None
            self._motion = {i: field}  # one frame cached (each field is asked for at most twice in a row)
        return self._motion[i]


def _nominal_interval(stamps: np.ndarray) -> float | None:
    steps = np.diff(np.asarray(stamps, np.int64))
    return float(np.median(steps)) if len(steps) else None


def _load_image(index: FrameIndex, i: int, skips: SkipLog) -> np.ndarray | None:
    """Frame ``i`` as RGB, or None (counted) when it does not decode."""
    try:
        return index.image(i)
    except Exception as exc:  # noqa: BLE001 - one corrupt frame is skipped, not fatal
        skips.skip(f'image failed to decode on {index.image_topic}',
                   f'frame {i} (stamp {int(index.stamps_ns[i])} ns): {type(exc).__name__}: {exc}')
        return None


def predictor_records(index: FrameIndex, predictor, max_frames: int | None = None,
                      stats: SourceStats | None = None, skips: SkipLog | None = None) -> Iterator[FrameRecord]:
    """Run ``predictor`` (``selfdepth_ros.inference.Predictor``) over the frames of ``index`` in order.

    Implausible ground truth is left out (counted in ``skips``); a frame that does not decode is skipped, and the
    frame pair is reset after it and at any gap over 1.5× the nominal frame interval (a frame dropped at
    indexing), so no ego-motion spans two intervals.
    """
    stats = stats if stats is not None else SourceStats()
    skips = skips if skips is not None else SkipLog()
    gt = GroundTruthChecks(index, skips)
    n = len(index) if max_frames is None else min(len(index), max_frames)
    nominal = _nominal_interval(index.stamps_ns)
    prev_i = None
    for i in range(n):
        rgb = _load_image(index, i, skips)
        if rgb is None:
            continue
        stamp = int(index.stamps_ns[i])
        if prev_i is not None and (prev_i != i - 1 or (
                nominal and stamp - int(index.stamps_ns[prev_i]) > 1.5 * nominal)):
            if hasattr(predictor, 'reset'):
                predictor.reset('gap in the evaluated frames (a frame skipped)')
            stats.extra['pair_resets_at_gaps'] = stats.extra.get('pair_resets_at_gaps', 0) + 1
            prev_i = None
        K = None if index.K is None else index.K[i]
        pred = predictor.predict(rgb, K, stamp)
        stats.gt_frames += 1
        stats.predicted += 1
        paired = pred.ego is not None and prev_i is not None  # the pair (i−1 → i) exists
        prev_motion = gt.motion(prev_i) if paired else None
        yield FrameRecord(stamp_ns=stamp, pred_depth=pred.depth, **gt.fields(i),
                          pred_motion=pred.motion if paired and prev_motion is not None else None,
                          gt_motion=prev_motion, motion_mask=index.gt('moving_mask', prev_i) if paired else None,
                          pred_ego=pred.ego if paired else None, latency_ms=pred.latency_ms, rgb=rgb)
        prev_i = i


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
                     stats: SourceStats | None = None, skips: SkipLog | None = None) -> Iterator[FrameRecord]:
    """Pair the node's recorded outputs with the GT frames by header stamp, in stamp order.

    Receive order is not assumed to follow stamp order (``selfdepth replay --mode lockstep`` records each
    output at its frame's bag time plus that frame's delay, so a slow frame lands after a faster later one).
    Latency is ``receive time in the recording − header stamp`` of the depth message: the end-to-end delay
    the graph added (queueing, inference, DDS), which is what a consumer of ``~/depth`` sees.
    """
    stats = stats if stats is not None else SourceStats()
    skips = skips if skips is not None else SkipLog()
    gt = GroundTruthChecks(index, skips)
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
            gt_motion = gt.motion(i - 1) if paired else None
            rgb = _load_image(index, i, skips)  # only the report pictures it: a corrupt one is just not drawn
            yield FrameRecord(stamp_ns=int(gt_stamps[i]), pred_depth=depth.image, **gt.fields(i),
                              pred_motion=mot.image if paired and gt_motion is not None else None,
                              gt_motion=gt_motion,
                              motion_mask=index.gt('moving_mask', i - 1) if paired else None,
                              pred_pose=None if odo is None else odo.T,
                              latency_ms=(depth_at[stamp] - stamp) / 1e6, rgb=rgb)
            prev_pred_i = i
    stats.without_prediction += max(0, limit - last_i - 1)
    stats.gt_frames += max(0, limit - last_i - 1)
