"""Rolling frame statistics for /diagnostics: processing rate and latency percentiles over a time window."""
from __future__ import annotations

import threading
from collections import deque

import numpy as np


class RollingStats:
    """Events ``(t_ns, latency_ms, e2e_ms)`` kept for ``window_s`` seconds (thread-safe)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_ns = int(window_s * 1e9)
        self._events: deque[tuple[int, float, float]] = deque()
        self._lock = threading.Lock()
        self.total = 0

    def add(self, t_ns: int, latency_ms: float, e2e_ms: float) -> None:
        with self._lock:
            self._events.append((int(t_ns), float(latency_ms), float(e2e_ms)))
            self.total += 1

    def summary(self, now_ns: int) -> dict[str, float]:
        """``rate_hz``, inference ``latency_ms_p50/max`` and end-to-end ``e2e_ms_p50/max`` over the window."""
        with self._lock:
            while self._events and now_ns - self._events[0][0] > self.window_ns:
                self._events.popleft()
            ev = list(self._events)
        if not ev:
            return {'rate_hz': 0.0, 'latency_ms_p50': float('nan'), 'latency_ms_max': float('nan'),
                    'e2e_ms_p50': float('nan'), 'e2e_ms_max': float('nan')}
        lat = np.array([e[1] for e in ev])
        e2e = np.array([e[2] for e in ev])
        span = max((ev[-1][0] - ev[0][0]) * 1e-9, 1e-9)
        rate = (len(ev) - 1) / span if len(ev) > 1 else 0.0
        return {'rate_hz': rate, 'latency_ms_p50': float(np.median(lat)), 'latency_ms_max': float(lat.max()),
                'e2e_ms_p50': float(np.median(e2e)), 'e2e_ms_max': float(e2e.max())}
