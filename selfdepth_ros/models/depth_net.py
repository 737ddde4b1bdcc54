"""The depth network of 001: ResNet encoder + monodepth2-style U-Net decoder with skips, softplus depth."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .positional import NeuralPositionalEncoding, normalised_positions
from .resnet import ResNetEncoder

# ImageNet statistics: the input normalisation torchvision-format encoder weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NUM_SCALES = 4


def check_image(name: str, x: torch.Tensor, channels: int) -> None:
    """Raise ``ValueError`` unless ``x`` is ``B×channels×H×W`` with H, W multiples of 32 and >= 64."""
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f'{name} must be B×{channels}×H×W, got shape {tuple(x.shape)}')
    if x.shape[2] % 32 or x.shape[3] % 32 or x.shape[2] < 64 or x.shape[3] < 64:
        raise ValueError(f'{name} height and width must be multiples of 32 and at least 64 (the encoder '
                         f'downsamples by 32), got {x.shape[2]}×{x.shape[3]}')


class ConvBlock(nn.Module):
    """Reflection-padded 3×3 convolution followed by ELU (monodepth2's decoder block)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(in_ch, out_ch, 3)
        self.act = nn.ELU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(self.pad(x)))


class DepthDecoder(nn.Module):
    """U-Net decoder: five upsampling stages with encoder skips and a softplus depth head at four scales.

    Args:
        encoder_channels: channels of the 5 encoder features (strides 2..32).
        width: channels of the finest stage; stages have width × (1, 2, 4, 8, 16).
        min_depth: metres added to the softplus so depth is strictly positive.
    Output: list of ``NUM_SCALES`` depth maps ``B×1×(H/2^s)×(W/2^s)``, s = 0..3 (full resolution first).
    """

    def __init__(self, encoder_channels: list[int], width: int = 16, min_depth: float = 0.1) -> None:
        super().__init__()
        self.min_depth = float(min_depth)
        dec = [width * 2 ** i for i in range(5)]
        for i in range(4, -1, -1):
            in_ch = encoder_channels[-1] if i == 4 else dec[i + 1]
            self.add_module(f'upconv{i}_0', ConvBlock(in_ch, dec[i]))
            skip = encoder_channels[i - 1] if i > 0 else 0
            self.add_module(f'upconv{i}_1', ConvBlock(dec[i] + skip, dec[i]))
            if i < NUM_SCALES:
                self.add_module(f'depthconv{i}', nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dec[i], 1, 3)))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        x = features[-1]
        outputs: list[torch.Tensor] = []
        for i in range(4, -1, -1):
            x = getattr(self, f'upconv{i}_0')(x)
            x = F.interpolate(x, scale_factor=2.0, mode='nearest')
            if i > 0:
                x = torch.cat([x, features[i - 1]], dim=1)
            x = getattr(self, f'upconv{i}_1')(x)
            if i < NUM_SCALES:
                # 001: softplus depth z = log(1 + e^l); the offset keeps it away from 0.
                outputs.append(F.softplus(getattr(self, f'depthconv{i}')(x)) + self.min_depth)
        return outputs[::-1]


class DepthNet(nn.Module):
    """Monocular depth: ``B×3×H×W`` RGB in [0, 1] → list of 4 depth maps in metres (full resolution first).

    H and W must be multiples of 32. Normalisation (ImageNet mean/std) happens inside.
    ``net.encoder`` is a torchvision-key-compatible ``ResNetEncoder``.

    With ``config.positional_encoding`` (003 §3.2, neural positional encoding) the net also takes
    ``positions`` B×2×H×W, each pixel's normalised (u, v) in the original image
    (``models.positional.normalised_positions``; a training crop passes its window); left out, they are the
    full frame's, which is what the runtime feeds. They are averaged to the stem's stride-2 grid (exact: they are
    linear in the pixel), mapped by ``net.positional`` to the stem's width and added to its convolution output.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        cfg = self.config
        self.encoder = ResNetEncoder(cfg.encoder_depth, cfg.encoder_width, 3, cfg.norm, cfg.randln_noise_std)
        self.decoder = DepthDecoder(self.encoder.num_channels, cfg.decoder_width, cfg.min_depth)
        if cfg.positional_encoding:  # no module otherwise: state dicts without it stay as they were
            self.positional = NeuralPositionalEncoding(cfg.encoder_width)
        self.register_buffer('rgb_mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('rgb_std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: torch.Tensor, positions: torch.Tensor | None = None) -> list[torch.Tensor]:
        check_image('rgb', rgb, 3)
        stem_bias = None
        if self.config.positional_encoding:
            B, _, H, W = rgb.shape
            if positions is None:
                positions = normalised_positions(H, W, batch=B, device=rgb.device, dtype=rgb.dtype)
            if positions.shape != (B, 2, H, W):
                raise ValueError(f'positions must be {B}×2×{H}×{W} (as rgb), got shape {tuple(positions.shape)}')
            stem_bias = self.positional(F.avg_pool2d(positions.to(rgb.dtype), 2))
        elif positions is not None:
            raise ValueError('positions given to a depth net without positional_encoding (ModelConfig)')
        return self.decoder(self.encoder((rgb - self.rgb_mean) / self.rgb_std, stem_bias))
