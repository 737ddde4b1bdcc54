"""The checkpoint format shared by the trainer, the node and export (``selfdepth_ros/ckpt/1``).

A checkpoint is a plain dict saved with ``torch.save`` that loads with ``torch.load(weights_only=True)``
(tensors, numbers, strings, lists, dicts only — nothing that runs code when unpickled)::

    {'format': 'selfdepth_ros/ckpt/1',
     'model_config': dict,                 # ModelConfig.to_dict()
     'depth_net': state_dict, 'motion_net': state_dict,
     'camera': {'K': 3×3 list, 'width': int, 'height': int} or None,
     'step': int,
     'optimizer': state_dict or None, 'train_config': dict or None,
     'rng': dict or None,                  # opaque to this module (selfdepth_ros_training.checkpointing.capture_rng)
     'weights_sha256': str,                # weights_digest(depth_net, motion_net); absent in older files
     'nets': {name: state_dict},           # training-only nets by name (a critic, ...); absent when none
     'nets_sha256': str,                   # nets_digest(nets); with 'nets' only
     'optimizers': {name: state_dict}}     # the optimisers besides 'optimizer' (training only); absent when none

The runtime (node, export) loads ``depth_net`` and ``motion_net`` and ignores ``nets``; the trainer restores them
on ``--resume`` (``selfdepth_ros_training.nets``).

Integrity (``load_checkpoint``): the stored ``weights_sha256`` must match the weights (a flipped byte inside a
tensor is refused, not silently loaded); every floating-point weight must be finite; ``model_config``, the two
state dicts, ``step`` and ``camera`` must have the types above. Files written before the hash existed (the
shipped model among them) load without a hash check and without a warning.
"""
from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .models import DepthNet, ModelConfig, MotionNet

FORMAT = 'selfdepth_ros/ckpt/1'
SHIPPED = 'shipped'
"""The ``checkpoint`` value that names the model shipped with the package (the node's default)."""
SHIPPED_PATH = Path(__file__).resolve().parent / 'data' / 'selfdepth_small.pt'
REQUIRED_KEYS = ('format', 'model_config', 'depth_net', 'motion_net', 'step')
HASH_KEY = 'weights_sha256'
NETS_KEY, NETS_HASH_KEY = 'nets', 'nets_sha256'
NETS = ('depth_net', 'motion_net')


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: unsafe content, wrong format, or a mismatched architecture."""


def _state_dict(obj: Any) -> dict | None:
    """A state dict from a module (DDP unwrapped), an optimiser, or an existing state dict."""
    if obj is None or isinstance(obj, dict):
        return obj
    if isinstance(obj, nn.Module):
        return getattr(obj, 'module', obj).state_dict()  # DDP keeps the net in .module
    if hasattr(obj, 'state_dict'):
        return obj.state_dict()
    raise TypeError(f'expected a module, an optimiser or a state dict, got {type(obj).__name__}')


def weights_digest(depth_net: dict[str, torch.Tensor], motion_net: dict[str, torch.Tensor]) -> str:
    """sha256 (hex) over both state dicts in a fixed order: per net (depth, motion), per key (sorted), the line
    ``net.key dtype shape`` and then the tensor's raw bytes (C order, host byte order: little endian on every
    platform torch ships for)."""
    return _digest(zip(NETS, (depth_net, motion_net)))


def nets_digest(nets: dict[str, dict[str, torch.Tensor]]) -> str:
    """sha256 (hex) over training-only nets as :func:`weights_digest` does it, nets in sorted name order, each
    line's net named ``nets.<name>``."""
    return _digest((f'nets.{name}', nets[name]) for name in sorted(nets))


