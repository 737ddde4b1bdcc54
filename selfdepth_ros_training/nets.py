"""The named nets of a run: built from the recipe, from an ``--init`` checkpoint, or from a ``--resume`` one.

Every run holds ``depth`` and ``motion`` (the nets the runtime loads) plus the nets the method's enabled parts add
(``selfdepth_ros_training.methods.Part.nets``: a critic, a translator, ...). Checkpoints store the runtime nets where the node
reads them (``depth_net``, ``motion_net``) and the training-only ones by name under ``nets``; the node never builds
those, and a checkpoint without them (older files, the shipped model) starts them fresh on ``--init``.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from selfdepth_ros.checkpoint import CheckpointError, build_models, load_checkpoint, load_state_strict
from selfdepth_ros.models import ModelConfig

RUNTIME_NETS = ('depth', 'motion')


def load_init_checkpoint(path: str | Path, model_config: ModelConfig, map_location: Any = 'cpu') -> dict[str, Any]:
    """The ``--init`` checkpoint, refused with a ``CheckpointError`` when it was trained at another input size
    than ``model_config``'s (the recipe's ``data.height × data.width``).

    Fine-tuning keeps the checkpoint's input size: the nets are fully convolutional, so other sizes would load,
    but the deployed model's learned depth scale and field of view belong to the size it was trained at, and
    the recipe (stored with every checkpoint, compared on ``--resume``) must say what the run trains.
    """
    ckpt = load_checkpoint(path, map_location=map_location)
    saved = ckpt['model_config']
    size = (saved.get('height'), saved.get('width'))
    if size != (model_config.height, model_config.width):
        raise CheckpointError(f'--init {path} was trained at {size[0]}x{size[1]} (HxW), the recipe trains at '
                              f'{model_config.height}x{model_config.width}: fine-tuning keeps the checkpoint\'s '
                              f'input size; set data.height: {size[0]} and data.width: {size[1]} in the recipe')
    return ckpt


def build_run_nets(model_config: ModelConfig, extra: Mapping[str, Any], device: torch.device, *,
                   resume: dict[str, Any] | None = None, init: str | None = None
                   ) -> tuple[ModelConfig, dict[str, nn.Module]]:
    """``(model_config, nets)``: the runtime nets and the ``extra`` ones (name → builder from the ModelConfig).

    ``resume``: a loaded checkpoint whose every net must be there and fit. ``init``: a checkpoint path whose runtime
    nets start the run (:func:`init_runtime_nets`); its training-only nets load when it has them, else they start
    fresh. The returned ``model_config`` may differ from the given one in ``learn_intrinsics`` (kept from the
    checkpoint).
    """
    if resume is not None:
        if resume['model_config'].get('learn_intrinsics') and not model_config.learn_intrinsics:
            model_config = model_config.replace(learn_intrinsics=True)  # came with its --init
        depth, motion = build_models(resume, model_config, device)
        saved = resume.get('nets') or {}
    elif init:
        ckpt = load_init_checkpoint(init, model_config)
        model_config, (depth, motion) = init_runtime_nets(ckpt, init, model_config, device)
        saved = ckpt.get('nets') or {}
    else:
        depth, motion = build_models(model_config, device=device)
        saved = {}
    nets: dict[str, nn.Module] = {'depth': depth, 'motion': motion}
    for name, builder in extra.items():
        nets[name] = builder(model_config).to(device)
        if name in saved:
            load_state_strict(nets[name], saved[name], name)
        elif resume is not None:
            raise CheckpointError(f'--resume: the checkpoint has no net {name!r} (it holds '
                                  f'{", ".join([*RUNTIME_NETS, *saved]) or "none"}); resume with the same recipe')
        elif init:
            print(f'[train] --init {init} has no {name!r} net: it starts freshly initialised')
    return model_config, nets


def init_runtime_nets(ckpt: dict[str, Any], path: str, model_config: ModelConfig, device: torch.device
                      ) -> tuple[ModelConfig, tuple[nn.Module, nn.Module]]:
    """``--init``: the checkpoint's (``ckpt``, read from ``path`` by :func:`load_init_checkpoint`) depth and
    motion weights in the recipe's architecture. A checkpoint without an intrinsics head gets a fresh one when
    ``model_config`` learns intrinsics (a bag lacks CameraInfo); one with a head keeps it (unused when every bag
    has CameraInfo)."""
    has_head = bool(ckpt['model_config'].get('learn_intrinsics'))
    new_head = model_config.learn_intrinsics and not has_head
    if has_head and not model_config.learn_intrinsics:
        model_config = model_config.replace(learn_intrinsics=True)
        print(f'[train] --init {path} has a learned-intrinsics head: kept, unused (every bag has CameraInfo)')
    nets = build_models(ckpt, model_config, device, new_intrinsics_head=new_head)
    if new_head:
        print(f'[train] --init {path} has no intrinsics head: added a freshly initialised one, every other '
              'weight loaded from the checkpoint')
    return model_config, nets


def training_only(nets: Mapping[str, nn.Module]) -> dict[str, nn.Module]:
    """The nets the runtime does not load, by name."""
    return {k: v for k, v in nets.items() if k not in RUNTIME_NETS}
