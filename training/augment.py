"""Training-time augmentation keyed on (seed, epoch, sample index), so runs are reproducible and resumable.

Random horizontal flip (001 and monodepth2): every frame of a sample and its per-pixel labels are mirrored
together, and the principal point becomes ``cx' = W − 1 − cx`` (pixel centres at integers). A flip of the
world is another valid world, so the self-supervised losses need nothing else.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

# Per-pixel entries mirrored with the images (last dimension is the image width).
PER_PIXEL_KEYS = ('images', 'depth_gt', 'moving_mask', 'motion_gt', 'semantic_gt')


def flip_sample(item: dict[str, Any]) -> dict[str, Any]:
    """Mirror one sample left-right: images ``S×3×H×W`` and per-pixel labels along W; K's cx mirrored.

    A flip is the reflection ``F = diag(−1, 1, 1)`` of camera coordinates, so ``motion_gt`` (per-pixel
    translation, x right) changes the sign of its x component and poses become ``F·T·F`` (4×4, F padded), which
    keeps every relative pose consistent with the mirrored images.
    """
    out = dict(item)
    width = item['images'].shape[-1]
    for key in PER_PIXEL_KEYS:
        if key in out and torch.is_tensor(out[key]):
            out[key] = out[key].flip(-1)
    if 'motion_gt' in out and torch.is_tensor(out['motion_gt']) and out['motion_gt'].shape[-3] == 3:
        out['motion_gt'] = out['motion_gt'] * out['motion_gt'].new_tensor([-1.0, 1.0, 1.0]).view(3, 1, 1)
    K = out['K'].clone()
    K[..., 0, 2] = (width - 1) - K[..., 0, 2]
    out['K'] = K
    if 'pose_gt' in out and torch.is_tensor(out['pose_gt']):
        F = torch.diag(out['pose_gt'].new_tensor([-1.0, 1.0, 1.0, 1.0]))
        out['pose_gt'] = F @ out['pose_gt'] @ F
    return out


class FlipAugmented(Dataset):
    """Wrap a dataset: item ``i`` of epoch ``e`` is flipped iff a generator seeded by (seed, e, i) says so.

    Set ``epoch`` before building each epoch's DataLoader. Adds ``'index'`` (int) to every item.
    """

    def __init__(self, base: Dataset, seed: int = 0, enabled: bool = True) -> None:
        self.base, self.seed, self.enabled = base, int(seed), bool(enabled)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def flipped(self, index: int) -> bool:
        if not self.enabled:
            return False
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch * 100_003 + index) % (2 ** 63))
        return bool(torch.rand((), generator=g) < 0.5)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.base[index])
        if self.flipped(index):
            item = flip_sample(item)
        item['index'] = index
        return item