def _digest(states: Any) -> str:
    h = hashlib.sha256()
    for name, state in states:
        for key in sorted(state):
            t = state[key].detach().to('cpu').contiguous()
            h.update(f'{name}.{key} {t.dtype} {tuple(t.shape)}\n'.encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def camera_dict(K: Any, width: int, height: int) -> dict[str, Any]:
    """The checkpoint's camera entry: ``K`` (3×3, pixels) for images of ``width``×``height``."""
    k = np.asarray(K, dtype=np.float64)
    if k.shape != (3, 3) or not np.all(np.isfinite(k)):
        raise ValueError(f'camera K must be a finite 3×3 matrix, got shape {k.shape}')
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise ValueError(f'camera K must have fx, fy > 0, got fx={k[0, 0]}, fy={k[1, 1]}')
    for name, value in (('width', width), ('height', height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f'camera {name} must be a positive integer (pixels), got {value!r}')
    return {'K': k.tolist(), 'width': int(width), 'height': int(height)}


def save_checkpoint(path: str | Path, *, model_config: ModelConfig | dict, depth_net: Any, motion_net: Any,
                    camera: dict | None = None, step: int = 0, optimizer: Any = None,
                    train_config: dict | None = None, rng: dict | None = None, nets: dict[str, Any] | None = None,
                    optimizers: dict[str, Any] | None = None) -> Path:
    """Write a checkpoint atomically (temporary file in the same folder, then ``os.replace``).

    ``depth_net``/``motion_net``/``optimizer`` (and ``nets``, the training-only nets by name, and ``optimizers``,
    the optimisers besides the main one by name) may be modules/optimisers or their state dicts; ``camera`` is
    ``camera_dict(...)`` or None. Returns the path. A reader never sees a half-written file. The weights'
    :func:`weights_digest` is stored, and the file gets the usual mode for new files (0666 less the umask, as
    ``open()`` would; ``tempfile.mkstemp`` would leave 0600).
    """
    path = Path(path)
    config = model_config.to_dict() if isinstance(model_config, ModelConfig) else ModelConfig.from_dict(
        model_config).to_dict()
    if camera is not None:
        camera = camera_dict(camera['K'], camera['width'], camera['height'])
    depth_state, motion_state = _state_dict(depth_net), _state_dict(motion_net)
    ckpt = {'format': FORMAT, 'model_config': config, 'depth_net': depth_state,
            'motion_net': motion_state, 'camera': camera, 'step': int(step),
            'optimizer': _state_dict(optimizer), 'train_config': train_config, 'rng': rng,
            HASH_KEY: weights_digest(depth_state, motion_state)}
    if nets:
        ckpt[NETS_KEY] = {str(name): _state_dict(net) for name, net in nets.items()}
        ckpt[NETS_HASH_KEY] = nets_digest(ckpt[NETS_KEY])
    if optimizers:
        ckpt['optimizers'] = {str(name): _state_dict(opt) for name, opt in optimizers.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f'.{path.name}.{secrets.token_hex(6)}.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the kernel applies the umask
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(ckpt, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def frame_interval_s(ckpt: dict[str, Any]) -> float | None:
    """The frame interval (s) the checkpoint was trained at (``train_config['frame_interval_s']``), or None
    when it does not state a finite positive one."""
    value = (ckpt.get('train_config') or {}).get('frame_interval_s')
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    return float(value) if ok else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def resolve_checkpoint(value: str | Path | None) -> Path | None:
    """The file a ``checkpoint`` setting names: :data:`SHIPPED` (``'shipped'``) is the model installed with the
    package (:data:`SHIPPED_PATH`), ``''``/None means an untrained network (None), anything else is a path
    (``~`` expanded)."""
    if value is None or str(value) == '':
        return None
    if str(value) == SHIPPED:
        return SHIPPED_PATH
    return Path(value).expanduser()


def load_checkpoint(path: str | Path, map_location: Any = 'cpu') -> dict[str, Any]:
    """Load and validate a checkpoint with ``torch.load(weights_only=True)``.

    Raises ``FileNotFoundError`` for a missing file and ``CheckpointError`` for content that is not plain
    data (a pickled object is refused, never executed), a wrong ``format`` tag, missing keys, fields of the
    wrong type (:func:`check_fields`), weights that do not match the stored hash, or non-finite weights.
    """
    path = Path(path)
    if not path.is_file():
        if path == SHIPPED_PATH:
            raise FileNotFoundError(f'the shipped model {path} is not installed; give a checkpoint path, or '
                                    "checkpoint: '' for an untrained network")
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = re.search(r'Unsupported global: GLOBAL (\S+)', str(exc))
        if not found:  # not a pickle of objects at all: random bytes, another format, a damaged file
            raise CheckpointError(f'{path} is not a readable torch checkpoint (damaged, truncated or not '
                                  f'torch.save output): {_first_line(exc)}') from None
        raise CheckpointError(
            f'{path} is not a safe selfdepth_ros checkpoint: it contains Python objects other than tensors and '
            f'plain containers, and unpickling it could run code; refused (weights_only=True), it references '
            f'{found.group(1)}') from None
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - junk bytes raise KeyError, IndexError, ValueError, zip errors, ...
        raise CheckpointError(f'{path} is not a readable torch checkpoint (damaged, truncated or not torch.save '
                              f'output): {type(exc).__name__}: {_first_line(exc)}') from None
    if not isinstance(ckpt, dict) or ckpt.get('format') != FORMAT:
        found = ckpt.get('format') if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f'{path}: expected a checkpoint with format {FORMAT!r}, found {found!r}')
    missing = [k for k in REQUIRED_KEYS if k not in ckpt]
    if missing:
        raise CheckpointError(f'{path}: checkpoint lacks required key(s) {missing}')
    check_fields(ckpt, str(path))
    return ckpt


def check_fields(ckpt: dict[str, Any], where: str = 'checkpoint') -> None:
    """Validate a loaded checkpoint dict's fields, weight hash and finiteness; ``CheckpointError`` naming the
    field (or tensor) and what was expected. ``where`` prefixes the messages (the file path)."""
    def fail(text: str) -> None:
        raise CheckpointError(f'{where}: {text}')
    if not isinstance(ckpt['model_config'], dict):
        fail(f"model_config must be a dict (ModelConfig.to_dict()), got {type(ckpt['model_config']).__name__}")
    try:
        ModelConfig.from_dict(ckpt['model_config'])
    except (TypeError, ValueError) as exc:
        fail(f'model_config is not a valid ModelConfig: {_first_line(exc)}')
    extra = ckpt.get(NETS_KEY)
    if extra is not None and (not isinstance(extra, dict) or not all(isinstance(k, str) for k in extra)):
        fail(f'{NETS_KEY} must be a dict of training-only nets by name, got {type(extra).__name__}')
    states = [(net, ckpt[net]) for net in NETS] + [(f'{NETS_KEY}.{k}', v) for k, v in (extra or {}).items()]
    for net, state in states:
        if not isinstance(state, dict):
            fail(f'{net} must be a state dict (name -> tensor), got {type(state).__name__}')
        bad = [f'{k!r} ({type(v).__name__})' for k, v in state.items()
               if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
        if bad:
            fail(f'{net} must map names to tensors; not tensors: {", ".join(bad[:4])}'
                 + (f' … (+{len(bad) - 4})' if len(bad) > 4 else ''))
    step = ckpt['step']
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        fail(f'step must be an integer >= 0, got {step!r}')
    camera = ckpt.get('camera')
    if camera is not None:
        if not isinstance(camera, dict) or not {'K', 'width', 'height'} <= set(camera):
            fail(f"camera must be None or a dict with K, width, height, got {camera!r:.200}")
        try:
            camera_dict(camera['K'], camera['width'], camera['height'])
        except (TypeError, ValueError) as exc:
            fail(f'invalid camera: {_first_line(exc)}')
    if ckpt.get('train_config') is not None and not isinstance(ckpt['train_config'], dict):
        fail(f"train_config must be None or a dict, got {type(ckpt['train_config']).__name__}")
    stored = ckpt.get(HASH_KEY)
    if stored is not None:  # older checkpoints have none: nothing to compare with
        digest = weights_digest(ckpt['depth_net'], ckpt['motion_net'])
        if stored != digest:
            fail(f'the weights do not match the checkpoint\'s content hash ({HASH_KEY} {str(stored)[:16]}…, '
                 f'computed {digest[:16]}…): the file was damaged or altered after it was saved; refused')
    stored = ckpt.get(NETS_HASH_KEY)
    if extra and stored != nets_digest(extra):
        fail(f'the training-only nets do not match the checkpoint\'s {NETS_HASH_KEY} ({str(stored)[:16]}…): the file '
             'was damaged or altered after it was saved; refused')
    for net, state in states:
        for key, t in state.items():
            if t.is_floating_point() or t.is_complex():
                finite = torch.isfinite(t)
                if not bool(finite.all()):
                    fail(f'{net}.{key} has {int((~finite).sum())} non-finite value(s) (NaN/Inf) of {t.numel()}: '
                         'diverged or damaged weights; refused')


def load_state_strict(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """``module.load_state_dict(state)`` with a ``CheckpointError`` naming missing, unexpected and
    shape-mismatched keys (``what`` names the net in the message)."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}' for k in sorted(set(own) & set(state))
                  if tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or mismatched:
        def show(items: list[str]) -> str:
            return ', '.join(items[:6]) + (f' … (+{len(items) - 6})' if len(items) > 6 else '') or 'none'
        raise CheckpointError(f'{what} weights do not match the architecture: shape mismatches (checkpoint vs '
                              f'model) [{show(mismatched)}]; missing [{show(missing)}]; '
                              f'unexpected [{show(unexpected)}]')
    module.load_state_dict(state, strict=True)


INTRINSICS_HEAD = ('foci.weight', 'foci.bias', 'offsets.weight')
"""The motion net's learned-intrinsics head (``ModelConfig.learn_intrinsics``)."""


def build_models(source: dict | ModelConfig, model_config: ModelConfig | dict | None = None,
                 device: str | torch.device = 'cpu', *,
                 new_intrinsics_head: bool = False) -> tuple[DepthNet, MotionNet]:
    """Build ``(depth_net, motion_net)`` from a loaded checkpoint dict or a ``ModelConfig``.

    From a checkpoint the architecture is its ``model_config`` unless ``model_config`` is given, in which case
    the checkpoint's weights must fit that architecture; any difference raises ``CheckpointError`` naming the
    differing config fields and the mismatching keys/shapes. Nets are returned in eval mode on ``device``.

    ``new_intrinsics_head``: when ``model_config`` learns intrinsics and the checkpoint has no intrinsics head,
    the head's parameters (:data:`INTRINSICS_HEAD`) stay freshly initialised; every other weight still loads
    strictly (fine-tuning a model on bags without CameraInfo).
    """
    diff: dict[str, Any] = {}
    if isinstance(source, ModelConfig):
        config, ckpt = source, None
    elif isinstance(source, dict) and 'format' in source:
        ckpt = source
        config = ModelConfig.from_dict(ckpt['model_config'])
        if model_config is not None:
            wanted = ModelConfig.from_dict(model_config)
            diff = {k: f'{v!r} (checkpoint) vs {getattr(wanted, k)!r}' for k, v in config.to_dict().items()
                    if getattr(wanted, k) != v}
            config = wanted  # fields that do not change weights (e.g. min_depth) may differ
    else:
        raise TypeError(f'build_models expects a checkpoint dict or a ModelConfig, got {type(source).__name__}')
    depth_net, motion_net = DepthNet(config), MotionNet(config)
    if ckpt is not None:
        motion_state = ckpt['motion_net']
        if new_intrinsics_head and config.learn_intrinsics and not any(k in motion_state for k in INTRINSICS_HEAD):
            fresh = motion_net.state_dict()
            motion_state = {**motion_state, **{k: fresh[k] for k in INTRINSICS_HEAD}}
            diff.pop('learn_intrinsics', None)
        try:
            load_state_strict(depth_net, ckpt['depth_net'], 'depth_net')
            load_state_strict(motion_net, motion_state, 'motion_net')
        except CheckpointError as exc:
            prefix = f'checkpoint model_config differs from the requested one in {diff}: ' if diff else ''
            raise CheckpointError(prefix + str(exc)) from None
    return depth_net.to(device).eval(), motion_net.to(device).eval()
