"""Turn a stream of per-frame (prediction, ground truth) records into the evaluation JSON.

The same :func:`evaluate` scores offline predictions (the Predictor run on a GT bag) and a recorded output bag of
the live node (paired with the GT by stamp): both just yield :class:`FrameRecord`. JSON keys:
``depth``, ``depth_static``, ``depth_dynamic`` (monodepth2 metrics, 002's split), ``trajectory`` (evo ATE/RPE,
snippet ATE), ``motion_field`` (EPE, static near-zero fraction), ``latency_ms``; a key is None when the
inputs it needs were absent (e.g. no moving-object mask) and ``absent`` then says why; ``baselines`` holds the
scores of the trivial predictors of :mod:`~selfdepth_ros.eval.baselines` on the same pixels and frames
(``constant_depth``, ``straight_ahead``); ``frames`` / ``config`` say what was scored (``config.protocol``: crop,
depth caps, scaling, trajectory alignment and snippet protocol).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from selfdepth_ros.eval.baselines import ConstantDepthBaseline, straight_ahead_metrics
from selfdepth_ros.eval.latency import latency_summary
from selfdepth_ros.eval.metrics import CROPS, DepthCaps, crop_mask, valid_depth_mask
from selfdepth_ros.eval.motion_metrics import STATIC_MOTION_THRESHOLD, MotionFieldMetrics
from selfdepth_ros.eval.regions import (MIN_DYNAMIC_AREA_FRACTION, RegionMetricMeans, dynamic_region_mask,
                                        masked_depth_metrics, region_masks)
from selfdepth_ros.eval.trajectory import (ALIGNMENTS, SNIPPET_PROTOCOLS, align_trajectory, integrate_ego_motion,
                                           trajectory_metrics)

Ego = tuple[np.ndarray, np.ndarray]


@dataclass
class FrameRecord:
    """One frame to score. Arrays are numpy, HWC as in docs/CONVENTIONS.md; any optional field may be None."""

    stamp_ns: int
    pred_depth: np.ndarray | None
    """H'×W' predicted depth (any scale; resized to the GT size if it differs). NaN = no prediction."""
    gt_depth: np.ndarray | None
    """H×W ground-truth z-depth in metres; None = no depth score for this frame."""
    moving_mask: np.ndarray | None = None
    """H×W uint8, non-zero on moving objects of this frame (the static/dynamic split)."""
    pred_motion: np.ndarray | None = None
    """H'×W'×3 predicted T_obj, network units (scaled like depth)."""
    gt_motion: np.ndarray | None = None
    """H×W×3 ground-truth T_obj (m per frame) of the same pair and pixels as ``pred_motion``. The Predictor's
    field at frame t is the pair (t−1 → t) on the pixels of t−1, i.e. the GT field of frame t−1."""
    motion_mask: np.ndarray | None = None
    """H×W moving-object mask of the pixels the motion fields are indexed by (default: ``moving_mask``)."""
    pred_pose: np.ndarray | None = None
    """4×4 predicted T_odom_cam (e.g. from the node's odometry); preferred over ``pred_ego``."""
    pred_ego: Ego | None = None
    """(R 3×3, t 3): predicted cam_t ← cam_{t−1}; None on the first frame of a pair sequence."""
    gt_pose: np.ndarray | None = None
    """4×4 ground-truth T_odom_cam."""
    latency_ms: float | None = None
    rgb: np.ndarray | None = None
    """H×W×3 uint8 input image, only used for the report."""


@dataclass
class EvalConfig:
    """What the metrics count as valid and how they align (defaults: monodepth2 / 002 / 001 conventions)."""

    min_depth: float = 1e-3
    max_depth: float = 80.0
    median_scaling: bool = True
    """Per-image median scaling (monocular models); False for metric-scale models."""
    crop: str = 'none'
    """Depth pixels scored: 'none', or the KITTI 'garg' / 'eigen' crop (:data:`~selfdepth_ros.eval.metrics.CROPS`)."""
    min_dynamic_area: float = MIN_DYNAMIC_AREA_FRACTION
    """Smallest moving object counted in the dynamic region, as a fraction of the image (002: 0.5 %)."""
    static_motion_threshold: float = STATIC_MOTION_THRESHOLD
    """‖T_obj‖ below this (m per frame) counts as 'near zero' on static pixels."""
    trajectory_alignment: str = 'sim3'
    """'sim3' for monocular (scale-aligned), 'se3' for metric odometry, 'none'."""
    snippet_length: int = 5
    snippet_protocol: str = 'sim3'
    report_frames: int = 2
    """How many frames to keep for the report's pictures (the first and the most dynamic ones)."""

    def __post_init__(self) -> None:
        if self.trajectory_alignment not in ALIGNMENTS:
            raise ValueError(f'trajectory_alignment must be one of {ALIGNMENTS}, got {self.trajectory_alignment!r}')
        if not 0 < self.min_depth < self.max_depth:
            raise ValueError(f'need 0 < min_depth < max_depth, got {self.min_depth}, {self.max_depth}')
        if self.crop not in CROPS:
            raise ValueError(f'crop must be one of {sorted(CROPS)}, got {self.crop!r}')
        if self.snippet_protocol not in SNIPPET_PROTOCOLS:
            raise ValueError(f'snippet_protocol must be one of {SNIPPET_PROTOCOLS}, got {self.snippet_protocol!r}')

    @property
    def caps(self) -> DepthCaps:
        return DepthCaps(self.min_depth, self.max_depth)

    def protocol(self) -> dict:
        """The scoring protocol in one dict (JSON ``config.protocol``)."""
        return {'crop': self.crop, 'min_depth': self.min_depth, 'max_depth': self.max_depth,
                'scaling': 'median' if self.median_scaling else 'none',
                'trajectory_alignment': self.trajectory_alignment, 'snippet_protocol': self.snippet_protocol,
                'snippet_length': self.snippet_length}


@dataclass
class FrameSample:
    """A frame kept for the report, with the prediction already resized and scaled to metres."""

    index: int
    stamp_ns: int
    gt_depth: np.ndarray
    pred_depth: np.ndarray
    rgb: np.ndarray | None
    moving_mask: np.ndarray | None
    gt_motion: np.ndarray | None
    pred_motion: np.ndarray | None
    dynamic_fraction: float


@dataclass
class EvalResult:
    """The JSON-ready ``metrics`` plus what the report draws."""

    metrics: dict
    samples: list[FrameSample] = field(default_factory=list)
    gt_positions: np.ndarray | None = None
    """N×3 ground-truth camera positions (m)."""
    est_positions: np.ndarray | None = None
    """N×3 estimated positions after the trajectory alignment."""
    per_frame: dict[str, list] = field(default_factory=dict)
    """Per-frame series: ``stamp_ns``, ``abs_rel``, ``latency_ms``."""


def resize_depth(depth: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a depth map to ``shape`` (H, W) as monodepth2 does: bilinear on disparity, then invert."""
    if depth.shape == shape:
        return depth
    with np.errstate(divide='ignore', invalid='ignore'):
        disp = np.where(np.isfinite(depth) & (depth > 0), 1.0 / depth, np.nan).astype(np.float32)
    disp = cv2.resize(disp, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(disp > 0, 1.0 / disp, np.nan).astype(np.float32)


def resize_motion(motion: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of an H'×W'×3 field (no blending across object boundaries)."""
    if motion.shape[:2] == shape:
        return motion
    return cv2.resize(motion.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


class Evaluator:
    """Streaming evaluation: ``add`` each :class:`FrameRecord`, then ``result``."""

    def __init__(self, config: EvalConfig | None = None) -> None:
        self.config = config or EvalConfig()
        self._regions = RegionMetricMeans()
        self._constant = ConstantDepthBaseline(self.config.caps, self.config.median_scaling)
        self._motion = MotionFieldMetrics(self.config.static_motion_threshold)
        self._gt_poses: list[np.ndarray | None] = []
        self._pred_poses: list[np.ndarray | None] = []
        self._egos: list[Ego | None] = []
        self._per_frame: dict[str, list] = {'stamp_ns': [], 'abs_rel': [], 'latency_ms': []}
        self._samples: list[FrameSample] = []
        self._seen = dict.fromkeys(('gt_depth', 'pred_depth', 'moving_mask'), 0)
        self._crops: dict[tuple[int, int], np.ndarray] = {}
        self._depth_scored = 0
        self._trajectory_note: str | None = None

    def _crop(self, gt: np.ndarray) -> np.ndarray:
        """The ground truth with NaN outside the configured crop (so nothing outside it is ever scored)."""
        if self.config.crop == 'none':
            return gt
        mask = self._crops.get(gt.shape)
        if mask is None:
            mask = self._crops[gt.shape] = crop_mask(gt.shape, self.config.crop)
        return np.where(mask, gt, np.float32(np.nan))

    def add(self, rec: FrameRecord) -> None:
        index = len(self._per_frame['stamp_ns'])
        frame, gt, pred = None, None, None
        self._seen['gt_depth'] += rec.gt_depth is not None
        self._seen['pred_depth'] += rec.pred_depth is not None
        if rec.gt_depth is not None and rec.pred_depth is not None:
            gt = np.asarray(rec.gt_depth, dtype=np.float32)
            if gt.ndim != 2:
                raise ValueError(f'frame {index}: gt_depth must be H×W, got shape {gt.shape}')
            gt = self._crop(gt)
            pred = resize_depth(np.asarray(rec.pred_depth, dtype=np.float32), gt.shape)
            frame = self._add_depth(pred, gt, rec.moving_mask)
            self._depth_scored += frame is not None
        else:
            self._regions.add({'all': None})
            self._constant.add(None)
        scale = frame['scale'] if frame is not None else 1.0
        pred_motion = None
        if rec.pred_motion is not None and rec.gt_motion is not None:
            gt_motion = np.asarray(rec.gt_motion)
            pred_motion = resize_motion(np.asarray(rec.pred_motion), gt_motion.shape[:2])
            mask = rec.motion_mask if rec.motion_mask is not None else rec.moving_mask
            self._motion.add(pred_motion, gt_motion, mask, scale)
        self._gt_poses.append(None if rec.gt_pose is None else np.asarray(rec.gt_pose, dtype=np.float64))
        self._pred_poses.append(None if rec.pred_pose is None else np.asarray(rec.pred_pose, dtype=np.float64))
        self._egos.append(rec.pred_ego)
        self._per_frame['stamp_ns'].append(int(rec.stamp_ns))
        self._per_frame['abs_rel'].append(None if frame is None else frame['abs_rel'])
        self._per_frame['latency_ms'].append(rec.latency_ms)
        if gt is not None:
            self._maybe_keep_sample(index, rec, gt, pred * scale, pred_motion, scale)

    def _add_depth(self, pred: np.ndarray, gt: np.ndarray, moving_mask: np.ndarray | None) -> dict | None:
        """Score the model and the constant-depth baseline on the same pixel sets; the model's 'all' metrics."""
        cfg = self.config
        self._seen['moving_mask'] += moving_mask is not None
        masks = region_masks(valid_depth_mask(pred, gt, cfg.caps), moving_mask, cfg.min_dynamic_area)
        regions = masked_depth_metrics(pred, gt, masks, cfg.caps, cfg.median_scaling)
        self._regions.add(regions)
        self._constant.add(gt, masks)
        return regions['all']

    def _maybe_keep_sample(self, index: int, rec: FrameRecord, gt: np.ndarray, pred_m: np.ndarray,
                           pred_motion: np.ndarray | None, scale: float) -> None:
        """Keep frame 0 and the frames with the largest dynamic region (the interesting pictures)."""
        n = self.config.report_frames
        if n <= 0:
            return
        dyn = 0.0 if rec.moving_mask is None else float(
            dynamic_region_mask(rec.moving_mask, self.config.min_dynamic_area).mean())
        if len(self._samples) >= n:
            weakest = min(range(1, len(self._samples)), key=lambda i: self._samples[i].dynamic_fraction, default=None)
            if weakest is None or self._samples[weakest].dynamic_fraction >= dyn:
                return
            self._samples.pop(weakest)
        self._samples.append(FrameSample(
            index, int(rec.stamp_ns), gt.copy(), pred_m.astype(np.float32),
            None if rec.rgb is None else np.asarray(rec.rgb).copy(),
            None if rec.moving_mask is None else np.asarray(rec.moving_mask).copy(),
            None if rec.gt_motion is None else np.asarray(rec.gt_motion).copy(),
            None if pred_motion is None else (pred_motion * scale).astype(np.float32), dyn))
        self._samples.sort(key=lambda s: s.index)

    def _trajectory(self) -> tuple[dict | None, dict | None, np.ndarray | None, np.ndarray | None, str | None]:
        """(model metrics, straight-ahead metrics, gt xyz, aligned est xyz, why absent)."""
        cfg = self.config
        keep = [i for i, g in enumerate(self._gt_poses) if g is not None and np.all(np.isfinite(g))]
        if not keep:
            return None, None, None, None, 'no ground-truth pose'
        if any(p is not None for p in self._pred_poses):
            keep = [i for i in keep if self._pred_poses[i] is not None]
            est = [self._pred_poses[i] for i in keep]
        elif any(e is not None for e in self._egos):
            # Ego-motion is chained over the longest run without a pair reset (a None after the first frame: a
            # skipped frame, a gap, a size change), then read at the frames of that run that have a GT pose;
            # chaining across a reset would take the unseen motion as none.
            starts = [0] + [i for i in range(1, len(self._egos)) if self._egos[i] is None]
            runs = [(a, b) for a, b in zip(starts, starts[1:] + [len(self._egos)])]
            a, b = max(runs, key=lambda r: sum(r[0] <= i < r[1] for i in keep))
            if len(runs) > 1:
                self._trajectory_note = f'longest run without a pair reset: frames {a}-{b - 1} of {len(self._egos)}'
            chained = integrate_ego_motion(self._egos[a:b])
            keep = [i for i in keep if a <= i < b]
            est = [chained[i - a] for i in keep]
        else:
            return None, None, None, None, 'no predicted pose or ego-motion'
        if len(keep) < 3:
            return None, None, None, None, f'{len(keep)} frames with a ground-truth and a predicted pose (need 3)'
        gt, est = np.stack([self._gt_poses[i] for i in keep]), np.stack(est)
        stamps = np.asarray([self._per_frame['stamp_ns'][i] for i in keep], np.int64)
        try:
            metrics = trajectory_metrics(gt, est, cfg.trajectory_alignment, cfg.snippet_length, cfg.snippet_protocol)
            aligned, _ = align_trajectory(gt, est, cfg.trajectory_alignment)
            baseline = straight_ahead_metrics(gt, stamps, cfg.trajectory_alignment, cfg.snippet_length,
                                              cfg.snippet_protocol)
        except ValueError as exc:  # e.g. a motionless estimate cannot be aligned
            return None, None, None, None, f'not scored: {exc}'
        return metrics, baseline, gt[:, :3, 3], aligned[:, :3, 3], None

    def _motion_pairs(self) -> int:
        return int(self._motion.frames)

    def _absent(self, metrics: dict, trajectory_reason: str | None) -> dict[str, str]:
        """Why each None section is None, from what the records carried (the CLI names missing bag topics)."""
        seen = self._seen
        if not seen['gt_depth']:
            depth = 'no ground-truth depth'
        elif not seen['pred_depth']:
            depth = 'no predicted depth'
        else:
            depth = 'no valid ground-truth pixel (finite, within the depth caps and crop, with a finite prediction)'
        mask = 'no moving-object mask' if not seen['moving_mask'] else None
        reasons = {'depth': depth, 'depth_static': mask or depth,
                   'depth_dynamic': mask or 'no moving object covering ≥ '
                                            f'{100 * self.config.min_dynamic_area:g} % of an image',
                   'trajectory': trajectory_reason or 'not scored',
                   'motion_field': 'no frame pair with both predicted and ground-truth object motion',
                   'latency_ms': 'no latency measured'}
        return {key: reason for key, reason in reasons.items() if metrics.get(key) is None}

    def result(self) -> EvalResult:
        traj, straight, gt_xyz, est_xyz, traj_reason = self._trajectory()
        metrics = {
            **self._regions.summary(),
            'trajectory': traj,
            'motion_field': self._motion.summary(),
            'latency_ms': latency_summary(self._per_frame['latency_ms']),
            'baselines': {'constant_depth': self._constant.summary(), 'straight_ahead': straight},
            'frames': len(self._per_frame['stamp_ns']),
            'scored': {'depth_frames': self._depth_scored, 'trajectory_poses': traj['ate']['poses'] if traj else 0,
                       'motion_pairs': self._motion_pairs(), 'trajectory_note': self._trajectory_note},
            'config': {**asdict(self.config), 'protocol': self.config.protocol()},
        }
        metrics['absent'] = self._absent(metrics, traj_reason)
        return EvalResult(metrics, list(self._samples), gt_xyz, est_xyz, dict(self._per_frame))


def evaluate(records: Iterable[FrameRecord], config: EvalConfig | None = None,
             progress: Callable[[Iterable], Iterable] | None = None) -> EvalResult:
    """Score every record (optionally wrapped by ``progress``, e.g. ``tqdm``) and return the result."""
    evaluator = Evaluator(config)
    for rec in (progress(records) if progress is not None else records):
        evaluator.add(rec)
    return evaluator.result()
