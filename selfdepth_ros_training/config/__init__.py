"""Typed training recipes: YAML files validated into dataclasses with clear errors.

A recipe is one YAML mapping with the sections below, one module per section; every key is checked against the
dataclass that owns it, so a typo names itself and lists the valid keys, a wrong type names the expected type,
and an out-of-range value says which range is allowed::

    method: dynamic_scenes          # a module of selfdepth_ros_training/methods (selfdepth_ros_training.methods.METHODS)
    seed: 0
    model: {preset: small, ...}     # model.py: a selfdepth_ros.models.ModelConfig, built once here
    data: {height: 64, width: 192, batch_size: 4, ...}      # data.py (frames: the method's count by default)
    optim: {lr: 2.0e-4, grad_clip_norm: 10.0, max_steps: 2000, ...}   # optim.py
    loss: {rgb_consistency: 2.0, ssim: 3.0, ...}  # loss.py: the method's objective and parts, flat
    schedule: {field_burn_in_start: 10000, field_burn_in_end: 20000, layer_norm_ramp_steps: 10000}  # schedule.py
    log: {every: 10, image_every: 200, checkpoint_every: 500, keep_last: 3}                         # log.py
    stages: [{name: first, until: 1000, loss: {...}}, {name: second}]      # stages.py (optional)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from selfdepth_ros.models import ModelConfig
from selfdepth_ros_training.config.data import DataConfig
from selfdepth_ros_training.config.log import LogConfig
from selfdepth_ros_training.config.loss import (DYNAMIC_SCENES_TERMS, DepthScalePrior, DynamicScenesWeights, MonodepthWeights,
                                  ScalePriorWeights)
from selfdepth_ros_training.config.model import model_config_from_dict
from selfdepth_ros_training.config.optim import OptimConfig
from selfdepth_ros_training.config.schedule import ScheduleConfig
from selfdepth_ros_training.config.stages import StageConfig, resolve_stages, stage_at
from selfdepth_ros_training.config.validate import ConfigError, build, plain, require

__all__ = ['ConfigError', 'DataConfig', 'DYNAMIC_SCENES_TERMS', 'DepthScalePrior', 'DynamicScenesWeights',
           'LogConfig', 'ModelConfig', 'MonodepthWeights', 'OptimConfig', 'ScalePriorWeights', 'ScheduleConfig',
           'StageConfig', 'TrainConfig', 'stage_at', 'config_from_dict', 'load_config', 'model_config_from_dict']


@dataclass
class TrainConfig:
    """A whole training recipe."""

    method: str = 'dynamic_scenes'
    """Which method turns a batch into a loss: a module of ``selfdepth_ros_training/methods`` (``selfdepth_ros_training.methods.METHODS``)."""
    seed: int = 0
    """Seeds parameters, data order and augmentation: equal seeds give equal runs."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """The nets' architecture, at the data size (``model.py``)."""
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: Any = field(default_factory=DynamicScenesWeights)
    """The method's weights dataclass (``selfdepth_ros_training.methods.Method.weights``)."""
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    log: LogConfig = field(default_factory=LogConfig)
    stages: tuple[StageConfig, ...] = ()
    """The run's stages (``stages.py``); empty: one stage with ``loss``."""

    def model_config(self) -> ModelConfig:
        """The ``selfdepth_ros.models.ModelConfig`` this recipe trains (its size is ``data.height × data.width``)."""
        return self.model

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/checkpoint safe: only str, int, float, bool, list, dict)."""
        return plain(dataclasses.asdict(self))


def config_from_dict(data: dict[str, Any], source: str = 'recipe') -> TrainConfig:
    """Validate a nested dict (as read from YAML) into a :class:`TrainConfig`.

    Raises:
        ConfigError: with the key path (``data.batch_size``) and what was expected.
    """
    from selfdepth_ros_training.methods import METHODS  # methods import the config's sections: import them late

    require(isinstance(data, dict), f'{source}: expected a mapping at the top level, got {type(data).__name__}')
    data = dict(data)
    name = data.get('method', 'dynamic_scenes')
    require(name in METHODS, f'{source}: method: expected one of {sorted(METHODS)}, got {name!r}')
    method = METHODS[name]
    model = data.pop('model', {})
    try:
        cfg = build(TrainConfig, data, '', overrides={'loss': method.weights, 'method': str})
    except ConfigError as exc:
        raise ConfigError(f'{source}: {exc}') from None
    if 'loss' not in data:
        cfg.loss = method.weights()
    try:
        cfg.stages = resolve_stages(cfg.stages, cfg.loss, method.weights)
    except ConfigError as exc:
        raise ConfigError(f'{source}: {exc}') from None
    if cfg.data.frames is None:
        cfg.data.frames = method.frames
    require(cfg.data.frames == method.frames, f'{source}: data.frames: method {name!r} uses {method.frames} frames '
                                              f'per sample, got {cfg.data.frames}')
    from selfdepth_ros_training.scale_crop import CROP_METHODS
    require(cfg.data.random_scale_crop is None or name in CROP_METHODS,
            f'{source}: data.random_scale_crop: method {name!r} does not take crops; methods that do: {CROP_METHODS}')
    try:
        cfg.model = model_config_from_dict(model, cfg.data.height, cfg.data.width)
    except ConfigError as exc:
        raise ConfigError(f'{source}: model: {exc}') from None
    return cfg


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML recipe and validate it; ``overrides`` are merged into the sections first.

    Raises:
        FileNotFoundError: the recipe does not exist.
        ConfigError: invalid YAML, unknown key, wrong type or out-of-range value (the message names the key).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'training recipe not found: {path}')
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f'{path}: not valid YAML: {exc}') from None
    for section, values in (overrides or {}).items():
        if isinstance(values, dict):
            data.setdefault(section, {})
            require(isinstance(data[section], dict), f'{path}: {section}: expected a mapping')
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return config_from_dict(data, source=str(path))
