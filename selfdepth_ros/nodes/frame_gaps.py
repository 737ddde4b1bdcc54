"""Frames the node drops must not corrupt odometry: pairs that span more than the nominal frame interval.

The motion net was trained on consecutive frames; on a pair two intervals apart it does not give twice the
motion (the shipped model gave 0.21× the true translation), so scaling its output to the real interval would
be wrong. Such a pair is *reset* instead: no ego-motion, no odometry step, no motion field for it, and the node
says so (console, ``/diagnostics``). The nominal interval is the checkpoint's training interval
(``train_config['frame_interval_s']``) when it states one, else the median of the first ``samples`` intervals
between consecutive *received* images (the camera's own rate: the subscription sees the frames the worker drops).
"""
from __future__ import annotations

import threading

import numpy as np

DROP_FACTOR = 1.5
"""A processed pair spanning more than this many nominal intervals is reset (room for stamp jitter)."""


class FrameGapGuard:
    """Thread-safe: :meth:`observe` from the image callback, :meth:`check` from the worker."""

    def __init__(self, factor: float = DROP_FACTOR, samples: int = 10) -> None:
        self.factor, self.samples = float(factor), int(samples)
        self._lock = threading.Lock()
        self._last_received: int | None = None
        self._intervals: list[int] = []
        self._prev_processed: int | None = None
        self.resets = 0          # pairs reset because they spanned dropped frames
        self.last_reason: str | None = None

    def observe(self, stamp_ns: int) -> None:
        """A received image (processed or not)."""
        with self._lock:
            if self._last_received is not None and stamp_ns > self._last_received \
                    and len(self._intervals) < self.samples:
                self._intervals.append(int(stamp_ns) - self._last_received)
            self._last_received = int(stamp_ns)

    def nominal(self, trained_s: float | None) -> tuple[float | None, str]:
        """(nominal interval in s or None, its source: 'checkpoint' | 'observed' | 'unknown')."""
        if trained_s:
            return float(trained_s), 'checkpoint'
        with self._lock:
            if not self._intervals:
                return None, 'unknown'
            return float(np.median(self._intervals)) * 1e-9, 'observed'

    def check(self, stamp_ns: int, trained_s: float | None, max_gap_s: float) -> str | None:
        """The reason to reset the pair that ends at ``stamp_ns`` (the frame about to be processed), else None.

        Gaps over ``max_gap_s`` and stamps going backwards are left to the Predictor's own reset reasons.
        """
        nominal, source = self.nominal(trained_s)
        with self._lock:
            prev, self._prev_processed = self._prev_processed, int(stamp_ns)
        if prev is None or nominal is None:
            return None
        gap = (int(stamp_ns) - prev) * 1e-9
        if not self.factor * nominal < gap <= max_gap_s:
            return None
        self.resets += 1
        self.last_reason = (f'frames dropped: the pair spans {gap:.3f} s = {gap / nominal:.1f}x the nominal frame '
                            f'interval {nominal:.3f} s ({source}); its ego-motion is not used')
        return self.last_reason

    def forget(self) -> None:
        """The next processed frame starts a new pair (after a reset elsewhere)."""
        with self._lock:
            self._prev_processed = None
