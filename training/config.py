"""Typed training recipes: YAML files validated into dataclasses with clear errors.

A recipe is one YAML mapping with the sections below; every key is checked against the dataclass that owns
it, so a typo names itself and lists the valid keys, a wrong type names the expected type, and an
out-of-range value says which range is allowed::

    method: dynamic_scenes          # or monodepth_baseline
    seed: 0
    model: {preset: small, ...}     # ModelConfig fields from selfdepth_ros.models, validated there
    data: {height: 64, width: 192, batch_size: 4, ...}
    optim: {lr: 2.0e-4, grad_clip_norm: 10.0, max_steps: 2000, ...}
    loss: {rgb_consistency: 2.0, ssim: 3.0, ...}  # the fields of DynamicScenesWeights or MonodepthWeights
    schedule: {field_burn_in_start: 10000, field_burn_in_end: 20000, layer_norm_ramp_steps: 10000}
    log: {every: 10, image_every: 200, checkpoint_every: 500, keep_last: 3}
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

METHODS = ('dynamic_scenes', 'monodepth_baseline')


class ConfigError(ValueError):
    """A recipe key is unknown, has the wrong type, or is out of range (the message names the key path)."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass
class DataConfig:
    """How bags become batches."""

    height: int = 128
    """Network input height in pixels (frames are resized and K scaled to it)."""
    width: int = 416
    """Network input width in pixels."""
    frames: int = 2
    """Frames per sample: 2 = an ordered pair (001), 3 = a triplet (t-1, t, t+1) as in monodepth2."""
    stride: int = 1
    """Frame step between the frames of one sample."""
    batch_size: int = 16
    """Global batch size (split evenly across DDP ranks)."""
    num_workers: int = 0
    """DataLoader worker processes per rank."""
    random_flip: bool = True
    """Flip each sample horizontally with probability 1/2 (K's cx mirrored accordingly)."""
    random_rotation_deg: float = 0.0
    """Turn the last frame of half the samples by a random camera rotation, yaw within ± this many degrees (pitch and
    roll a quarter of it), by a pure-rotation homography (``training.augment.rotate_last_frame``); 0 = off. Ours."""
    min_mean_abs_diff: float = 0.01
    """Drop near-duplicate samples whose mean |I2 - I1| (RGB in [0, 1]) is below this (001); ``pair_selection:
    index`` only."""
    image_topic: str = '/camera/image_raw'
    """Image topic of every bag: ``sensor_msgs/Image`` (any encoding the node accepts) or ``CompressedImage``
    (jpeg/png). ``selfdepth train --image-topic`` overrides it."""
    camera_info_topic: str | None = '/camera/camera_info'
    """CameraInfo topic; ``''`` or null ignores CameraInfo. A bag without it trains the learned-intrinsics head
    (001). ``selfdepth train --camera-info-topic`` overrides it."""
    pair_selection: Literal['index', 'parallax'] = 'index'
    """``index``: frames ``stride`` apart, near-duplicates dropped by ``min_mean_abs_diff``. ``parallax``: per frame
    t the smallest stride k in ``stride..max_stride`` whose image motion (median sparse Lucas-Kanade flow at the
    network size) reaches ``min_parallax_px``; frames that never reach it (a stopped car) are dropped. Triplets
    use the symmetric (t-k, t, t+k) with both halves reaching it."""
    max_stride: int = 5
    """Largest frame stride ``pair_selection: parallax`` may pick."""
    min_parallax_px: float = 1.0
    """Image motion, in pixels at the network size, that ``pair_selection: parallax`` requires per frame pair."""

    def __post_init__(self) -> None:
        _require(self.height >= 16 and self.width >= 16, 'height and width must be >= 16 pixels')
        _require(self.height % 32 == 0 and self.width % 32 == 0,
                 f'height and width must be multiples of 32 (encoder stride), got {self.height}x{self.width}')
        _require(self.frames in (2, 3), f'frames must be 2 or 3, got {self.frames}')
        _require(self.stride >= 1, f'stride must be >= 1, got {self.stride}')
        _require(0.0 <= self.random_rotation_deg <= 20.0,
                 f'random_rotation_deg must be in [0, 20], got {self.random_rotation_deg}')
        _require(self.batch_size >= 1, f'batch_size must be >= 1, got {self.batch_size}')
        _require(self.num_workers >= 0, f'num_workers must be >= 0, got {self.num_workers}')
        _require(0.0 <= self.min_mean_abs_diff < 1.0, f'min_mean_abs_diff must be in [0, 1), got {self.min_mean_abs_diff}')
        _require(self.pair_selection in ('index', 'parallax'),
                 f"pair_selection must be 'index' or 'parallax', got {self.pair_selection!r}")
        _require(self.pair_selection == 'index' or self.max_stride >= self.stride,
                 f'max_stride ({self.max_stride}) must be >= stride ({self.stride}) with pair_selection parallax')
        _require(self.min_parallax_px > 0.0, f'min_parallax_px must be > 0, got {self.min_parallax_px}')
        _require(bool(self.image_topic), 'image_topic must name a topic')


