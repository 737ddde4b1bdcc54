"""Training-time augmentation keyed on (seed, epoch, sample index), so runs are reproducible and resumable.

Random horizontal flip (001 and monodepth2): every frame of a sample and its per-pixel labels are mirrored
together, and the principal point becomes ``cx' = W − 1 − cx`` (pixel centres at integers). A flip of the
world is another valid world, so the self-supervised losses need nothing else.

Random camera rotation of the last frame (ours, not in 001 or monodepth2): the last frame is re-rendered as if the
camera had also turned by small random angles ``Q`` (a pure-rotation homography ``K Q⁻¹ K⁻¹``, exact for a pinhole
camera whatever the depth; the strip that enters the view is filled with the border pixels). The pair's motion
becomes ``(Q·R, Q·T)``: the motion net sees turns the synthetic streets never have (0.5° per frame at most, where
a KITTI road turns 2°; ``docs/real_footage.md``).

Random resize and crop (003's depth-cue-preserving augmentation, ``selfdepth_ros_training.scale_crop``): after the flip, the
sample gains a crop of its resized frames for the depth branch; ``images`` stay the pose branch's full frames.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from selfdepth_ros_training.scale_crop import check_scale_range, draw_box, scale_crop_sample

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


def rotate_last_frame(item: dict[str, Any], angles: torch.Tensor) -> dict[str, Any]:
    """Re-render the last frame of ``item['images']`` (``S×3×H×W``) for a camera turned by ``angles`` (rx, ry, rz
    radians, ``Q = Rx·Ry·Rz`` acting on camera coordinates, as the motion convention), with the item's ``K``.

    A point at pixel ``p`` of the old last frame appears at ``p' ~ K Q K⁻¹ p``; the new image is sampled at
    ``K Q⁻¹ K⁻¹ p'`` (bilinear, border padding). Per-pixel labels of that frame are dropped (``pose_gt`` of it is
    updated to ``T_odom_cam · Q⁻¹``), so no stale ground truth survives the warp.
    """
    from selfdepth_ros.geometry import euler_to_matrix
    images = item['images']
    _, _, H, W = images.shape
    K = item['K'].to(torch.float64)
    Q = euler_to_matrix(angles.to(torch.float64)[None])[0]
    H_inv = K @ Q.T @ torch.linalg.inv(K)  # output pixel -> source pixel
    v, u = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing='ij')
    src = H_inv @ torch.stack([u.reshape(-1), v.reshape(-1), torch.ones(H * W, dtype=torch.float64)])
    su, sv = src[0] / src[2], src[1] / src[2]
    grid = torch.stack([su / (W - 1) * 2 - 1, sv / (H - 1) * 2 - 1], -1).reshape(1, H, W, 2).to(images.dtype)
    out = dict(item)
    last = torch.nn.functional.grid_sample(images[-1:], grid, mode='bilinear', padding_mode='border',
                                           align_corners=True)
    out['images'] = torch.cat([images[:-1], last])
    for key in PER_PIXEL_KEYS[1:]:
        out.pop(key, None)
    if 'pose_gt' in out and torch.is_tensor(out['pose_gt']):
        pose = out['pose_gt'].clone()
        M = torch.eye(4, dtype=pose.dtype)
        M[:3, :3] = Q.T.to(pose.dtype)
        pose[-1] = pose[-1] @ M
        out['pose_gt'] = pose
    return out


class FlipAugmented(Dataset):
    """Wrap a dataset: item ``i`` of epoch ``e`` is flipped iff a generator seeded by (seed, e, i) says so, and,
    with ``rotation_deg`` > 0, its last frame turned by angles drawn from the same generator (yaw uniform in
    ±rotation_deg, pitch and roll in ±rotation_deg/4, with probability 1/2).

    With ``scale_range`` (``(low, high)``, ``selfdepth_ros_training.scale_crop``) every item also gains a random resize-and-crop
    of its frames (``crop_images``, ``crop_K``, ``crop_box``), drawn from its own generator of (seed, e, i), so the
    flips and rotations are those of a run without it.

    Set ``epoch`` before building each epoch's DataLoader. Adds ``'index'`` (int) to every item.
    """

    def __init__(self, base: Dataset, seed: int = 0, enabled: bool = True, rotation_deg: float = 0.0,
                 scale_range: tuple[float, float] | None = None) -> None:
        if not 0.0 <= rotation_deg <= 20.0:
            raise ValueError(f'rotation_deg must be in [0, 20], got {rotation_deg!r}')
        self.base, self.seed, self.enabled = base, int(seed), bool(enabled)
        self.rotation_deg = float(rotation_deg)
        self.scale_range = None if scale_range is None else check_scale_range(scale_range)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def _generator(self, index: int, stream: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed(
            (self.seed * 1_000_003 + self.epoch * 100_003 + index + stream * 7_919_117) % (2 ** 63))

    def crop_box(self, index: int, height: int, width: int) -> torch.Tensor | None:
        """The (x0, y0, sx, sy) crop of item ``index`` this epoch (``selfdepth_ros_training.scale_crop``), or None."""
        if self.scale_range is None:
            return None
        return draw_box(self._generator(index, stream=1), height, width, self.scale_range)

    def flipped(self, index: int) -> bool:
        if not self.enabled:
            return False
        return bool(torch.rand((), generator=self._generator(index)) < 0.5)

    def rotation(self, index: int) -> torch.Tensor | None:
        """The (rx, ry, rz) radians the last frame of item ``index`` is turned by this epoch, or None."""
        if self.rotation_deg <= 0:
            return None
        g = self._generator(index)
        draws = torch.rand(5, generator=g, dtype=torch.float64)  # draws[0] is the flip's
        if draws[1] >= 0.5:
            return None
        limit = torch.tensor([0.25, 1.0, 0.25], dtype=torch.float64) * self.rotation_deg * torch.pi / 180
        return (2 * draws[2:] - 1) * limit

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.base[index])
        angles = self.rotation(index)
        if angles is not None and bool(item.get('has_intrinsics', True)):  # a placeholder K would warp wrongly
            item = rotate_last_frame(item, angles)
        if self.flipped(index):
            item = flip_sample(item)
        box = self.crop_box(index, *item['images'].shape[-2:])
        if box is not None:
            item = scale_crop_sample(item, box)
        item['index'] = index
        return item
