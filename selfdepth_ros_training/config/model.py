"""The ``model:`` section: a :class:`~selfdepth_ros.models.ModelConfig`, built once when the recipe is read.

``preset: small`` starts from ``ModelConfig.small()``, ``preset: default`` (or none) from ``ModelConfig()``; the
other keys replace fields. The nets' input size is the data size (``data.height × data.width``): the section may
repeat it, but not contradict it. The runtime reads the same ``ModelConfig`` from every checkpoint, so the node
and the trainer cannot disagree about a net.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, Union

from selfdepth_ros.models import ModelConfig
from selfdepth_ros_training.config.validate import ConfigError, coerce, require

PRESETS = ('default', 'small')


def model_config_from_dict(model: dict[str, Any] | ModelConfig, height: int | None = None,
                           width: int | None = None) -> ModelConfig:
    """The ``ModelConfig`` of a recipe's ``model`` section at the data size ``height × width`` (when given).

    Raises:
        ConfigError: an unknown key (named, with the valid ones), a wrong type, an invalid field, or a size that
            contradicts ``height``/``width``.
    """
    if isinstance(model, ModelConfig):
        model = model.to_dict()
    require(isinstance(model, dict), f'expected a mapping, got {type(model).__name__} {model!r}')
    model = dict(model)
    preset = model.pop('preset', 'default')
    require(preset in PRESETS, f"preset: expected 'default' or 'small', got {preset!r}")
    base = ModelConfig.small() if preset == 'small' else ModelConfig()
    names = [f.name for f in dataclasses.fields(base)]
    for key in model:
        require(key in names, f'unknown key {key!r}; valid keys: preset, {", ".join(names)}')
    sizes = {'height': height, 'width': width}
    for key, value in sizes.items():
        if value is not None and key not in model:
            model[key] = value
    hints = typing.get_type_hints(ModelConfig)
    for key, value in model.items():
        tp = hints[key]
        if typing.get_origin(tp) is Union:  # Optional[X]: accept None or X
            if value is None:
                continue
            tp = [a for a in typing.get_args(tp) if a is not type(None)][0]
        try:
            model[key] = coerce(tp, value, key)
        except TypeError:
            pass  # a field type this validator does not know: ModelConfig checks it itself
    try:
        cfg = dataclasses.replace(base, **model)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    for key, value in sizes.items():
        require(value is None or getattr(cfg, key) == value,
                f'{key}: the model is {getattr(cfg, key)} but data.{key} is {value}; they must match')
    return cfg