@dataclass
class OptimConfig:
    """Adam and its schedule (001 defaults: lr 2e-4 constant, beta1 0.9, global grad-norm clip 10)."""

    lr: float = 2.0e-4
    """Adam learning rate."""
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 0.0
    grad_clip_norm: float = 10.0
    """Clip the global gradient norm to this (0 disables clipping)."""
    max_steps: int = 100_000
    """Optimiser steps to train (the CLI's --max-steps overrides it)."""
    lr_decay_steps: tuple[int, ...] = ()
    """Steps at which the learning rate is multiplied by lr_decay_factor (monodepth2: x0.1 late in training)."""
    lr_decay_factor: float = 0.1
    output_scale_lr_factor: float = 1.0
    """The motion net's two log output scales (rotation, translation) train at ``lr`` times this. Measured on the
    small recipe: 40x (a 2 % change per step, 001's initial rate for its linear scales) let early, wrong
    ego-motion shrink the translation scale and learning stalled; 1 learned."""

    init_rotation_scale: float = 0.0
    """With ``--init``: set the motion net's rotation output scale to this, the outputs kept equal
    (``MotionNet.rescale_rotation_``); 0 keeps the checkpoint's. Ours, for fine-tuning on real drives."""

    def __post_init__(self) -> None:
        _require(0.0 < self.lr < 1.0, f'lr must be in (0, 1), got {self.lr}')
        _require(self.init_rotation_scale >= 0.0, f'init_rotation_scale must be >= 0, got {self.init_rotation_scale}')
        _require(self.output_scale_lr_factor > 0.0,
                 f'output_scale_lr_factor must be > 0, got {self.output_scale_lr_factor}')
        _require(0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0, 'beta1 and beta2 must be in [0, 1)')
        _require(self.weight_decay >= 0.0, f'weight_decay must be >= 0, got {self.weight_decay}')
        _require(self.grad_clip_norm >= 0.0, f'grad_clip_norm must be >= 0, got {self.grad_clip_norm}')
        _require(self.max_steps >= 1, f'max_steps must be >= 1, got {self.max_steps}')
        _require(all(s >= 1 for s in self.lr_decay_steps), 'lr_decay_steps must be positive steps')
        _require(0.0 < self.lr_decay_factor <= 1.0, f'lr_decay_factor must be in (0, 1], got {self.lr_decay_factor}')


