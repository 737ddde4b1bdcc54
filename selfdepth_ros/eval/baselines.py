"""Trivial baselines scored beside the model, on exactly the pixels and frames the model is scored on.

A score means little without the score of a predictor that knows nothing; both baselines here use only what the
scoring protocol itself gives away, so a model has to beat them to have learned anything.

- **Constant depth** (JSON ``baselines.constant_depth``): the same prediction at every pixel.
  - Per-frame median scaling (monocular protocol): any constant becomes ``median(gt)`` of each frame after
    scaling, so the baseline predicts the frame's median ground-truth depth everywhere.
  - Metric (``--metric``, no scaling): the single constant that is the median of all valid ground-truth
    depths of the sequence (every scored pixel of every frame pooled), the same value for every frame.
  It is scored over the model's valid pixels of each frame (same caps, crop and static/dynamic regions) and
  clipped to the caps like a prediction.
- **Straight-ahead constant-speed ego-motion** (JSON ``baselines.straight_ahead``): the camera starts at the
  first ground-truth pose and moves along its optical axis (+z) at a constant speed, without rotation, one step
  per frame interval (steps from the stamps, so a dropped frame is a skipped step). It is scored at the model's
  trajectory frames with the model's alignment and snippet protocol. With a scale-fitting alignment (Sim(3);
  both snippet protocols) the speed is irrelevant and is 1 m per frame; with SE(3) or no alignment the speed
  is the mean ground-truth speed per frame interval (the metric analogue of the median depth).
"""
from __future__ import annotations

import numpy as np

from selfdepth_ros.eval.metrics import DepthCaps, compute_depth_errors
from selfdepth_ros.eval.regions import RegionMetricMeans, masked_depth_metrics
from selfdepth_ros.eval.trajectory import trajectory_metrics

_STATIC, _DYNAMIC = 1, 2  # bits of the stored region labels (metric mode)


def _without_scale(regions: dict[str, dict | None]) -> dict[str, dict | None]:
    """Drop the per-image ``scale``: a constant's median ratio is not a model's scale consistency."""
    return {k: None if m is None else {n: v for n, v in m.items() if n != 'scale'} for k, m in regions.items()}


class ConstantDepthBaseline:
    """The best constant depth under the scaling protocol, accumulated frame by frame.

    ``add(gt, masks)`` takes the frame's ground truth and the pixel sets the model was scored on
    (:func:`~selfdepth_ros.eval.regions.region_masks`), or ``add(None)`` for a frame the model could not score.
    In metric mode the scored ground-truth values are kept (4 bytes + 1 per pixel) until :meth:`summary`,
    because the constant is the median over the whole sequence.
    """

    def __init__(self, caps: DepthCaps = DepthCaps(), median_scaling: bool = True) -> None:
        self.caps, self.median_scaling = caps, median_scaling
        self._means = RegionMetricMeans()
        self._kept: list[tuple[np.ndarray, np.ndarray | None]] = []

    def add(self, gt: np.ndarray | None, masks: dict[str, np.ndarray] | None = None) -> None:
        names = tuple(masks) if masks is not None else ('all',)
        scored = gt is not None and masks is not None and bool(masks['all'].any())
        if self.median_scaling:  # the constant 1, scaled by median(gt) / 1
            self._means.add(_without_scale(masked_depth_metrics(np.ones(gt.shape), gt, masks, self.caps, True))
                            if scored else dict.fromkeys(names))
            return
        if not scored:
            self._kept.append((np.empty(0, np.float32), None if len(names) == 1 else np.empty(0, np.uint8)))
            return
        valid = masks['all']
        labels = None
        if 'static' in masks:
            labels = (masks['static'][valid] * _STATIC | masks['dynamic'][valid] * _DYNAMIC).astype(np.uint8)
        self._kept.append((gt[valid].astype(np.float32), labels))

    def _metric_means(self) -> tuple[RegionMetricMeans, float | None]:
        means = RegionMetricMeans()
        values = [g for g, _ in self._kept if g.size]
        if not values:
            return means, None
        constant = float(np.clip(np.median(np.concatenate(values)), self.caps.min_depth, self.caps.max_depth))
        for gt, labels in self._kept:
            sets = {'all': np.ones(gt.shape, bool)}
            if labels is not None:
                sets.update(static=(labels & _STATIC) > 0, dynamic=(labels & _DYNAMIC) > 0)
            gt64 = gt.astype(np.float64)
            means.add({name: {**compute_depth_errors(np.full(int(m.sum()), constant), gt64[m]), 'pixels': int(m.sum())}
                       if m.any() else None for name, m in sets.items()})
        return means, constant

    def summary(self) -> dict | None:
        """``{'depth', 'depth_static', 'depth_dynamic', 'prediction', 'constant_m'}``; None when no frame scored."""
        if self.median_scaling:
            means, constant = self._means, None
            prediction = "a constant, per-frame median scaled, i.e. median(gt) of each frame at every pixel"
        else:
            means, constant = self._metric_means()
            prediction = ("one constant for every pixel of every frame: the median of all scored ground-truth "
                          "depths (metric protocol, no scaling)")
        out = means.summary()
        if out['depth'] is None:
            return None
        return {**out, 'prediction': prediction, 'constant_m': constant}


