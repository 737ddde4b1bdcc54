"""Per-frame latency summary (milliseconds): mean, median (p50), p90 and the extremes."""
from __future__ import annotations

from typing import Iterable

import numpy as np


def latency_summary(latencies_ms: Iterable[float | None]) -> dict[str, float | int] | None:
    """Summarise per-frame latencies; None entries (no measurement) are skipped.

    Returns:
        ``{'mean', 'p50', 'p90', 'min', 'max', 'frames'}`` in ms, or None when nothing was measured.
    """
    values = np.array([v for v in latencies_ms if v is not None], dtype=np.float64)
    if values.size == 0:
        return None
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError('latencies_ms must be finite and non-negative')
    p50, p90 = np.percentile(values, [50, 90])
    return {'mean': float(values.mean()), 'p50': float(p50), 'p90': float(p90),
            'min': float(values.min()), 'max': float(values.max()), 'frames': int(values.size)}