@dataclass
class DepthScalePrior:
    """Our addition to both methods (not in 001 or monodepth2): a weak prior on the log of the mean depth.

    Self-supervision fixes depth only up to scale, and in short runs the depth net escapes early, wrong ego-motion
    by pushing the whole scene to infinity (mean depth 470 m after 100 steps, 2,600 m after 600: parallax and
    its gradients vanish).
    ``depth_scale_prior · (mean log depth − log depth_prior_metres)²`` removes that escape; being weak, it leaves
    the scale free to settle with the translation (``training.losses.scale_prior``). 0 disables it.
    """

    depth_scale_prior: float = 0.0
    """Weight of the prior (0 = off, the papers' losses only)."""
    depth_prior_metres: float = 10.0
    """Geometric-mean depth the prior pulls towards, metres (only the order of magnitude matters)."""

    def __post_init__(self) -> None:
        _require(self.depth_scale_prior >= 0.0, f'depth_scale_prior must be >= 0, got {self.depth_scale_prior}')
        _require(self.depth_prior_metres > 0.0, f'depth_prior_metres must be > 0, got {self.depth_prior_metres}')


@dataclass
class DynamicScenesWeights(DepthScalePrior):
    """001 loss weights (reference implementation defaults); names as in ``training.losses.dynamic_scenes``."""

    rgb_consistency: float = 2.0
    """Occlusion-masked L1 photometric term (eq. 7)."""
    ssim: float = 3.0
    """Depth-weighted (1 - SSIM)/2 term (eq. 7)."""
    depth_smoothing: float = 0.002
    """Edge-aware smoothness of mean-normalised disparity (eq. 5)."""
    rotation_cycle_consistency: float = 0.002
    """Rotation cycle consistency (eq. 6)."""
    translation_cycle_consistency: float = 0.1
    """Translation-field cycle consistency (eq. 6)."""
    motion_smoothing: float = 2.0
    """Group smoothness L_g1 of the residual field (eq. 2)."""
    motion_drift: float = 0.4
    """Self-normalising L_1/2 sparsity of the residual field (eq. 3)."""
    automask: bool = False
    """Ours, not 001: monodepth2/004's auto-mask on the photometric terms (drop pixels the un-warped frame matches
    better); without it, fine-tuning on real drives collapsed the ego-motion (``identity_automask``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in dataclasses.fields(self):
            _require(isinstance(getattr(self, f.name), bool) or getattr(self, f.name) >= 0.0, f'{f.name} must be >= 0, got {getattr(self, f.name)}')


@dataclass
class MonodepthWeights(DepthScalePrior):
    """monodepth2 baseline loss: per-pixel min reprojection with auto-mask plus smoothness (no motion field)."""

    ssim_alpha: float = 0.85
    """Photometric error = alpha * (1 - SSIM)/2 + (1 - alpha) * L1."""
    smoothness: float = 1.0e-3
    """Edge-aware disparity smoothness weight, divided by 2**scale for each output scale."""
    num_scales: int = 4
    """Depth-net output scales used in the loss (each upsampled to full resolution, monodepth2 style)."""
    automask: bool = True
    """Keep only pixels whose warped error beats the identity (un-warped) error (004 / monodepth2)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(0.0 <= self.ssim_alpha <= 1.0, f'ssim_alpha must be in [0, 1], got {self.ssim_alpha}')
        _require(self.smoothness >= 0.0, f'smoothness must be >= 0, got {self.smoothness}')
        _require(1 <= self.num_scales <= 6, f'num_scales must be in 1..6, got {self.num_scales}')


@dataclass
class ScheduleConfig:
    """Step-dependent switches (001): residual-field burn-in and the randomized layer-norm noise ramp."""

    field_burn_in_start: int = 10_000
    """Steps with the residual motion field held at zero."""
    field_burn_in_end: int = 20_000
    """Step at which the residual field's linear ramp reaches full scale."""
    layer_norm_ramp_steps: int = 10_000
    """Steps over which the randomized layer-norm noise ramps in, as ``min(step / steps, 1)**2`` (001; 0 = full
    noise from the start); see ``selfdepth_ros.models.layers.randln_ramp``."""

    def __post_init__(self) -> None:
        _require(self.field_burn_in_start >= 0, 'field_burn_in_start must be >= 0')
        _require(self.field_burn_in_end >= self.field_burn_in_start,
                 f'field_burn_in_end ({self.field_burn_in_end}) must be >= field_burn_in_start '
                 f'({self.field_burn_in_start})')
        _require(self.layer_norm_ramp_steps >= 0, 'layer_norm_ramp_steps must be >= 0')

    def field_scale(self, step: int) -> float:
        """Residual-field multiplier at ``step``: 0 during burn-in, then linear to 1."""
        if step < self.field_burn_in_start:
            return 0.0
        if step >= self.field_burn_in_end:
            return 1.0
        return (step - self.field_burn_in_start) / float(self.field_burn_in_end - self.field_burn_in_start)


