"""Metric scale for monocular depth and ego-motion (none of the papers provide it).

Modes (parameter ``scale_mode``):

* ``relative``: outputs keep the network's own (unknown global) scale; factor 1.
* ``camera_height``: fit the ground plane in the lower part of the image from the predicted depth and scale
  so the camera's distance to that plane equals the configured mounting height ``camera_height`` (metres).
* ``speed_topic``: scale the ego translation of each frame pair so its length equals ``|v|·Δt`` from a
  speed source (``TwistStamped`` or ``Odometry``).

A per-frame factor is noisy, so the published factor is the median of the last ``window`` valid ones; until
the first valid estimate the outputs stay relative and say so.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

SCALE_MODES = ('relative', 'camera_height', 'speed_topic')


@dataclass(frozen=True)
class PlaneFit:
    """Ground plane ``n·X = d`` in camera optical coordinates (``n`` unit, pointing up = −y-ish, metres)."""
    normal: np.ndarray
    distance: float      # camera-to-plane distance, metres in the depth's scale
    inlier_fraction: float
    n_points: int


def backproject(depth: np.ndarray, K: np.ndarray, rows: slice, cols: slice, stride: int = 2) -> np.ndarray:
    """Pixels of ``depth[rows, cols]`` (every ``stride``) → ``N×3`` camera points ``z·K⁻¹[u v 1]`` (finite, z>0)."""
    h, w = depth.shape
    v = np.arange(h)[rows][::stride]  # only the sampled pixels: a full-image grid costs ~50 ms at 480×640
    u = np.arange(w)[cols][::stride]
    z = depth[rows, cols][::stride, ::stride].astype(np.float64)
    ok = np.isfinite(z) & (z > 0)
    vv, uu = np.nonzero(ok)
    z = z[ok]
    x = (u[uu] - K[0, 2]) / K[0, 0] * z
    y = (v[vv] - K[1, 2]) / K[1, 1] * z
    return np.stack([x, y, z], axis=1)


def fit_ground_plane(depth: np.ndarray, K: np.ndarray, lower_fraction: float = 0.4, max_tilt_deg: float = 30.0,
                     inlier_rel: float = 0.02, iters: int = 64, seed: int = 0,
                     min_points: int = 50) -> PlaneFit | None:
    """Robust ground-plane fit (RANSAC on 3-point planes, then least squares on the inliers).

    Args:
        depth: ``H×W`` z-depth (any consistent scale; NaN/≤0 ignored).
        K: 3×3 intrinsics of ``depth`` (pixels).
        lower_fraction: use the bottom ``lower_fraction`` of the rows (the road in front of a vehicle).
        max_tilt_deg: accept planes whose normal is within this angle of the camera's −y axis (up).
        inlier_rel: inlier band as a fraction of the median point depth.
    Returns:
        The plane, or None when too few points or no plane with ≥ 30 % inliers exists.
    """
    if depth.ndim != 2:
        raise ValueError(f'depth must be H×W, got {depth.shape}')
    h, w = depth.shape
    pts = backproject(depth, np.asarray(K, np.float64), slice(int(h * (1 - lower_fraction)), h), slice(0, w),
                      stride=max(1, int(min(h, w) // 96)))
    if len(pts) < min_points:
        return None
    tol = inlier_rel * float(np.median(pts[:, 2]))
    cos_tilt = np.cos(np.radians(max_tilt_deg))
    rng = np.random.default_rng(seed)
    best, best_count = None, 0
    for _ in range(iters):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n)
        if norm < 1e-12:
            continue
        n = n / norm
        if n[1] > 0:
            n = -n  # normal points up (−y in the optical frame)
        if -n[1] < cos_tilt:
            continue
        count = int(np.count_nonzero(np.abs(pts @ n - n @ a) < tol))
        if count > best_count:
            best, best_count = (n, float(n @ a)), count
    if best is None or best_count < 0.3 * len(pts):
        return None
    n, d = best
    inl = pts[np.abs(pts @ n - d) < tol]
    centre = inl.mean(axis=0)
    n = np.linalg.svd(inl - centre, full_matrices=False)[2][2]  # least-squares normal of the inliers
    n = -n if n[1] > 0 else n
    return PlaneFit(normal=n, distance=float(abs(n @ centre)), inlier_fraction=len(inl) / len(pts),
                    n_points=len(pts))


@dataclass(frozen=True)
class ScaleState:
    """What scale the outputs of one frame carry.

    factor: multiply network depth / translation by this (1 in relative mode or before the first estimate).
    metric: True when ``factor`` comes from a metric source. label: ``relative`` | ``metric:camera_height``
    | ``metric:speed_topic`` (what diagnostics publish). detail: why this frame's estimate was (not) used.
    """
    factor: float
    metric: bool
    label: str
    detail: str


class ScaleEstimator:
    """Turns per-frame evidence into a smoothed scale factor for one of :data:`SCALE_MODES`."""

    def __init__(self, mode: str = 'relative', camera_height: float = 1.5, window: int = 9,
                 lower_fraction: float = 0.4, min_speed: float = 0.3, min_translation: float = 1e-4) -> None:
        if mode not in SCALE_MODES:
            raise ValueError(f'scale_mode must be one of {SCALE_MODES}, got {mode!r}')
        if not camera_height > 0:
            raise ValueError(f'camera_height must be > 0 metres, got {camera_height!r}')
        self.mode, self.camera_height, self.lower_fraction = mode, float(camera_height), float(lower_fraction)
        self.min_speed, self.min_translation = float(min_speed), float(min_translation)
        self._samples: deque[float] = deque(maxlen=max(1, int(window)))

    def reset(self) -> None:
        self._samples.clear()

    def _state(self, detail: str) -> ScaleState:
        if self.mode == 'relative' or not self._samples:
            return ScaleState(1.0, False, 'relative', detail)
        return ScaleState(float(np.median(self._samples)), True, f'metric:{self.mode}', detail)

    def update(self, depth: np.ndarray | None = None, K: np.ndarray | None = None,
               translation: np.ndarray | None = None, dt_s: float | None = None,
               speed_mps: float | None = None) -> ScaleState:
        """Add this frame's evidence (what the mode needs; the rest may be None) and return the scale to use.

        camera_height: ``depth`` (network scale, ``H×W``) and its ``K``. speed_topic: the unscaled ego
        ``translation`` (3,), the frame interval ``dt_s`` and the current ``speed_mps``.
        """
        if self.mode == 'relative':
            return self._state('relative mode')
        if self.mode == 'camera_height':
            if depth is None or K is None:
                return self._state('no depth/K')
            plane = fit_ground_plane(depth, K, self.lower_fraction)
            if plane is None:
                return self._state('no ground plane found in the lower image')
            self._samples.append(self.camera_height / plane.distance)
            return self._state(f'ground plane at {plane.distance:.3f} (inliers {plane.inlier_fraction:.0%})')
        if translation is None or dt_s is None or speed_mps is None:
            return self._state('waiting for ego-motion and a speed message')
        norm = float(np.linalg.norm(translation))
        if abs(speed_mps) < self.min_speed or norm < self.min_translation:
            return self._state(f'speed {speed_mps:.2f} m/s too low to scale')
        self._samples.append(abs(speed_mps) * dt_s / norm)
        return self._state(f'speed {speed_mps:.2f} m/s')
