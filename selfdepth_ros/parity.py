"""Output parity of a backend against eager PyTorch: tolerances, comparisons and the export's recorded probe.

An output passes when ``max|backend − eager| ≤ atol + rtol · max|eager|`` (per output tensor, over all its
elements). The tolerance depends on the arithmetic (:data:`TOLERANCES`):

- float32 backends (``compile``, ``torchscript``, ``onnxruntime``): atol 1e-5, rtol 1e-3 (kernel order and
  fusions change the last bits; 1e-3 of the largest value leaves room for other CPUs than the exporting one);
- float16 backends (``fp16``, ``tensorrt``): atol 1e-3, rtol 2e-2 (half precision keeps ~3 decimal digits).

An exported file carries no weights, so its check is against the eager outputs its export recorded on
:func:`selfdepth_ros.graphs.probe_inputs` (:func:`record_probe`: :data:`PROBE_SAMPLES` values per output,
evenly spaced over the flattened tensor, plus the shape and ``max|eager|``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

PROBE_SAMPLES = 256


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float

    def limit(self, scale: float) -> float:
        return self.atol + self.rtol * scale

    def text(self) -> str:
        return f'{self.atol:g} + {self.rtol:g}·max|eager|'


FP32 = Tolerance(atol=1e-5, rtol=1e-3)
FP16 = Tolerance(atol=1e-3, rtol=2e-2)
TOLERANCES = {'torch': FP32, 'compile': FP32, 'torchscript': FP32, 'onnxruntime': FP32, 'fp16': FP16,
              'tensorrt': FP16}


def as_numpy(outputs: Any) -> list[np.ndarray]:
    """A tensor, array or tuple/list of them → list of float32 numpy arrays (on the CPU)."""
    items = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    return [x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float32)
            for x in items]


def compare(names: Sequence[str], reference: Any, outputs: Any, tol: Tolerance) -> dict:
    """Per-output parity report ``{'ok', 'tolerance', 'outputs': {name: {max_abs_diff, max_abs_eager} | {error}}}``.

    ``reference``/``outputs``: the eager and the backend's outputs (tensors or arrays, in ``names`` order)."""
    ref, got = as_numpy(reference), as_numpy(outputs)
    report: dict = {'ok': len(ref) == len(got) == len(names), 'tolerance': tol.text(), 'outputs': {}}
    if len(got) != len(names):
        report['error'] = f'{len(got)} outputs, expected {len(names)} ({", ".join(names)})'
    for name, r, g in zip(names, ref, got):
        if r.shape != g.shape:
            report['outputs'][name] = {'error': f'shape {g.shape} vs eager {r.shape}'}
            report['ok'] = False
            continue
        diff, scale = float(np.max(np.abs(r - g))), float(np.max(np.abs(r)))
        ok = bool(np.isfinite(diff)) and diff <= tol.limit(scale)
        report['outputs'][name] = {'max_abs_diff': diff, 'max_abs_eager': scale}
        report['ok'] &= ok
    return report


def _sample_index(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(PROBE_SAMPLES, n)).round().astype(np.int64))


def record_probe(names: Sequence[str], outputs: Any) -> dict:
    """What an export stores of the eager outputs on the probe: ``{name: {shape, max_abs, values}}``."""
    out = {}
    for name, arr in zip(names, as_numpy(outputs)):
        flat = arr.reshape(-1).astype(np.float64)
        out[name] = {'shape': list(arr.shape), 'max_abs': float(np.max(np.abs(flat))),
                     'values': flat[_sample_index(flat.size)].tolist()}
    return out


def compare_probe(names: Sequence[str], recorded: dict, outputs: Any, tol: Tolerance) -> dict:
    """:func:`compare` of a file's outputs on the probe against the eager values its export recorded."""
    got = as_numpy(outputs)
    report: dict = {'ok': len(got) == len(names), 'tolerance': tol.text(), 'outputs': {},
                    'reference': 'eager outputs recorded at export (sidecar probe)'}
    for name, g in zip(names, got):
        rec = recorded.get(name)
        if rec is None or list(g.shape) != list(rec.get('shape', [])):
            report['outputs'][name] = {'error': f'shape {list(g.shape)} vs recorded '
                                                f'{None if rec is None else rec.get("shape")}'}
            report['ok'] = False
            continue
        values = np.asarray(rec['values'], dtype=np.float64)
        flat = g.reshape(-1).astype(np.float64)[_sample_index(g.size)]
        diff = float(np.max(np.abs(flat - values))) if values.shape == flat.shape else float('inf')
        report['outputs'][name] = {'max_abs_diff': diff, 'max_abs_eager': float(rec['max_abs'])}
        report['ok'] &= bool(np.isfinite(diff)) and diff <= tol.limit(float(rec['max_abs']))
    return report


def summary(report: dict) -> str:
    """One line: the largest difference relative to its limit, or what went wrong."""
    parts = []
    for name, s in report['outputs'].items():
        parts.append(f"{name} {s['error']}" if 'error' in s else f"{name} {s['max_abs_diff']:.2g}")
    if 'error' in report:
        parts.append(report['error'])
    return f"{'ok' if report['ok'] else 'FAILED'} (max |diff| {', '.join(parts)}; tolerance {report['tolerance']})"
