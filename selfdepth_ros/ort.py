"""ONNX Runtime sessions for the ``onnxruntime`` and ``tensorrt`` backends: providers, threads, a runner.

Kept apart so that only these backends (and exported ONNX files) import onnxruntime.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from .backend_names import BackendUnavailable


def _onnxruntime():
    try:
        import onnxruntime as ort
    except ImportError:
        raise BackendUnavailable('onnxruntime is not installed (pip install -r requirements-core.txt)') from None
    return ort


def ort_providers(device: torch.device, tensorrt: bool = False) -> list:
    """Execution providers for ``device``: TensorRT (fp16) / CUDA when asked for and installed, else the CPU."""
    ort = _onnxruntime()
    have = ort.get_available_providers()
    if tensorrt:
        if device.type != 'cuda':
            raise BackendUnavailable(f'tensorrt needs a CUDA device (device is {device})')
        if 'TensorrtExecutionProvider' not in have:
            raise BackendUnavailable(f'tensorrt needs onnxruntime-gpu with the TensorRT execution provider '
                                     f'(available: {", ".join(have)})')
        return [('TensorrtExecutionProvider', {'device_id': device.index or 0, 'trt_fp16_enable': True}),
                ('CUDAExecutionProvider', {'device_id': device.index or 0}), 'CPUExecutionProvider']
    if device.type == 'cuda' and 'CUDAExecutionProvider' in have:
        return [('CUDAExecutionProvider', {'device_id': device.index or 0}), 'CPUExecutionProvider']
    return ['CPUExecutionProvider']


def ort_runner(model: str | Path | bytes, device: torch.device,
               tensorrt: bool = False) -> Callable[..., tuple[torch.Tensor, ...]]:
    """A runner over an ONNX model (file or bytes); inputs/outputs cross to numpy on the CPU."""
    ort = _onnxruntime()
    options = ort.SessionOptions()
    # Spinning worker threads starve torch (and the node's other threads) on a 2-core machine.
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    options.intra_op_num_threads = torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    source = str(model) if isinstance(model, Path) else model
    session = ort.InferenceSession(source, options, providers=ort_providers(device, tensorrt))
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feed = {n: x.detach().to('cpu', torch.float32).contiguous().numpy() for n, x in zip(names, inputs)}
        return tuple(torch.from_numpy(o).to(device) for o in session.run(None, feed))
    return run


def providers_here() -> list[str]:
    """ONNX Runtime's available execution providers, or [] without onnxruntime."""
    try:
        return _onnxruntime().get_available_providers()
    except BackendUnavailable:
        return []
