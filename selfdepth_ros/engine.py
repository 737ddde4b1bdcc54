"""The depth and motion graphs on one backend, parity-checked at load: what the Predictor runs.

:func:`prepare` puts a pair of eager nets on the asked-for backend:

- ``torch``: eager, nothing to check;
- a named backend (``compile``, ``torchscript``, ``onnxruntime``, ``fp16``, ``tensorrt``): built, then both
  graphs run on :func:`~selfdepth_ros.graphs.probe_inputs` beside eager and compared with the tolerance of
  :mod:`selfdepth_ros.parity`. A backend that cannot run here or fails parity is **not** used: the engine falls
  back to eager and says why (``fallback``; the node logs it as a WARN and shows it in ``/diagnostics``);
- ``auto``: every backend :func:`~selfdepth_ros.backends.available` here (``compile`` excluded: minutes of
  build on a CPU) is built and parity-checked, then the ones that pass are timed against eager on the probe,
  interleaved (:data:`AUTO_ROUNDS` rounds after a warm-up, order rotated each round), and the lowest median of
  depth + motion wins. The timings are in the report.

Exported files (ONNX, TorchScript) become an engine in :mod:`selfdepth_ros.exported`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from . import parity
from .backend_names import CHOICES, BackendUnavailable
from .backends import Runner, available, build_runner
from .graphs import graphs_of, output_names, probe_inputs
from .models import DepthNet, MotionNet

AUTO_ROUNDS = 3


@dataclass
class Engine:
    """Runners of both graphs on one backend and what was found at load.

    ``backend``: the backend in use; ``report``: ``{'requested', 'backend', 'fallback' (reason or None),
    'parity': {backend: report}, 'timings_ms': {backend: median ms} (auto only), 'source'}``.
    """

    backend: str
    depth: Runner
    motion: Runner
    motion_outputs: list[str]
    report: dict = field(default_factory=dict)

    def describe(self) -> str:
        """One line for logs and ``/diagnostics``: the backend, how it was chosen, the parity."""
        r = self.report
        text = self.backend
        if r.get('fallback'):
            text += f" (FALLBACK from {r['requested']}: {r['fallback']})"
        elif r.get('requested') == 'auto':
            times = ', '.join(f'{k} {v:.1f} ms' for k, v in r.get('timings_ms', {}).items())
            text += f' (auto: fastest of {times})' if times else ' (auto)'
        check = r.get('parity', {}).get(self.backend)
        return text + (f'; parity {parity.summary(check)}' if check else '')


def _check_backend(name: str, graphs: dict, probes: dict, reference: dict, names: dict,
                   device: torch.device) -> tuple[dict[str, Runner] | None, dict]:
    """Build ``name`` for both graphs and compare with eager on the probe: ``(runners or None, report)``."""
    tol = parity.TOLERANCES[name]
    runners: dict[str, Runner] = {}
    merged: dict = {'ok': True, 'tolerance': tol.text(), 'outputs': {}}
    try:
        for what, graph in graphs.items():
            runners[what] = build_runner(name, graph, probes[what], names[what], device)
            with torch.inference_mode():
                got = runners[what](*probes[what].values())
            check = parity.compare(names[what], reference[what], got, tol)
            merged['ok'] &= check['ok']
            merged['outputs'].update({f'{what}/{k}': v for k, v in check['outputs'].items()})
            if 'error' in check:
                merged['error'] = check['error']
    except BackendUnavailable as exc:
        return None, {'ok': False, 'tolerance': tol.text(), 'outputs': {}, 'error': str(exc)}
    except Exception as exc:  # noqa: BLE001 - a backend that breaks on this net is reported, eager runs instead
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ''
        return None, {'ok': False, 'tolerance': tol.text(), 'outputs': {}, 'error': f'{type(exc).__name__}: {first}'}
    return (runners if merged['ok'] else None), merged


def _why(check: dict) -> str:
    return check.get('error') or f'parity {parity.summary(check)}'


def _time(runners: dict[str, dict[str, Runner]], probes: dict, device: torch.device) -> dict[str, float]:
    """Median ms of depth + motion on the probe per backend, interleaved rounds with a rotating order."""
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    names = list(runners)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(1 + AUTO_ROUNDS):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            sync()
            start = time.perf_counter()
            with torch.inference_mode():
                for what, run in runners[name].items():
                    run(*probes[what].values())
            sync()
            if r:
                samples[name].append((time.perf_counter() - start) * 1e3)
    return {n: sorted(v)[len(v) // 2] for n, v in samples.items()}


def prepare(backend: str, depth_net: DepthNet, motion_net: MotionNet, device: torch.device,
            source: str = 'checkpoint') -> Engine:
    """The engine running ``depth_net``/``motion_net`` (eval, on ``device``) on ``backend`` (see module doc)."""
    if backend not in CHOICES:
        raise ValueError(f'backend must be one of {", ".join(CHOICES)}, got {backend!r}')
    config = depth_net.config
    graphs = graphs_of(depth_net, motion_net)
    names = {what: output_names(what, config) for what in graphs}
    eager = {'depth': lambda *x, g=graphs['depth']: (g(*x),), 'motion': lambda *x, g=graphs['motion']: g(*x)}
    report: dict = {'requested': backend, 'fallback': None, 'parity': {}, 'source': source}
    if backend == 'torch':
        return Engine('torch', eager['depth'], eager['motion'], names['motion'], {**report, 'backend': 'torch'})
    probes = {what: {k: v.to(device) for k, v in probe_inputs(what, config).items()} for what in graphs}
    with torch.inference_mode():
        reference = {what: eager[what](*probes[what].values()) for what in graphs}
    candidates = [b for b in available(device) if b != 'torch'] if backend == 'auto' else [backend]
    passing: dict[str, dict[str, Runner]] = {}
    refused: dict[str, str] = {}
    for name in candidates:
        runners, check = _check_backend(name, graphs, probes, reference, names, device)
        report['parity'][name] = check
        if runners is None:
            refused[name] = _why(check)
        else:
            passing[name] = runners
    chosen = 'torch'
    if backend == 'auto':
        if refused:
            report['refused'] = refused
        if passing:
            report['timings_ms'] = _time({'torch': eager, **passing}, probes, device)
            chosen = min(report['timings_ms'], key=report['timings_ms'].get)
    elif passing:
        chosen = backend
    else:
        report['fallback'] = refused[backend]
    runners = passing.get(chosen, eager)
    return Engine(chosen, runners['depth'], runners['motion'], names['motion'], {**report, 'backend': chosen})