@dataclass
class LogConfig:
    """What the run writes under RUN_DIR and how often (steps)."""

    every: int = 10
    """Scalar log period (CSV row and progress-bar refresh)."""
    image_every: int = 500
    """Image summary period (PNG grids of input, depth and motion field under RUN_DIR/images/); 0 = never."""
    checkpoint_every: int = 1000
    """Checkpoint period; a final checkpoint is always written at the last step."""
    keep_last: int = 3
    """Number of most recent checkpoints kept (older ones are deleted)."""
    progress_bar: bool = True

    def __post_init__(self) -> None:
        _require(self.every >= 1, f'every must be >= 1, got {self.every}')
        _require(self.image_every >= 0, f'image_every must be >= 0, got {self.image_every}')
        _require(self.checkpoint_every >= 1, f'checkpoint_every must be >= 1, got {self.checkpoint_every}')
        _require(self.keep_last >= 1, f'keep_last must be >= 1, got {self.keep_last}')


LossWeights = Union[DynamicScenesWeights, MonodepthWeights]
_LOSS_CLASSES: dict[str, type] = {'dynamic_scenes': DynamicScenesWeights, 'monodepth_baseline': MonodepthWeights}


@dataclass
class TrainConfig:
    """A whole training recipe."""

    method: Literal['dynamic_scenes', 'monodepth_baseline'] = 'dynamic_scenes'
    """Which method's losses turn a batch into a loss (see training/methods/)."""
    seed: int = 0
    """Seeds parameters, data order and augmentation: equal seeds give equal runs."""
    model: dict[str, Any] = field(default_factory=dict)
    """ModelConfig fields (selfdepth_ros.models); ``preset: small`` starts from ModelConfig.small()."""
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossWeights = field(default_factory=DynamicScenesWeights)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def model_config(self) -> Any:
        """The ``selfdepth_ros.models.ModelConfig`` this recipe trains (its size is ``data.height × data.width``)."""
        return model_config_from_dict(self.model, self.data.height, self.data.width)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/checkpoint safe: only str, int, float, bool, list, dict)."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _type_name(tp: Any) -> str:
    return getattr(tp, '__name__', str(tp).replace('typing.', ''))


def _coerce(tp: Any, value: Any, path: str) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:  # Optional[X] / X | None: None or an X
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        if len(args) == 1:
            return _coerce(args[0], value, path)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)
    if origin is Literal:
        choices = typing.get_args(tp)
        _require(value in choices, f'{path}: expected one of {list(choices)}, got {value!r}')
        return value
    if origin is tuple:
        _require(isinstance(value, (list, tuple)), f'{path}: expected a list, got {type(value).__name__} {value!r}')
        (item_tp, _) = typing.get_args(tp)
        return tuple(_coerce(item_tp, v, f'{path}[{i}]') for i, v in enumerate(value))
    if origin is dict:
        _require(isinstance(value, dict), f'{path}: expected a mapping, got {type(value).__name__} {value!r}')
        return dict(value)
    if tp is bool:
        _require(isinstance(value, bool), f'{path}: expected true/false, got {type(value).__name__} {value!r}')
        return value
    if tp is int:
        _require(isinstance(value, int) and not isinstance(value, bool),
                 f'{path}: expected an integer, got {type(value).__name__} {value!r}')
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "2e-4" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        _require(isinstance(value, (int, float)) and not isinstance(value, bool),
                 f'{path}: expected a number, got {type(value).__name__} {value!r}')
        return float(value)
    if tp is str:
        _require(isinstance(value, str), f'{path}: expected a string, got {type(value).__name__} {value!r}')
        return value
    raise TypeError(f'{path}: unsupported annotation {_type_name(tp)}')


