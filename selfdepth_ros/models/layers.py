"""Normalisation layers shared by the encoders: 001's randomized layer norm, or BatchNorm.

Randomized layer normalisation (Gordon et al. 2019, used by 001 "before each relu"): per sample and
channel, normalise by the spatial mean and variance; while training, multiply both moments by
``1 + n`` with ``n`` truncated-normal noise (std 0.5 at full ramp, truncated at 2 std so the factor stays
in [0, 2]). At eval time it is a plain per-sample layer norm, so depth does not depend on the batch.
"""
from __future__ import annotations

import torch
from torch import nn

EPS = 1e-3  # the variance epsilon of 001's reference implementation


class RandomizedLayerNorm(nn.Module):
    """Per-sample, per-channel spatial normalisation with multiplicative noise on the moments (training only).

    Args:
        channels: C.
        noise_std: std of the noise at full ramp (001: 0.5).
    Shapes: input and output ``B×C×H×W``. Parameters ``weight`` (γ) and ``bias`` (β) of shape ``C`` carry the
    same names as BatchNorm's so torchvision-format weights load into either.
    Attribute ``ramp`` in [0, 1] scales the noise; the trainer sets it (``set_randln_ramp``).
    """

    def __init__(self, channels: int, noise_std: float = 0.5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.noise_std = float(noise_std)
        self.ramp = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
        std = self.noise_std * self.ramp
        if self.training and std > 0:
            mean = mean * (1.0 + _truncated_noise(mean, std))
            var = var * (1.0 + _truncated_noise(var, std))
        x = (x - mean) * torch.rsqrt(var + EPS)
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f'{self.weight.numel()}, noise_std={self.noise_std}, ramp={self.ramp}'


def _truncated_noise(like: torch.Tensor, std: float) -> torch.Tensor:
    """Normal(0, std) noise truncated to ±2 std (TensorFlow's ``truncated_normal``), shaped like ``like``."""
    noise = torch.empty_like(like)
    nn.init.trunc_normal_(noise, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)
    return noise


def make_norm(kind: str, channels: int, noise_std: float = 0.5) -> nn.Module:
    """The normalisation layer named by ``ModelConfig.norm``: ``'randln'`` or ``'batch'``."""
    if kind == 'randln':
        return RandomizedLayerNorm(channels, noise_std)
    if kind == 'batch':
        return nn.BatchNorm2d(channels)
    raise ValueError(f"norm must be 'randln' or 'batch', got {kind!r}")


def set_randln_ramp(module: nn.Module, ramp: float) -> int:
    """Set the noise ramp (0 = no noise, 1 = full ``noise_std``) of every randomized layer norm in ``module``.

    Returns the number of layers changed (0 for a BatchNorm model).
    """
    if not 0.0 <= ramp <= 1.0:
        raise ValueError(f'ramp must be in [0, 1], got {ramp!r}')
    count = 0
    for layer in module.modules():
        if isinstance(layer, RandomizedLayerNorm):
            layer.ramp = float(ramp)
            count += 1
    return count


def randln_ramp(step: int, ramp_steps: int = 10_000) -> float:
    """001's noise ramp: ``min(step / ramp_steps, 1)²`` (0 when ``ramp_steps`` <= 0 means no ramp: 1)."""
    if ramp_steps <= 0:
        return 1.0
    return min(max(step, 0) / float(ramp_steps), 1.0) ** 2
