"""How one graph (:mod:`selfdepth_ros.graphs`) runs on each inference backend.

A *runner* is a callable taking the graph's input tensors (in :func:`~selfdepth_ros.graphs.input_names` order,
on the Predictor's device) and returning the tuple of its outputs as float32 tensors on that device.

Backends:
- ``torch``: eager PyTorch (the reference every other backend is checked against);
- ``compile``: ``torch.compile`` (inductor); compiles at the first call, minutes on 2 CPU cores (inductor caches
  it under ``/tmp/torchinductor_$USER``, later loads take seconds);
- ``torchscript``: ``torch.jit.trace`` then ``torch.jit.freeze``;
- ``onnxruntime``: the ONNX recipe of ``selfdepth export`` (opset 17, dynamic batch), exported in memory and
  run by ONNX Runtime (CPU provider; the CUDA provider on a CUDA device when installed), non-spinning threads;
- ``fp16`` (CUDA only): eager under ``torch.autocast(float16)``;
- ``tensorrt`` (CUDA only): the same ONNX graph on ONNX Runtime's TensorRT execution provider with fp16
  (needs ``onnxruntime-gpu`` built with TensorRT).

The CUDA-only paths are written but untested here (no GPU on the CI machines).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .backend_names import BACKENDS, CUDA_ONLY, BackendUnavailable
from .ort import ort_providers, ort_runner, providers_here

Runner = Callable[..., tuple[torch.Tensor, ...]]
ONNX_OPSET = 17


def _as_tuple(out) -> tuple[torch.Tensor, ...]:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def trace(graph: nn.Module, example: dict[str, torch.Tensor]) -> torch.jit.ScriptModule:
    """``torch.jit.trace`` of ``graph`` on ``example`` (tracer warnings about constant shape checks silenced)."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # shape checks become constants; TorchScript's deprecation notice
        return torch.jit.trace(graph, tuple(example.values()), check_trace=False)


def export_onnx(graph: nn.Module, example: dict[str, torch.Tensor], outputs: list[str],
                target: str | Path | io.BytesIO) -> None:
    """The project's one ONNX export recipe: opset 17, named inputs/outputs, a dynamic batch axis."""
    dynamic = {name: {0: 'batch'} for name in [*example, *outputs]}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        torch.onnx.export(graph, tuple(example.values()), target if isinstance(target, io.BytesIO) else str(target),
                          dynamo=False, input_names=list(example), output_names=outputs, dynamic_axes=dynamic,
                          opset_version=ONNX_OPSET)


def torchscript_runner(module: torch.jit.ScriptModule) -> Runner:
    """A runner over a traced (or loaded) TorchScript module, frozen for inference when possible."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            module = torch.jit.freeze(module.eval())
    except (RuntimeError, AttributeError):  # a module without the attributes freeze needs still runs unfrozen
        pass
    return lambda *inputs: _as_tuple(module(*inputs))


def load_torchscript(path: Path, device: torch.device) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)  # TorchScript is deprecated upstream, still asked for
        return torch.jit.load(str(path), map_location=device)


def build_runner(backend: str, graph: nn.Module, example: dict[str, torch.Tensor], outputs: list[str],
                 device: torch.device) -> Runner:
    """A runner of ``graph`` (on ``device``, eval mode) on ``backend``; ``example`` are inputs on ``device`` at the
    net size (traced/exported with them). Raises :class:`BackendUnavailable` with the reason."""
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; known: {", ".join(BACKENDS)}')
    if backend in CUDA_ONLY and device.type != 'cuda':
        raise BackendUnavailable(f'{backend} runs on CUDA only (device is {device})')
    if backend == 'torch':
        return lambda *inputs: _as_tuple(graph(*inputs))
    if backend == 'compile':
        compiled = torch.compile(graph)
        return lambda *inputs: _as_tuple(compiled(*inputs))
    if backend == 'torchscript':
        return torchscript_runner(trace(graph, example))
    if backend == 'fp16':
        def half(*inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
            with torch.autocast('cuda', dtype=torch.float16):
                out = _as_tuple(graph(*inputs))
            return tuple(t.float() for t in out)
        return half
    ort_providers(device, tensorrt=backend == 'tensorrt')  # fail early with the reason, before exporting
    buffer = io.BytesIO()
    export_onnx(graph, example, outputs, buffer)
    return ort_runner(buffer.getvalue(), device, tensorrt=backend == 'tensorrt')


def available(device: torch.device) -> list[str]:
    """The backends ``auto`` measures on ``device``: the ones whose packages/providers are present, without
    ``compile`` (its build takes minutes on a CPU: ask for it by name)."""
    names = ['torch', 'torchscript']
    providers = providers_here()
    if device.type == 'cuda':
        names.append('fp16')
        if 'TensorrtExecutionProvider' in providers:
            names.append('tensorrt')
        if 'CUDAExecutionProvider' in providers:
            names.append('onnxruntime')
    elif 'CPUExecutionProvider' in providers:
        names.append('onnxruntime')
    return names
