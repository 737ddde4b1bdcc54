"""Shared timing helpers of the benchmark board: interleaved rounds, p10/median, ratios, machine info, JSON.

Every benchmark compares variants measured side by side in one run, because the shared VM's speed drifts by
up to 1.5× between runs: absolute milliseconds are only comparable inside one JSON, ratios across JSONs.

Result convention read by ``bench.plot_summary`` (any benchmark may add it to its JSON):
``"ratios": [{"label": str, "median": float, "p10": float, "baseline": str}, ...]`` where ``median`` is
``median(variant) / median(baseline)`` of per-call times and ``p10`` the same with 10th percentiles
(a time ratio: below 1 is faster than the baseline).
"""
from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / 'results'


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """``{'p10_ms', 'median_ms', 'n'}`` of per-call times in milliseconds (``n`` = number of samples)."""
    if len(samples_ms) == 0:
        raise ValueError('summarize needs at least one sample, got an empty sequence')
    arr = np.asarray(samples_ms, dtype=float)
    return {'p10_ms': float(np.percentile(arr, 10)), 'median_ms': float(np.median(arr)), 'n': int(arr.size)}


def ratio(variant: Mapping[str, float], baseline: Mapping[str, float]) -> dict[str, float]:
    """Time ratios variant/baseline of two ``summarize`` results: ``{'median', 'p10'}`` (< 1 = faster)."""
    return {'median': variant['median_ms'] / baseline['median_ms'], 'p10': variant['p10_ms'] / baseline['p10_ms']}


def time_call(fn: Callable[[], Any], sync: Callable[[], None] | None = None) -> float:
    """Milliseconds of one call of ``fn()``; ``sync`` (e.g. ``torch.cuda.synchronize``) runs before the clock
    starts and before it stops, so asynchronous device work is counted in full."""
    if sync is not None:
        sync()
    start = time.perf_counter()
    fn()
    if sync is not None:
        sync()
    return (time.perf_counter() - start) * 1e3


def interleaved_rounds(variants: Mapping[str, Callable[[], Any]], rounds: int, warmup: int = 1,
                       sync: Callable[[], None] | None = None,
                       on_round: Callable[[int], None] | None = None) -> dict[str, list[float]]:
    """Time each variant once per round, round by round, so machine drift hits all variants alike.

    The order of the variants rotates by one each round (no variant always runs right after the same one).
    ``warmup`` rounds run first and are discarded. Returns ``{name: [ms per round]}`` (``rounds`` samples each).
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f'need rounds >= 1 and warmup >= 0, got rounds={rounds!r}, warmup={warmup!r}')
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            ms = time_call(variants[name], sync)
            if r >= warmup:
                times[name].append(ms)
        if on_round is not None:
            on_round(r - warmup)
    return times


def machine_info() -> dict[str, Any]:
    """CPU count and model, Python/torch versions, and the load average (the VM is shared: note it)."""
    info: dict[str, Any] = {'cpus': os.cpu_count(), 'python': platform.python_version(),
                            'platform': platform.platform(), 'load_average_1_5_15': list(os.getloadavg())}
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                info['cpu_model'] = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch
        info['torch'] = torch.__version__
        info['torch_threads'] = torch.get_num_threads()
        if torch.cuda.is_available():
            info['gpu'] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def write_json(path: str | Path, result: Mapping[str, Any]) -> Path:
    """Write ``result`` as indented JSON (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + '\n')
    return path
