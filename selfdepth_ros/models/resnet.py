"""ResNet18/34 encoder written here (no torchvision), with torchvision's state-dict key names.

Submodules are named as in ``torchvision.models.resnet`` (``conv1``, ``bn1``, ``layer1.0.conv1``,
``layer2.0.downsample.0`` …), so a torchvision-format state dict saved to a file loads with
``load_torchvision_weights`` — nothing is downloaded. Widths scale with ``width`` (64 = torchvision).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .layers import RandomizedLayerNorm, make_norm

BLOCKS_PER_STAGE = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
_BN_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: two 3×3 convs with a residual connection, normalisation before each ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, norm: str, noise_std: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = make_norm(norm, out_ch, noise_std)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = make_norm(norm, out_ch, noise_std)
        self.downsample = None
        if stride != 1 or in_ch != out_ch:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
                                            make_norm(norm, out_ch, noise_std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetEncoder(nn.Module):
    """ResNet encoder returning the five feature maps a U-Net decoder needs.

    Args:
        depth: 18 or 34.
        width: stem channels (64 = torchvision); stages have width × (1, 1, 2, 4, 8).
        in_channels: input channels (3 for RGB, 8 for the motion net's two RGB-D frames).
        norm: ``'randln'`` or ``'batch'``; noise_std: randomized-layer-norm noise at full ramp.
    Input ``B×in_channels×H×W`` (already normalised), H and W multiples of 32.
    Output: list of 5 tensors at strides 2, 4, 8, 16, 32 with ``self.num_channels`` channels.
    """

    def __init__(self, depth: int = 18, width: int = 64, in_channels: int = 3, norm: str = 'batch',
                 noise_std: float = 0.5) -> None:
        super().__init__()
        if depth not in BLOCKS_PER_STAGE:
            raise ValueError(f'depth must be one of {sorted(BLOCKS_PER_STAGE)}, got {depth!r}')
        self.depth, self.width, self.in_channels = depth, width, in_channels
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = make_norm(norm, width, noise_std)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = (width, 2 * width, 4 * width, 8 * width)
        in_ch = width
        for index, (out_ch, blocks) in enumerate(zip(widths, BLOCKS_PER_STAGE[depth])):
            stride = 1 if index == 0 else 2
            stage = [BasicBlock(in_ch if b == 0 else out_ch, out_ch, stride if b == 0 else 1, norm, noise_std)
                     for b in range(blocks)]
            self.add_module(f'layer{index + 1}', nn.Sequential(*stage))
            in_ch = out_ch
        self.num_channels = [width, *widths]
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, RandomizedLayerNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, stem_bias: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``stem_bias`` (B×width×H/2×W/2, optional) is added to the stem convolution's output before its
        normalisation: how the depth net's positional encoding enters (``DepthNet``)."""
        stem = self.conv1(x)
        if stem_bias is not None:
            stem = stem + stem_bias
        f0 = self.relu(self.bn1(stem))
        f1 = self.layer1(self.maxpool(f0))
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        return [f0, f1, f2, f3, f4]


def adapt_first_conv(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Turn an RGB stem kernel ``O×3×k×k`` into one for ``in_channels`` inputs.

    ``in_channels = 3g`` (g RGB frames): the kernel repeated g times and divided by g (monodepth2's rule).
    ``in_channels = 4g`` (g RGB-D frames, layout [R, G, B, D] per frame): each frame gets the RGB kernel
    plus its channel mean for D, all divided by g, so a grey, constant-depth input gives the RGB response.
    """
    if weight.shape[1] == in_channels:
        return weight
    if weight.shape[1] != 3:
        raise ValueError(f'conv1.weight has {weight.shape[1]} input channels; only a 3-channel (RGB) kernel '
                         f'can be adapted to {in_channels} channels')
    if in_channels % 3 == 0:
        groups = in_channels // 3
        return weight.repeat(1, groups, 1, 1) / groups
    if in_channels % 4 == 0:
        groups = in_channels // 4
        rgbd = torch.cat([weight, weight.mean(dim=1, keepdim=True)], dim=1)
        return rgbd.repeat(1, groups, 1, 1) / groups
    raise ValueError(f'cannot adapt an RGB conv1 kernel to {in_channels} input channels '
                     '(need a multiple of 3 for RGB frames or of 4 for RGB-D frames)')


def load_torchvision_weights(encoder: ResNetEncoder, source: str | Path | dict[str, torch.Tensor]) -> list[str]:
    """Load a torchvision-format ResNet state dict (a file path or a dict) into ``encoder``, strictly.

    Ignored on purpose: the classifier (``fc.*``) and, for a randomized-layer-norm encoder, BatchNorm running
    statistics. ``conv1.weight`` with 3 input channels is adapted to the encoder's input channels
    (``adapt_first_conv``). Every other key must exist with the same shape; otherwise ``ValueError`` lists
    the missing, unexpected and shape-mismatched keys. Returns the list of ignored keys.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f'torchvision weights file not found: {path}')
        state = torch.load(path, map_location='cpu', weights_only=True)
    else:
        state = source
    if not isinstance(state, dict):
        raise ValueError(f'expected a state dict (name -> tensor), got {type(state).__name__}')
    own = encoder.state_dict()
    ignored, adapted = [], {}
    for key, value in state.items():
        if key.startswith('fc.') or (key not in own and key.rsplit('.', 1)[-1] in _BN_STATS):
            ignored.append(key)
            continue
        if key == 'conv1.weight' and key in own and value.shape != own[key].shape:
            value = adapt_first_conv(value, encoder.in_channels)
        adapted[key] = value
    missing = sorted(set(own) - set(adapted))
    unexpected = sorted(set(adapted) - set(own))
    mismatched = [f'{k}: file {tuple(adapted[k].shape)} vs encoder {tuple(own[k].shape)}'
                  for k in sorted(set(adapted) & set(own)) if adapted[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        raise ValueError(
            f'torchvision weights do not fit ResNet{encoder.depth} (width {encoder.width}, '
            f'{encoder.in_channels} input channels): missing {missing[:8]}{"…" if len(missing) > 8 else ""}, '
            f'unexpected {unexpected[:8]}{"…" if len(unexpected) > 8 else ""}, '
            f'shape mismatches {mismatched[:8]}{"…" if len(mismatched) > 8 else ""}')
    encoder.load_state_dict(adapted, strict=True)
    return ignored
