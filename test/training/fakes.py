"""Small in-memory stand-ins used by the trainer tests where a real bag is not the point."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset


class RandomPairs(Dataset):
    """Deterministic random frames: item i is ``frames`` smooth random images of H×W with a fixed K."""

    def __init__(self, n: int = 8, frames: int = 2, height: int = 64, width: int = 64, has_intrinsics: bool = True,
                 seed: int = 0):
        self.n, self.frames, self.h, self.w, self.has, self.seed = n, frames, height, width, has_intrinsics, seed

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        g = torch.Generator().manual_seed(1000 * self.seed + i)
        base = torch.nn.functional.interpolate(torch.rand(1, 3, self.h // 8, self.w // 8, generator=g),
                                               size=(self.h, self.w), mode='bilinear', align_corners=False)[0]
        images = torch.stack([torch.roll(base, shifts=s, dims=-1) for s in range(self.frames)])
        K = torch.tensor([[0.8 * self.w, 0, (self.w - 1) / 2], [0, 0.8 * self.w, (self.h - 1) / 2], [0, 0, 1.0]])
        return {'images': images, 'K': K, 'stamps_ns': torch.arange(self.frames) * 100_000_000,
                'has_intrinsics': torch.tensor(self.has)}
