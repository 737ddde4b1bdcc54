"""Validating plain YAML data into dataclasses: unknown keys, wrong types and bad ranges fail with the key path."""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Union


class ConfigError(ValueError):
    """A recipe key is unknown, has the wrong type, or is out of range (the message names the key path)."""


def require(ok: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``ok``."""
    if not ok:
        raise ConfigError(message)


def plain(value: Any) -> Any:
    """Tuples to lists, recursively (YAML/checkpoint safe)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _type_name(tp: Any) -> str:
    return getattr(tp, '__name__', str(tp).replace('typing.', ''))


def coerce(tp: Any, value: Any, path: str) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:  # Optional[X] / X | None: None or an X
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        if len(args) == 1:
            return coerce(args[0], value, path)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)
    if origin is Literal:
        choices = typing.get_args(tp)
        require(value in choices, f'{path}: expected one of {list(choices)}, got {value!r}')
        return value
    if origin is tuple:
        require(isinstance(value, (list, tuple)), f'{path}: expected a list, got {type(value).__name__} {value!r}')
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(args[0], v, f'{path}[{i}]') for i, v in enumerate(value))
        require(len(value) == len(args), f'{path}: expected {len(args)} items, got {len(value)}')
        return tuple(coerce(a, v, f'{path}[{i}]') for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        require(isinstance(value, dict), f'{path}: expected a mapping, got {type(value).__name__} {value!r}')
        return dict(value)
    if tp is bool:
        require(isinstance(value, bool), f'{path}: expected true/false, got {type(value).__name__} {value!r}')
        return value
    if tp is int:
        require(isinstance(value, int) and not isinstance(value, bool),
                f'{path}: expected an integer, got {type(value).__name__} {value!r}')
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "2e-4" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        require(isinstance(value, (int, float)) and not isinstance(value, bool),
                f'{path}: expected a number, got {type(value).__name__} {value!r}')
        return float(value)
    if tp is str:
        require(isinstance(value, str), f'{path}: expected a string, got {type(value).__name__} {value!r}')
        return value
    raise TypeError(f'{path}: unsupported annotation {_type_name(tp)}')


def build(cls: type, data: Any, path: str, overrides: dict[str, type] | None = None) -> Any:
    """Build dataclass ``cls`` from mapping ``data``; ``overrides`` maps field names to concrete classes."""
    require(isinstance(data, dict), f'{path}: expected a mapping, got {type(data).__name__} {data!r}')
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        require(key in names, f'{path}: unknown key {key!r}; valid keys: {", ".join(names)}')
    hints = typing.get_type_hints(cls)
    kwargs = {k: coerce((overrides or {}).get(k, hints[k]), v, f'{path}.{k}' if path else k)
              for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f'{path or cls.__name__}: {exc}') from None
