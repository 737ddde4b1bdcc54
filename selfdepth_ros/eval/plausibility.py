"""Plausibility checks on the ground truth and frames of an evaluation bag: what is corrupt is skipped, counted
by reason (JSON ``skipped: {reason: count}``) and named once on stderr, never scored.

Limits (a flipped bit in a float gives values far beyond them; real drives stay far below):

* ground-truth depth: a value ``< 0`` (−inf too) or finite and ``> 1e4`` m. NaN and +inf are "no value"
  (lidar holes, sky beyond the cap) as before and are not corrupt;
* ground-truth object motion: a non-finite value or ``|T_obj| > 100`` m per frame;
* ground-truth pose: a non-finite value, or a step of more than 100 m from the previous accepted pose.
"""
from __future__ import annotations

import sys
from collections import Counter

import numpy as np

MAX_DEPTH_M = 1e4
MAX_MOTION_M_PER_FRAME = 100.0
MAX_POSE_STEP_M = 100.0

REASONS = {
    'depth': f'implausible ground-truth depth (< 0 or > {MAX_DEPTH_M:g} m)',
    'motion': f'implausible ground-truth motion (non-finite or |T_obj| > {MAX_MOTION_M_PER_FRAME:g} m/frame)',
    'pose': f'implausible ground-truth pose (non-finite or a step > {MAX_POSE_STEP_M:g} m)',
}


def depth_problem(depth: np.ndarray) -> str | None:
    d = np.asarray(depth, dtype=np.float64)
    bad = (d < 0) | (np.isfinite(d) & (d > MAX_DEPTH_M))
    if not bad.any():
        return None
    return f'{int(bad.sum())} pixels, e.g. {float(d[bad][0]):.4g} m'


def motion_problem(motion: np.ndarray) -> str | None:
    f = np.asarray(motion, dtype=np.float64)
    if not np.all(np.isfinite(f)):
        return f'{int((~np.isfinite(f)).any(axis=-1).sum())} non-finite vectors'
    norm = np.linalg.norm(f.reshape(-1, f.shape[-1]), axis=1)
    if norm.size and norm.max() > MAX_MOTION_M_PER_FRAME:
        return f'{int((norm > MAX_MOTION_M_PER_FRAME).sum())} vectors, max {norm.max():.4g} m/frame'
    return None


def pose_problem(pose: np.ndarray, previous: np.ndarray | None) -> str | None:
    T = np.asarray(pose, dtype=np.float64)
    if not np.all(np.isfinite(T)):
        return 'non-finite values'
    if previous is not None:
        step = float(np.linalg.norm(T[:3, 3] - previous[:3, 3]))
        if step > MAX_POSE_STEP_M:
            return f'a step of {step:.4g} m from the previous pose'
    return None


class SkipLog:
    """``reason → count`` of what was skipped, with the first occurrence of each reason named on stderr."""

    def __init__(self, stream=None) -> None:
        self.counts: Counter[str] = Counter()
        self._stream = stream

    def skip(self, reason: str, where: str) -> None:
        self.counts[reason] += 1
        if self.counts[reason] == 1:
            print(f'selfdepth eval: skipping {where}: {reason} (further ones are counted in the JSON '
                  '"skipped")', file=self._stream or sys.stderr)

    def add(self, reason: str, count: int) -> None:
        if count > 0:
            self.counts[reason] += int(count)

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))
