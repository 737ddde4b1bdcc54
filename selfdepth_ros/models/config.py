"""``ModelConfig``: the one description of the depth and motion networks' architecture.

The same config builds the nets in the trainer, the node and export, and travels inside every checkpoint
as a plain dict (``to_dict`` / ``from_dict``), so a checkpoint always says which architecture it holds.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

NORMS = ('randln', 'batch')
ENCODER_DEPTHS = (18, 34)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the depth net and the motion net (001 defaults).

    The defaults are 001's: ResNet18 encoder of base width 64, 128×416 input, residual motion field on,
    randomized layer normalisation. ``ModelConfig.small()`` is the CPU/CI variant.
    """

    encoder_depth: int = 18
    """ResNet depth of both encoders: 18 or 34 (torchvision BasicBlock layouts)."""
    encoder_width: int = 64
    """Channels of the ResNet stem; stages have 1, 2, 4, 8 times this (64 = torchvision's ResNet)."""
    height: int = 128
    """Network input height in pixels (multiple of 32, >= 64: the encoder downsamples 5 times)."""
    width: int = 416
    """Network input width in pixels (multiple of 32, >= 64)."""
    use_motion_field: bool = True
    """Predict the dense residual (object) translation field ``T_obj``; False = ego-motion only (baseline)."""
    learn_intrinsics: bool = False
    """Add 001's intrinsics head (fx, fy, cx, cy) to the motion net, for cameras without CameraInfo."""
    square_pixels: bool = False
    """Ours, not 001: the learned intrinsics have square pixels in the bag's own image (fx = fy there, the geometric
    mean of the head's two; the net-size K keeps the resize's aspect), as nearly every camera has. Applied in
    training (``selfdepth_ros_training.methods.common.square_in_source``). Without it the dash-cam's fy/fx came out 0.64."""
    norm: str = 'randln'
    """Normalisation in the encoders: ``'randln'`` (001's randomized layer norm) or ``'batch'`` (BatchNorm)."""
    randln_noise_std: float = 0.5
    """Std of the multiplicative Gaussian noise on the layer-norm moments at full ramp (001: 0.5)."""
    min_depth: float = 0.1
    """Offset added to the softplus depth, metres: depth = softplus(x) + min_depth > 0."""
    decoder_width: int = 16
    """Channels of the finest depth-decoder stage; coarser stages double it (monodepth2: 16..256)."""
    motion_refine_width: int = 32
    """Cap on the channels of each motion-field refinement block (001 uses the feature width itself)."""
    motion_auto_mask: bool = False
    """001 option: zero the residual field where its magnitude is below the batch mean."""
    motion_scale_init: float = 0.01
    """Initial value of the motion net's trainable rotation output scale (001: 0.01 for both scales)."""
    translation_scale_init: float = 0.01
    """Initial value of its trainable translation (and residual field) output scale (001: 0.01). The raw outputs
    start at ~0.3 and grow slowly, so start it near the expected per-frame translation at the depth scale the
    recipe's ``depth_prior_metres`` sets (see config/train/dynamic_scenes_small.yaml)."""
    zero_init_motion_head: bool = False
    """Start the ego-motion head at zero (001 starts it random). Measured on the small recipe: a random head
    predicts a wrong translation for the first hundreds of steps and the depth net learns to cancel it (scene
    pushed to infinity); from zero, the first gradients point the translation forward and held-out 5-frame ATE
    was 0.015-0.03 m at step 100 (random head: 0.2-0.5 m)."""
    motion_scale_floor: float = 0.001
    """Lower bound of those scales (001's constraint)."""
    positional_encoding: bool = False
    """003's neural positional encoding in the depth net: each pixel's normalised (u, v) in the original image
    through a small MLP into the encoder's stem (``models.positional``). Checkpoints without the field load as
    False."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field and the accepted values when a field is invalid."""
        if not isinstance(self.square_pixels, bool):
            raise ValueError(f'ModelConfig.square_pixels must be true or false, got {self.square_pixels!r}')
        if not isinstance(self.positional_encoding, bool):
            raise ValueError(f'ModelConfig.positional_encoding must be true or false, '
                             f'got {self.positional_encoding!r}')
        if self.encoder_depth not in ENCODER_DEPTHS:
            raise ValueError(f'ModelConfig.encoder_depth must be one of {ENCODER_DEPTHS}, got {self.encoder_depth!r}')
        if self.norm not in NORMS:
            raise ValueError(f'ModelConfig.norm must be one of {NORMS}, got {self.norm!r}')
        for name in ('encoder_width', 'decoder_width', 'motion_refine_width'):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 4:
                raise ValueError(f'ModelConfig.{name} must be an int >= 4, got {value!r}')
        for name in ('height', 'width'):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 64 or value % 32:
                raise ValueError(f'ModelConfig.{name} must be a multiple of 32 pixels, at least 64 (the encoder '
                                 f'downsamples by 32; the decoder pads the 2-pixel bottleneck), got {value!r}')
        if not self.min_depth > 0:
            raise ValueError(f'ModelConfig.min_depth must be > 0 metres, got {self.min_depth!r}')
        if not 0 <= self.randln_noise_std <= 0.5:
            raise ValueError('ModelConfig.randln_noise_std must be in [0, 0.5] (above 0.5 the truncated noise '
                             f'factor can turn negative), got {self.randln_noise_std!r}')
        for name in ('motion_scale_init', 'translation_scale_init'):
            if not 0 < self.motion_scale_floor <= getattr(self, name):
                raise ValueError(f'ModelConfig needs 0 < motion_scale_floor <= {name}, got '
                                 f'{self.motion_scale_floor!r} and {getattr(self, name)!r}')

    @classmethod
    def small(cls, **overrides: Any) -> 'ModelConfig':
        """The CPU-robot / CI variant: ResNet18 layout at base width 16, 64×192 input."""
        values: dict[str, Any] = dict(encoder_width=16, height=64, width=192, decoder_width=8,
                                      motion_refine_width=16)
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> 'ModelConfig':
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of builtins (safe for ``torch.load(weights_only=True)``, YAML and JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> 'ModelConfig':
        """Build from a plain dict; unknown keys are an error naming them (a typo must not pass silently)."""
        if isinstance(values, ModelConfig):
            return values
        if not isinstance(values, dict):
            raise TypeError(f'ModelConfig.from_dict expects a dict, got {type(values).__name__}')
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown ModelConfig field(s) {unknown}; known fields: {sorted(known)}')
        return cls(**values)
