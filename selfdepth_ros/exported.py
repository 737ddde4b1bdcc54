"""Files written by ``selfdepth export``: the sidecar metadata, and an :class:`~selfdepth_ros.engine.Engine` from them.

An export is two graph files (``<base>.depth.onnx`` + ``<base>.motion.onnx``, or ``.pt`` for TorchScript), each
with a JSON sidecar ``<file>.json`` (:data:`SIDECAR_FORMAT`) carrying what the node and ``selfdepth eval`` need
instead of the checkpoint: ``model_config`` (net size, ``min_depth``, learned intrinsics, motion field),
``camera`` (K and the image size it belongs to, or null), ``frame_interval_s`` (the time scale of the motion
outputs: metres per that interval, or null), ``step``, ``weights_sha256`` and parameter counts of the source
checkpoint, ``graphs`` (the file names of both graphs of the export) and ``probe`` (eager outputs on the parity
probe, :func:`selfdepth_ros.parity.record_probe`).

Loading either graph file loads the pair. ONNX runs on ONNX Runtime (TensorRT's provider with ``backend
tensorrt``), TorchScript on TorchScript; any other ``backend`` does not apply to a file (the report says so).
At load both graphs must reproduce the recorded probe within the backend's tolerance; a file that does not is
refused (:class:`ExportError`: a file has no eager weights to fall back to).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import parity
from .backend_names import BackendUnavailable
from .backends import load_torchscript, torchscript_runner
from .checkpoint import CheckpointError, camera_dict
from .engine import Engine
from .graphs import output_names, probe_inputs
from .models import ModelConfig
from .ort import ort_runner

SIDECAR_FORMAT = 'selfdepth_ros/export/2'
SUFFIX = {'torchscript': '.pt', 'onnx': '.onnx'}
RUNTIME = {'onnx': 'onnxruntime', 'torchscript': 'torchscript'}
WHATS = ('depth', 'motion')


class ExportError(CheckpointError):
    """An exported file that cannot be used: no or a bad sidecar, a missing sibling graph, failed parity."""


@dataclass
class ExportMeta:
    """What an export says about its model (from the sidecars)."""

    config: ModelConfig
    camera: dict | None
    step: int
    frame_interval_s: float | None
    parameters: dict[str, int]
    fmt: str
    files: dict[str, Path]


def sidecar_path(path: str | Path) -> Path:
    return Path(f'{path}.json')


def is_export(path: str | Path) -> bool:
    """True for a file ``selfdepth export`` wrote (an ``.onnx`` file, or anything with an export sidecar)."""
    path = Path(path)
    if path.suffix == '.onnx':
        return True
    side = sidecar_path(path)
    if not side.is_file():
        return False
    try:
        return json.loads(side.read_text()).get('format') in SUFFIX
    except (OSError, ValueError, AttributeError):
        return False


def _read_sidecar(path: Path) -> dict[str, Any]:
    side = sidecar_path(path)
    if not path.is_file():
        raise FileNotFoundError(f'exported graph not found: {path}')
    if not side.is_file():
        raise ExportError(f'{path}: no metadata sidecar {side.name} beside it (selfdepth export writes one per graph; '
                          'keep them together)')
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f'{side}: not readable JSON ({exc})') from None
    if not isinstance(meta, dict) or meta.get('format') not in SUFFIX or meta.get('what') not in WHATS:
        raise ExportError(f'{side}: not a selfdepth export sidecar (format/what missing)')
    if meta.get('sidecar') != SIDECAR_FORMAT or 'probe' not in meta or 'graphs' not in meta:
        raise ExportError(f'{side}: exported by an older selfdepth export (no parity probe or graph list, sidecar '
                          f'{meta.get("sidecar")!r}, need {SIDECAR_FORMAT!r}): export the checkpoint again')
    return meta


def _check_meta(meta: dict, side: Path) -> ModelConfig:
    try:
        config = ModelConfig.from_dict(meta['model_config'])
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f'{side}: model_config is not a valid ModelConfig ({exc})') from None
    camera = meta.get('camera')
    if camera is not None:
        try:
            camera_dict(camera['K'], camera['width'], camera['height'])
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportError(f'{side}: invalid camera ({exc})') from None
    interval = meta.get('frame_interval_s')
    if interval is not None and not (isinstance(interval, (int, float)) and interval > 0):
        raise ExportError(f'{side}: frame_interval_s must be null or > 0 s, got {interval!r}')
    return config


def read_export(path: str | Path) -> tuple[ExportMeta, dict[str, dict]]:
    """The metadata of the export ``path`` belongs to (either graph file) and both sidecars; clear errors for a
    missing sibling or sidecars that disagree."""
    path = Path(path)
    first = _read_sidecar(path)
    graphs = first['graphs']
    missing = [w for w in WHATS if w not in graphs]
    if missing:
        raise ExportError(f'{path}: this export has no {" and no ".join(missing)} graph (exported with --what '
                          f'{first["what"]}); export with --what both to run it in the node or eval')
    files = {w: path.parent / graphs[w] for w in WHATS}
    metas = {first['what']: first}
    for what in WHATS:
        if what not in metas:
            if not files[what].is_file():
                raise ExportError(f'{path}: the {what} graph of this export, {files[what].name}, is missing beside it')
            metas[what] = _read_sidecar(files[what])
    for key in ('format', 'model_config', 'weights_sha256', 'camera'):
        if metas['depth'].get(key) != metas['motion'].get(key):
            raise ExportError(f'{files["depth"].name} and {files["motion"].name} disagree on {key}: not graphs of '
                              'one export; export the checkpoint again')
    config = _check_meta(first, sidecar_path(path))
    counts = {w: int(metas[w].get('parameters') or 0) for w in WHATS}
    return ExportMeta(config=config, camera=first.get('camera'), step=int(first.get('step') or 0),
                      frame_interval_s=first.get('frame_interval_s'), parameters=counts, fmt=first['format'],
                      files=files), metas


def load_export(path: str | Path, backend: str, device: torch.device) -> tuple[Engine, ExportMeta]:
    """An engine over the exported graphs of ``path`` (see module doc) and the export's metadata."""
    meta, sidecars = read_export(path)
    runtime = RUNTIME[meta.fmt]
    note = None
    if meta.fmt == 'onnx' and backend == 'tensorrt':
        runtime = 'tensorrt'
    elif backend not in ('auto', runtime):
        note = f'backend {backend} does not apply to an exported {meta.fmt} file: it runs on {runtime}'
    try:
        if meta.fmt == 'onnx':
            runners = {w: ort_runner(meta.files[w], device, tensorrt=runtime == 'tensorrt') for w in WHATS}
        else:
            runners = {w: torchscript_runner(load_torchscript(meta.files[w], device)) for w in WHATS}
    except BackendUnavailable as exc:
        raise ExportError(f'{path}: {exc}') from None
    except Exception as exc:  # noqa: BLE001 - a damaged graph file: one line naming it
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f'{path}: cannot load the exported graphs ({type(exc).__name__}: {first[:300]})') from None
    tol = parity.TOLERANCES[runtime]
    check: dict = {'ok': True, 'tolerance': tol.text(), 'outputs': {}}
    for what in WHATS:
        names = output_names(what, meta.config)
        probe = {k: v.to(device) for k, v in probe_inputs(what, meta.config).items()}
        try:
            with torch.inference_mode():
                got = runners[what](*probe.values())
        except Exception as exc:  # noqa: BLE001 - wrong input size/names inside the graph file
            raise ExportError(f'{meta.files[what]}: the graph does not run on its own net size '
                              f'{meta.config.height}x{meta.config.width} ({type(exc).__name__})') from None
        one = parity.compare_probe(names, sidecars[what]['probe'], got, tol)
        check['ok'] &= one['ok']
        check['outputs'].update({f'{what}/{k}': v for k, v in one['outputs'].items()})
    if not check['ok']:
        raise ExportError(f'{path}: the exported graphs do not reproduce the outputs recorded at export, parity '
                          f'{parity.summary(check)}; refused (a file has no eager weights to fall back to)')
    report = {'requested': backend, 'backend': runtime, 'fallback': None, 'parity': {runtime: check},
              'source': f'export ({meta.fmt})', 'note': note}
    return Engine(runtime, runners['depth'], runners['motion'], output_names('motion', meta.config), report), meta
