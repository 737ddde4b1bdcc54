"""The motion network of 001: two RGB-D frames → ego-motion, residual translation field, intrinsics.

Layout: a ResNet encoder over the 8-channel pair (so torchvision weights can initialise it, the RGB stem
adapted by ``adapt_first_conv``) instead of 001's plain 7-conv tower; the heads follow 001's reference:
rotation and ego translation from the global-mean bottleneck, the residual field started from them and
refined coarse-to-fine through every encoder level and the input (FlowNet-like residual upsampling), two
trainable output scales (001: init 0.01, floor 0.001), an optional auto-mask, and the intrinsics head.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .depth_net import IMAGENET_MEAN, IMAGENET_STD, check_image
from .resnet import ResNetEncoder


class MotionOutput(NamedTuple):
    """What the motion net predicts for the ordered pair (frame 1 → frame 2), see docs/CONVENTIONS.md.

    rotation: ``B×3`` angles (rx, ry, rz) radians, ``R = Rx·Ry·Rz``; (R, translation) is ``cam2 ← cam1``.
    translation: ``B×3`` ego translation ``T_ego``, metres (in the depth net's scale).
    residual: ``B×3×H×W`` object translation ``T_obj`` per pixel of frame 1, in frame-2 axes, metres
      (all zeros when the config has ``use_motion_field=False``).
    intrinsics: ``B×3×3`` learned K in pixels of the input size, or None without ``learn_intrinsics``.
    """

    rotation: torch.Tensor
    translation: torch.Tensor
    residual: torch.Tensor
    intrinsics: torch.Tensor | None


class RefineBlock(nn.Module):
    """001's ``_refine_motion_field``: upsample the field to ``layer``'s size, add a learned correction.

    Two parallel towers (one 3×3 conv; two 3×3 convs) on ``[field, layer]``, concatenated, then a
    bias-free 1×1 conv to the field's channels added to the upsampled field (a residual refinement).
    """

    def __init__(self, layer_channels: int, width: int, field_channels: int = 3) -> None:
        super().__init__()
        in_ch = field_channels + layer_channels
        self.conv_output = nn.Conv2d(in_ch, width, 3, padding=1)
        self.conv_input = nn.Conv2d(in_ch, width, 3, padding=1)
        self.conv_output2 = nn.Conv2d(width, width, 3, padding=1)
        self.out = nn.Conv2d(2 * width, field_channels, 1, bias=False)

    def forward(self, field: torch.Tensor, layer: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(field, size=layer.shape[-2:], mode='bilinear', align_corners=True)
        x = torch.cat([up, layer], dim=1)
        a = F.relu(self.conv_output(x))
        b = F.relu(self.conv_output2(F.relu(self.conv_input(x))))
        return up + self.out(torch.cat([a, b], dim=1))


class MotionNet(nn.Module):
    """``(rgb1, depth1, rgb2, depth2)`` → ``MotionOutput`` for the pair (frame 1 → frame 2).

    Inputs: rgb ``B×3×H×W`` in [0, 1]; depth ``B×1×H×W`` metres > 0 (H, W multiples of 32). Depth enters as
    ``log(depth)`` minus its mean over both frames of the sample, so the input is scale-free but keeps the
    depth ratio between the frames. Trainer knobs (plain attributes, not saved): ``field_scale`` multiplies
    the residual field (001's burn-in ramps it 0 → 1).
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ModelConfig()
        self.encoder = ResNetEncoder(cfg.encoder_depth, cfg.encoder_width, 8, cfg.norm, cfg.randln_noise_std)
        channels = self.encoder.num_channels
        self.background_motion = nn.Conv2d(channels[-1], 6, 1, bias=False)  # 3 angles + 3 translation
        if cfg.zero_init_motion_head:
            nn.init.zeros_(self.background_motion.weight)
        if cfg.use_motion_field:
            self.unrefined_residual = nn.Conv2d(6, 3, 1)
            # Coarse to fine: stride 32, 16, 8, 4, 2 features, then the 8-channel input itself.
            levels = list(reversed(channels)) + [8]
            self.refine = nn.ModuleList(RefineBlock(c, max(4, min(c, cfg.motion_refine_width))) for c in levels)
        if cfg.learn_intrinsics:
            self.foci = nn.Conv2d(channels[-1], 2, 1)
            self.offsets = nn.Conv2d(channels[-1], 2, 1, bias=False)
        # The two output scales are trained in log space: Adam moves a parameter by ~lr per step whatever its
        # size, so a linear scale of 0.01 (5e-4 per step) falls to the floor within ~20 steps of early, noisy
        # gradients and the translation can then never reach the depth net's scale (depth collapses onto
        # min_depth). In log space each step changes the scale by ~lr relatively.
        self.log_rotation_scale = nn.Parameter(torch.tensor(math.log(cfg.motion_scale_init)))
        self.log_translation_scale = nn.Parameter(torch.tensor(math.log(cfg.translation_scale_init)))
        self.field_scale = 1.0
        self.register_buffer('rgb_mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('rgb_std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _floored(self, log_scale: torch.Tensor) -> torch.Tensor:
        floor = self.config.motion_scale_floor  # 001's constraint relu(x − min) + min, on exp(log_scale)
        return F.relu(log_scale.exp() - floor) + floor

    @property
    def rotation_scale(self) -> torch.Tensor:
        """The rotation output scale in use (floored), a 0-d tensor."""
        return self._floored(self.log_rotation_scale)

    @property
    def translation_scale(self) -> torch.Tensor:
        """The translation (and residual field) output scale in use (floored), a 0-d tensor."""
        return self._floored(self.log_translation_scale)

    @torch.no_grad()
    def constrain_scales_(self) -> None:
        """Project the two output scales onto [floor, ∞) in place (call after each optimiser step, as 001)."""
        for log_scale in (self.log_rotation_scale, self.log_translation_scale):
            log_scale.clamp_(min=math.log(self.config.motion_scale_floor))

    @torch.no_grad()
    def rescale_rotation_(self, scale: float) -> None:
        """Set the rotation output scale to ``scale`` and divide the rotation head by the same factor, so every
        output is unchanged but Adam moves the rotation ``scale / old`` times faster (fine-tuning). Measured on the
        KITTI snippet: the shipped model's scale (0.045, ten times below its translation scale) let fine-tuning
        explain the road's yaw by sideways translation; at 0.36 the translations stayed forward."""
        if not scale > self.config.motion_scale_floor:
            raise ValueError(f'rotation scale must be > {self.config.motion_scale_floor}, got {scale!r}')
        factor = scale / float(self.rotation_scale)
        self.background_motion.weight[:3] /= factor
        self.log_rotation_scale.fill_(math.log(scale))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Checkpoints written before the log-space scales hold the linear ``rotation_scale``/``translation_scale``.
        for name in ('rotation_scale', 'translation_scale'):
            old = state_dict.pop(prefix + name, None)
            if old is not None and prefix + 'log_' + name not in state_dict:
                state_dict[prefix + 'log_' + name] = old.clamp_min(self.config.motion_scale_floor).log()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _prepare(self, rgb1: torch.Tensor, depth1: torch.Tensor, rgb2: torch.Tensor,
                 depth2: torch.Tensor) -> torch.Tensor:
        for name, x, ch in (('rgb1', rgb1, 3), ('depth1', depth1, 1), ('rgb2', rgb2, 3), ('depth2', depth2, 1)):
            check_image(name, x, ch)
        if not (rgb1.shape[-2:] == depth1.shape[-2:] == rgb2.shape[-2:] == depth2.shape[-2:]):
            raise ValueError('rgb1, depth1, rgb2, depth2 must share H×W, got '
                             f'{[tuple(t.shape[-2:]) for t in (rgb1, depth1, rgb2, depth2)]}')
        log1, log2 = depth1.clamp_min(1e-3).log(), depth2.clamp_min(1e-3).log()
        offset = 0.5 * (log1.mean(dim=(1, 2, 3), keepdim=True) + log2.mean(dim=(1, 2, 3), keepdim=True))
        return torch.cat([(rgb1 - self.rgb_mean) / self.rgb_std, log1 - offset,
                          (rgb2 - self.rgb_mean) / self.rgb_std, log2 - offset], dim=1)

    def forward(self, rgb1: torch.Tensor, depth1: torch.Tensor, rgb2: torch.Tensor,
                depth2: torch.Tensor) -> MotionOutput:
        x = self._prepare(rgb1, depth1, rgb2, depth2)
        features = self.encoder(x)
        bottleneck = features[-1].mean(dim=(2, 3), keepdim=True)
        background = self.background_motion(bottleneck)  # B×6×1×1
        rot_scale = self.rotation_scale
        trans_scale = self.translation_scale
        rotation = background[:, :3, 0, 0] * rot_scale
        translation = background[:, 3:, 0, 0] * trans_scale
        batch, _, height, width = x.shape
        if self.config.use_motion_field:
            field = self.unrefined_residual(background)
            for block, layer in zip(self.refine, list(reversed(features)) + [x]):
                field = block(field, layer)
            residual = field * trans_scale * self.field_scale
            if self.config.motion_auto_mask:
                # 001 option: keep only pixels whose |T_obj| exceeds the mean over the batch and image.
                magnitude = residual.norm(dim=1, keepdim=True)
                residual = residual * (magnitude > magnitude.mean()).to(residual.dtype)
        else:
            residual = x.new_zeros(batch, 3, height, width)
        intrinsics = self._intrinsics(bottleneck, height, width) if self.config.learn_intrinsics else None
        return MotionOutput(rotation, translation, residual, intrinsics)

    def _intrinsics(self, bottleneck: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """001's intrinsics head: focal lengths ``softplus(·)·(W, H)``, centre ``(o + 0.5)·(W, H) − 0.5`` px
        (``ModelConfig.square_pixels`` is applied by the trainer, which knows each bag's image size).

        The −0.5 moves 001's corner-origin centre to this project's pixel-centre convention.
        """
        size = bottleneck.new_tensor([width, height])
        foci = F.softplus(self.foci(bottleneck)[:, :, 0, 0]) * size
        centre = (self.offsets(bottleneck)[:, :, 0, 0] + 0.5) * size - 0.5
        zero, one = torch.zeros_like(foci[:, 0]), torch.ones_like(foci[:, 0])
        rows = [foci[:, 0], zero, centre[:, 0], zero, foci[:, 1], centre[:, 1], zero, zero, one]
        return torch.stack(rows, dim=1).view(-1, 3, 3)