def _build(cls: type, data: Any, path: str, overrides: dict[str, type] | None = None) -> Any:
    """Build dataclass ``cls`` from mapping ``data``; ``overrides`` maps field names to concrete classes."""
    _require(isinstance(data, dict), f'{path}: expected a mapping, got {type(data).__name__} {data!r}')
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        _require(key in names, f'{path}: unknown key {key!r}; valid keys: {", ".join(names)}')
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce((overrides or {}).get(k, hints[k]), v, f'{path}.{k}' if path else k)
              for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f'{path or cls.__name__}: {exc}') from None


def config_from_dict(data: dict[str, Any], source: str = 'recipe') -> TrainConfig:
    """Validate a nested dict (as read from YAML) into a :class:`TrainConfig`.

    Raises:
        ConfigError: with the key path (``data.batch_size``) and what was expected.
    """
    _require(isinstance(data, dict), f'{source}: expected a mapping at the top level, got {type(data).__name__}')
    method = data.get('method', 'dynamic_scenes')
    _require(method in METHODS, f'{source}: method: expected one of {list(METHODS)}, got {method!r}')
    try:
        cfg = _build(TrainConfig, data, '', overrides={'loss': _LOSS_CLASSES[method]})
    except ConfigError as exc:
        raise ConfigError(f'{source}: {exc}') from None
    if 'loss' not in data:
        cfg.loss = _LOSS_CLASSES[method]()
    frames = 3 if cfg.method == 'monodepth_baseline' else 2
    _require(cfg.data.frames == frames, f'{source}: data.frames: method {cfg.method!r} uses {frames} frames per '
                                        f'sample, got {cfg.data.frames}')
    try:  # validate ``model:`` against ModelConfig by building it (errors name the key)
        model_config_from_dict(cfg.model, cfg.data.height, cfg.data.width)
    except ConfigError as exc:
        raise ConfigError(f'{source}: model: {exc}') from None
    return cfg


def model_config_from_dict(model: dict[str, Any], height: int | None = None, width: int | None = None) -> Any:
    """Build a ``selfdepth_ros.models.ModelConfig`` from the recipe's ``model`` section.

    ``preset: small`` starts from ``ModelConfig.small()``, ``preset: default`` (or none) from ``ModelConfig()``;
    the remaining keys replace fields. ``height``/``width`` (the data size) fill ``height``/``width`` fields of
    the model config when it has them and the section does not set them.
    """
    from selfdepth_ros.models import ModelConfig  # the runtime's config: node and trainer cannot disagree

    model = dict(model)
    preset = model.pop('preset', 'default')
    _require(preset in ('default', 'small'), f"preset: expected 'default' or 'small', got {preset!r}")
    base = ModelConfig.small() if preset == 'small' else ModelConfig()
    names = [f.name for f in dataclasses.fields(base)]
    for key in model:
        _require(key in names, f'unknown key {key!r}; valid keys: preset, {", ".join(names)}')
    sizes = {'height': height, 'width': width}
    for key, value in sizes.items():
        if value is not None and key in names and key not in model:
            model[key] = value
    hints = typing.get_type_hints(type(base))
    for key, value in model.items():
        tp = hints[key]
        if typing.get_origin(tp) is Union:  # Optional[X]: accept None or X
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if value is None:
                continue
            tp = args[0]
        try:
            model[key] = _coerce(tp, value, key)
        except TypeError:
            pass  # a field type this validator does not know: ModelConfig checks it itself
    try:
        cfg = dataclasses.replace(base, **model)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    for key, value in sizes.items():
        _require(value is None or getattr(cfg, key, value) == value,
                 f'{key}: the model is {getattr(cfg, key, None)} but data.{key} is {value}; they must match')
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
            _require(isinstance(data[section], dict), f'{path}: {section}: expected a mapping')
            data[section] = {**data[section], **values}
        else:
            data[section] = values
    return config_from_dict(data, source=str(path))