def frame_steps(stamps_ns: np.ndarray) -> np.ndarray:
    """Time since the first stamp in median frame intervals (0, 1, 2, … for a regular stream); the indices
    when the stamps give no interval."""
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    steps = np.diff(stamps)
    positive = steps[steps > 0]
    if len(stamps) < 2 or positive.size == 0 or np.any(steps <= 0):
        return np.arange(len(stamps), dtype=np.float64)
    return (stamps - stamps[0]).astype(np.float64) / float(np.median(positive))


def straight_ahead_poses(start: np.ndarray, steps: np.ndarray, speed: float = 1.0) -> np.ndarray:
    """Poses ``T_odom_cam`` of a camera leaving ``start`` along its optical axis (+z) at ``speed`` m per step.

    Returns:
        N×4×4, ``start · [I | (0, 0, speed·steps[k])]``: no rotation, constant speed.
    """
    forward = np.repeat(np.eye(4)[None], len(steps), axis=0)
    forward[:, 2, 3] = speed * np.asarray(steps, dtype=np.float64)
    return np.asarray(start, dtype=np.float64)[None] @ forward


def mean_speed(gt_poses: np.ndarray, steps: np.ndarray) -> float:
    """Ground-truth path length per step (m per frame interval); 1.0 for a motionless ground truth."""
    length = float(np.sum(np.linalg.norm(np.diff(gt_poses[:, :3, 3], axis=0), axis=1)))
    span = float(steps[-1] - steps[0]) if len(steps) > 1 else 0.0
    return length / span if length > 0 and span > 0 else 1.0


def straight_ahead_metrics(gt_poses: np.ndarray, stamps_ns: np.ndarray, alignment: str = 'sim3',
                           snippet_length: int = 5, snippet_protocol: str = 'sim3') -> dict:
    """The trajectory metrics (:func:`~selfdepth_ros.eval.trajectory.trajectory_metrics`) of the straight-ahead
    baseline at these ground-truth frames, plus ``speed_m_per_frame`` and ``speed`` (how it was chosen)."""
    gt = np.asarray(gt_poses, dtype=np.float64)
    steps = frame_steps(stamps_ns)
    if alignment == 'sim3':
        speed, how = 1.0, 'any (1 m/frame used; the sim3 alignment fits the scale)'
    else:
        speed, how = mean_speed(gt, steps), f'the mean ground-truth speed (the {alignment} alignment keeps the scale)'
    est = straight_ahead_poses(gt[0], steps, speed)
    return {**trajectory_metrics(gt, est, alignment, snippet_length, snippet_protocol),
            'speed_m_per_frame': speed, 'speed': how}
