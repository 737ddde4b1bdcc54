"""003's depth-cue-preserving resize and crop (§3.3): the depth branch sees a crop of a randomly resized frame,
the pose branch the whole low-resolution frame, and the predicted translation is divided by the resize factor.

One sample's frames (``S×3×H×W`` at the network size, what the pose branch and the runtime see) are resized by a
factor ``r`` to ``round(r·H) × round(r·W)`` (bilinear, ``align_corners=False``: pixel centres map as
``u' = (u + 0.5)·sx − 0.5`` with ``sx = round(r·W)/W``, ``scale_intrinsics``' rule) and cropped back to ``H × W``
at ``(x0, y0)``; the crop's intrinsics are ``K_crop = crop(scale(K, sx, sy), x0, y0)``. A sample carries the crop
as ``crop_box = (x0, y0, sx, sy)`` (float64); every other quantity of the crop follows from it here.

The "directly proportional" rule (003 §3.3): the translation the motion net predicts on the full frames is
divided by the resize factor before it warps the crop, so the depth the loss asks of the crop is the full frame's
divided by it: disparity grows with the resolution, as an object's size does. The factor here is
``s = √(sx·sy)`` (``sx`` and ``sy`` differ by the rounding of the resized size only).

Departure from 003: its crops come from frames twice the pose branch's resolution (KITTI 384×1208 at scales
0.5–1.5, crop 192×640), ours from the network-size frames the dataset gives, so our factor ``r`` is relative to
the pose branch's frame, ``r = 2·s₀₀₃``: the recipe range ``[1, 3]`` is 003's ``[0.5, 1.5]``, and ``r = 1`` (the
whole frame, what the runtime sees) leaves depth and translation as they are. ``r < 1`` would need a crop larger
than the resized frame and is refused.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from selfdepth_ros.geometry import crop_intrinsics, pixel_grid, resample, scale_intrinsics

CROP_KEYS = ('crop_images', 'crop_K', 'crop_box')
"""What a sample gains when the recipe sets ``data.random_scale_crop``."""
CROP_METHODS = ('dynamic_scenes',)
"""The methods whose objective takes the crop (``selfdepth_ros_training.methods.pair_forward``); others refuse the key."""


def check_scale_range(scale_range: tuple[float, float]) -> tuple[float, float]:
    """``(low, high)`` with ``1 ≤ low ≤ high ≤ 4``, else ``ValueError`` naming the rule."""
    if len(scale_range) != 2:
        raise ValueError(f'random_scale_crop must be [low, high], got {scale_range!r}')
    low, high = (float(x) for x in scale_range)
    if not 1.0 <= low <= high <= 4.0:
        raise ValueError(f'random_scale_crop must be [low, high] with 1 <= low <= high <= 4 (resize factors of the '
                         f'network-size frame; a crop of the network size needs >= 1; 003\'s 0.5-1.5 is [1, 3]), '
                         f'got {list(scale_range)}')
    return low, high


def draw_box(generator: torch.Generator, height: int, width: int, scale_range: tuple[float, float]) -> torch.Tensor:
    """A random crop box ``(x0, y0, sx, sy)``: factor uniform in ``scale_range``, crop origin uniform."""
    low, high = check_scale_range(scale_range)
    draws = torch.rand(3, generator=generator, dtype=torch.float64)
    r = low + (high - low) * float(draws[0])
    h, w = max(height, round(r * height)), max(width, round(r * width))
    x0, y0 = math.floor(float(draws[1]) * (w - width + 1)), math.floor(float(draws[2]) * (h - height + 1))
    return torch.tensor([x0, y0, w / width, h / height], dtype=torch.float64)


def _resized_size(box: torch.Tensor, height: int, width: int) -> tuple[int, int]:
    return round(float(box[3]) * height), round(float(box[2]) * width)


def scale_crop_images(images: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Resize ``images`` (``N×C×H×W``) by the box's factors and crop ``H×W`` at its origin.

    Raises:
        ValueError: the box's window leaves the resized image.
    """
    if images.dim() != 4:
        raise ValueError(f'images must be N×C×H×W, got shape {tuple(images.shape)}')
    H, W = images.shape[-2:]
    h, w = _resized_size(box, H, W)
    x0, y0 = int(box[0]), int(box[1])
    if x0 < 0 or y0 < 0 or x0 + W > w or y0 + H > h:
        raise ValueError(f'crop box {box.tolist()} leaves the {h}×{w} resized image (crop {H}×{W})')
    resized = F.interpolate(images, size=(h, w), mode='bilinear', align_corners=False) if (h, w) != (H, W) \
        else images
    return resized[..., y0:y0 + H, x0:x0 + W]


def crop_K(K: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Intrinsics of the crop: ``K`` (B×3×3, or 3×3) scaled by ``(sx, sy)`` then shifted by ``(x0, y0)``;
    ``box`` B×4 (or 4)."""
    single = K.dim() == 2
    K, box = (K[None], box[None]) if single else (K, box)
    box = box.to(K.dtype)
    out = crop_intrinsics(scale_intrinsics(K, box[:, 2], box[:, 3]), box[:, 0], box[:, 1])
    return out[0] if single else out


def resize_factor(box: torch.Tensor) -> torch.Tensor:
    """B (or scalar) ``s = √(sx·sy)``: what the predicted translation is divided by (003's proportional rule)."""
    return torch.sqrt(box[..., 2] * box[..., 3])


def full_frame_pixels(box: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """B×2×H×W: where each crop pixel's centre lies in the full frame, ``u = (u_c + x0 + 0.5)/sx − 0.5``."""
    grid = pixel_grid(height, width, box.device, box.dtype)[:2][None]
    origin, scale = box[:, :2].view(-1, 2, 1, 1), box[:, 2:4].view(-1, 2, 1, 1)
    return (grid + origin + 0.5) / scale - 0.5


def window(box: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """B×4 ``(u0, v0, u1, v1)``: the crop's edges in the full frame's normalised coordinates
    (``models.positional``): ``u0 = 2·x0/(sx·W) − 1``, ``u1 = 2·(x0 + W)/(sx·W) − 1``, same in v."""
    x0, y0, sx, sy = box.unbind(-1)
    return torch.stack([2 * x0 / (sx * width) - 1, 2 * y0 / (sy * height) - 1,
                        2 * (x0 + width) / (sx * width) - 1, 2 * (y0 + height) / (sy * height) - 1], -1)


def field_to_crop(field: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """A per-pixel field of the full frames (B×C×H×W, e.g. the residual translation) sampled at the crop's
    pixels (bilinear, ``geometry.resample``)."""
    H, W = field.shape[-2:]
    return resample(field, full_frame_pixels(box.to(field.dtype), H, W))


def scale_crop_sample(item: dict, box: torch.Tensor) -> dict:
    """One sample plus its crop: ``crop_images`` (the frames resized and cropped), ``crop_K``, ``crop_box``.
    ``images`` and ``K`` stay the full frames (the pose branch's)."""
    out = dict(item)
    out['crop_images'] = scale_crop_images(item['images'], box).contiguous()
    out['crop_K'] = crop_K(item['K'].to(torch.float64), box).to(item['K'].dtype)
    out['crop_box'] = box
    return out
