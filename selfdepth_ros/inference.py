"""``Predictor``: checkpoint → preprocess → depth net (frame t) → motion net (t−1, t) → numpy outputs.

No ROS inside: the perception node and offline evaluation share it, so both see the same numbers.
It keeps the previous frame and its depth, and resets the pair (no ego-motion for that frame) on the first
frame, a time gap, a stamp going backwards, an image-size or intrinsics change, ``reset()`` or ``load()``.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import build_models, frame_interval_s, load_checkpoint
from .engine import Engine, prepare
from .exported import ExportError, is_export, load_export
from .geometry import euler_to_matrix, scale_intrinsics
from .models import ModelConfig, count_parameters

NOMINAL_HFOV_DEG = 60.0  # K guessed when there is no CameraInfo, no checkpoint camera and no learned K


@dataclass
class Prediction:
    """Outputs for one frame t (numpy, CPU).

    depth: ``H×W`` float32 metres at the input resolution (bilinear upsampling of ``depth_net``).
    depth_net: ``h×w`` float32 metres at the network resolution.
    K / K_net: 3×3 float64 intrinsics (pixels) at the input / network resolution; ``K_source`` says where
      they came from: 'given', 'checkpoint', 'learned' or 'nominal' (a 60° horizontal field of view guess).
    ego: ``(R 3×3, t 3)`` float64, the rigid transform ``cam_t ← cam_{t−1}`` (metres in the depth scale),
      or None on the first frame and after a reset.
    motion / motion_net: ``H×W×3`` / ``h×w×3`` float32 object translation ``T_obj`` of the pair (t−1 → t):
      indexed by pixels of frame t−1, in cam_t axes, metres per frame interval; None without a pair or
      when the model has no motion field.
    latency_ms: wall time of ``predict``. reset_reason: why the pair was reset on this frame, else None.
    """

    depth: np.ndarray
    depth_net: np.ndarray
    K: np.ndarray
    K_net: np.ndarray
    K_source: str
    ego: tuple[np.ndarray, np.ndarray] | None
    motion: np.ndarray | None
    motion_net: np.ndarray | None
    latency_ms: float
    reset_reason: str | None
    stamp_ns: int | None


@dataclass
class _Frame:
    rgb: torch.Tensor      # 1×3×h×w in [0, 1] on the device
    depth: torch.Tensor    # 1×1×h×w metres
    size: tuple[int, int]  # input (H, W)
    K_arg: np.ndarray | None
    stamp_ns: int | None


def resolve_device(device: str) -> torch.device:
    """'auto' → CUDA when available else CPU; 'cuda' without CUDA is a clear error."""
    if device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device not in ('cpu', 'cuda') and not device.startswith('cuda:'):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise RuntimeError(f'device {device!r} requested but CUDA is not available (use device="auto" or "cpu")')
    return torch.device(device)


def _check_rgb(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        desc = f'shape {getattr(rgb, "shape", None)} dtype {getattr(rgb, "dtype", type(rgb).__name__)}'
        raise ValueError(f'rgb must be an H×W×3 uint8 numpy array in RGB order, got {desc}')
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ValueError(f'rgb must be at least 2×2 pixels, got {rgb.shape[0]}×{rgb.shape[1]}')


def _check_K(K: np.ndarray | None) -> np.ndarray | None:
    if K is None:
        return None
    k = np.asarray(K, dtype=np.float64)
    if k.shape != (3, 3) or not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise ValueError(f'K must be a finite 3×3 intrinsics matrix with fx, fy > 0, got {k.tolist()}')
    return k


def _resize_K(K: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """K for an image resized by (sx, sy): ``fx' = sx·fx``, ``cx' = (cx + 0.5)·sx − 0.5``."""
    return scale_intrinsics(torch.from_numpy(np.array(K, copy=True))[None], sx, sy)[0].numpy()  # copy: K may be read-only


class Predictor:
    """Depth, ego-motion and object motion for a stream of frames (thread-safe; one stream per instance).

    Args:
        checkpoint: a ``selfdepth_ros/ckpt/1`` file, or None for an untrained network seeded with ``seed``
          (so a node can start before any training).
        device: 'auto' (CUDA when available), 'cpu' or 'cuda'.
        model_config: architecture when ``checkpoint`` is None (default ``ModelConfig()``); with a checkpoint
          it must match the checkpoint's weights (clear error otherwise).
        max_gap_s: a larger time gap between consecutive stamps resets the frame pair (seconds).
        untrained_config: architecture of the untrained network ``load(None)`` installs (default:
          ``model_config``, else ``ModelConfig()``).
        input_size: ``(height, width)`` network input size used instead of each checkpoint's own (the weights
          do not depend on it; multiples of 32; a 0 keeps that side), or None. An exported file has a fixed
          size: a different ``input_size`` is refused.
        backend: where the nets run (:mod:`selfdepth_ros.engine`): 'torch' (eager), 'auto' (the fastest that
          passes parity, measured at load), 'compile', 'torchscript', 'onnxruntime', 'fp16', 'tensorrt'. A
          named backend that is unavailable or fails parity falls back to eager (``describe()['backend']``).

    ``checkpoint`` may also be a file of ``selfdepth export`` (either graph of an ONNX/TorchScript export):
    its sidecars bring the net size, camera and frame interval, and it runs in its own runtime.

    After a hot reload (:meth:`load`) every setting comes from the new checkpoint's ``model_config`` (size,
    ``min_depth``, …), except ``input_size`` when given. ``frame_interval_s`` is the frame interval the
    checkpoint was trained at (``train_config['frame_interval_s']``) or None when it does not say.
    """

    def __init__(self, checkpoint: str | Path | None = None, device: str = 'auto',
                 model_config: ModelConfig | None = None, max_gap_s: float = 0.5, seed: int = 0, *,
                 untrained_config: ModelConfig | None = None, input_size: tuple[int, int] | None = None,
                 backend: str = 'torch') -> None:
        if not max_gap_s > 0:
            raise ValueError(f'max_gap_s must be > 0 seconds, got {max_gap_s!r}')
        self.device = resolve_device(device)
        self.max_gap_s = float(max_gap_s)
        self.seed = int(seed)
        self.backend = backend
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self._lock = threading.Lock()
        self._prev: _Frame | None = None
        self._pending_reset: str | None = None
        self._untrained_config = untrained_config or model_config or ModelConfig()
        self.load(checkpoint, model_config)
        self._pending_reset = None

    # -- model management ------------------------------------------------------------------------------
    def _install(self, engine: Engine, config: ModelConfig, params: dict[str, int], nets: tuple, path: Path | None,
                 camera: dict | None, step: int, interval: float | None = None) -> None:
        self.engine, self.config, self.parameters = engine, config, params
        self.depth_net, self.motion_net = nets  # the eager nets (None for an exported file)
        self.checkpoint_path, self.camera, self.step = path, camera, step
        self.frame_interval_s = interval

    def _engine(self, nets, source: str) -> tuple[Engine, ModelConfig, dict[str, int], tuple]:
        depth_net, motion_net = nets
        counts = {'depth': count_parameters(depth_net), 'motion': count_parameters(motion_net)}
        return prepare(self.backend, depth_net, motion_net, self.device, source), depth_net.config, counts, nets

    def _sized(self, config: ModelConfig) -> ModelConfig:
        size = {k: v for k, v in zip(('height', 'width'), self.input_size or ()) if v}
        return config.replace(**size) if size else config

    def load(self, checkpoint: str | Path | None, model_config: ModelConfig | None = None) -> None:
        """Hot reload: build the nets from ``checkpoint`` on ``self.backend`` and swap them in; the pair resets.

        The architecture and every other model setting are the checkpoint's own (``model_config``, when given,
        must fit its weights); an exported file's come from its sidecars. ``None`` installs an untrained network
        (``untrained_config``, seeded). On any error (missing file, unsafe, damaged, non-finite or mismatched
        checkpoint, an export that fails parity) the current nets stay in use.
        """
        if checkpoint is None:
            with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
                torch.manual_seed(self.seed)
                nets = build_models(self._sized(model_config or self._untrained_config), device=self.device)
            engine = self._engine(nets, 'untrained')
            with self._lock:
                self._install(*engine, None, None, 0)
                self._prev, self._pending_reset = None, 'untrained network loaded'
            return
        path = Path(checkpoint)
        if is_export(path):
            engine, meta = load_export(path, self.backend, self.device)
            sized = self._sized(meta.config)
            if (sized.height, sized.width) != (meta.config.height, meta.config.width):
                raise ExportError(f'{path}: exported at {meta.config.height}x{meta.config.width}, input size '
                                  f'{sized.height}x{sized.width} asked for; an export has a fixed size (export the '
                                  'checkpoint at that size, or leave the input size at 0)')
            installed = (engine, meta.config, meta.parameters, (None, None), path, meta.camera, meta.step,
                         meta.frame_interval_s)
        else:
            ckpt = load_checkpoint(path)
            wanted = model_config if model_config is not None else (
                self._sized(ModelConfig.from_dict(ckpt['model_config'])) if self.input_size else None)
            installed = (*self._engine(build_models(ckpt, wanted, device=self.device), 'checkpoint'), path,
                         ckpt.get('camera'),
                         int(ckpt['step']), frame_interval_s(ckpt))
        with self._lock:
            self._install(*installed)
            self._prev, self._pending_reset = None, f'checkpoint loaded: {path.name}'

    def reset(self, reason: str = 'reset requested') -> None:
        """Forget the previous frame: the next frame has no ego-motion and reports ``reason``."""
        with self._lock:
            self._prev, self._pending_reset = None, reason

    def describe(self) -> dict:
        """Model facts for diagnostics: checkpoint, step, device, input size, parameter counts, backend
        (``backend``: the one in use; ``backend_detail``: how it was chosen and its parity at load;
        ``backend_fallback``: why the asked-for one is not used, or None; ``backend_note``: e.g. a backend that
        does not apply to an exported file)."""
        cfg, engine = self.config, self.engine
        return {'checkpoint': str(self.checkpoint_path) if self.checkpoint_path else 'untrained',
                'step': self.step, 'device': str(self.device), 'net_size': f'{cfg.height}x{cfg.width}',
                'min_depth': cfg.min_depth,
                'encoder': f'resnet{cfg.encoder_depth}/w{cfg.encoder_width}',
                'depth_params': self.parameters['depth'], 'motion_params': self.parameters['motion'],
                'backend': engine.backend, 'backend_requested': engine.report.get('requested'),
                'backend_detail': engine.describe(), 'backend_fallback': engine.report.get('fallback'),
                'backend_note': engine.report.get('note'), 'source': engine.report.get('source')}

    # -- inference -------------------------------------------------------------------------------------
    def _intrinsics(self, K_arg: np.ndarray | None, size: tuple[int, int]) -> tuple[np.ndarray, str]:
        height, width = size
        if K_arg is not None:
            return K_arg, 'given'
        if self.camera is not None:
            cam_K = np.asarray(self.camera['K'], dtype=np.float64)
            return _resize_K(cam_K, width / self.camera['width'], height / self.camera['height']), 'checkpoint'
        f = 0.5 * width / math.tan(math.radians(NOMINAL_HFOV_DEG) / 2)
        return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]]), 'nominal'

    def _reset_reason(self, size: tuple[int, int], K_arg: np.ndarray | None, stamp_ns: int | None) -> str | None:
        prev = self._prev
        if prev is None:
            return self._pending_reset or 'first frame'
        if prev.size != size:
            return f'image size changed {prev.size[0]}x{prev.size[1]} -> {size[0]}x{size[1]}'
        if (prev.K_arg is None) != (K_arg is None) or (K_arg is not None and not np.allclose(prev.K_arg, K_arg)):
            return 'intrinsics changed'
        if stamp_ns is not None and prev.stamp_ns is not None:
            gap = (stamp_ns - prev.stamp_ns) * 1e-9
            if gap <= 0:
                return f'stamp did not increase (dt {gap:.3f} s)'
            if gap > self.max_gap_s:
                return f'time gap {gap:.3f} s > max_gap_s {self.max_gap_s:g} s'
        return None

    def predict(self, rgb: np.ndarray, K: np.ndarray | None = None, stamp_ns: int | None = None) -> Prediction:
        """Run the nets on one frame.

        Args:
            rgb: ``H×W×3`` uint8 RGB image (any size; resized with ``cv2.INTER_AREA`` to the net size).
            K: 3×3 intrinsics of ``rgb`` in pixels, or None (checkpoint camera, learned or nominal K).
            stamp_ns: capture time in nanoseconds, or None to skip the time-gap check.
        """
        start = time.perf_counter()
        _check_rgb(rgb)
        K_arg = _check_K(K)
        size = (int(rgb.shape[0]), int(rgb.shape[1]))
        with self._lock, torch.inference_mode():
            cfg = self.config
            sx, sy = cfg.width / size[1], cfg.height / size[0]
            small = rgb if (sx, sy) == (1.0, 1.0) else cv2.resize(rgb, (cfg.width, cfg.height),
                                                                  interpolation=cv2.INTER_AREA)
            x = torch.from_numpy(np.ascontiguousarray(small)).to(self.device).permute(2, 0, 1)[None].float() / 255
            depth = self.engine.depth(x)[0]
            reason = self._reset_reason(size, K_arg, stamp_ns)
            K_in, source = self._intrinsics(K_arg, size)
            K_net = _resize_K(K_in, sx, sy)
            ego = motion_net_field = None
            if reason is None:
                out = dict(zip(self.engine.motion_outputs, self.engine.motion(self._prev.rgb, self._prev.depth, x,
                                                                              depth)))
                R = euler_to_matrix(out['rotation'].double())[0].cpu().numpy()
                ego = (R, out['translation'][0].double().cpu().numpy())
                if cfg.use_motion_field:
                    motion_net_field = out['residual']
                if 'intrinsics' in out and source == 'nominal':
                    K_net, source = out['intrinsics'][0].double().cpu().numpy(), 'learned'
                    K_in = _resize_K(K_net, 1 / sx, 1 / sy)
            self._prev = _Frame(x, depth, size, K_arg, stamp_ns)
            self._pending_reset = None
            motion = None if motion_net_field is None else _hwc(_resize(motion_net_field, size))
            return Prediction(depth=_resize(depth, size)[0, 0].float().cpu().numpy(),
                              depth_net=depth[0, 0].float().cpu().numpy(), K=K_in, K_net=K_net, K_source=source,
                              ego=ego, motion=motion,
                              motion_net=None if motion_net_field is None else _hwc(motion_net_field),
                              latency_ms=(time.perf_counter() - start) * 1e3, reset_reason=reason, stamp_ns=stamp_ns)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a ``1×C×h×w`` map to ``size`` (pixel-centre aligned, as ``cv2.resize``)."""
    return x if tuple(x.shape[-2:]) == size else F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def _hwc(x: torch.Tensor) -> np.ndarray:
    """``1×C×H×W`` tensor → ``H×W×C`` float32 numpy array."""
    return x[0].permute(1, 2, 0).float().cpu().numpy()
