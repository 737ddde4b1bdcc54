"""One forward pass of the depth and motion nets over a batch of frame pairs, in both frame orders, with or
without 003's depth-cue-preserving crop (``selfdepth_ros_training.scale_crop``).

Without a crop, the depth net runs on the 2B frames and the motion net on the 2B ordered RGB-D pairs (001).
With one (``batch['crop_images']``, from ``data.random_scale_crop``), the depth net runs on the full frames and on
their crops in one call (its positional input, when it has one, is each image's window in the full frame); the
motion net sees the full frames with their depth (003: the pose branch sees the whole low-resolution image); the
loss sees the crops: intrinsics ``crop_K(K)``, the residual field resampled onto the crop's pixels, and the ego
translation and the field divided by the resize factor (003's "directly proportional" rule).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import torch

from selfdepth_ros.models.positional import FULL_WINDOW, normalised_positions
from selfdepth_ros_training.methods.common import select_intrinsics, square_in_source
from selfdepth_ros_training.scale_crop import crop_K, field_to_crop, resize_factor, window


class PairForward(NamedTuple):
    """What the 001 loss needs (2B stacks: the B pairs, then the same pairs reversed) and what the parts read."""

    rgb: torch.Tensor  #: 2B×3×H×W frame 1 of each order, as the loss sees it (the crop when there is one)
    depth: torch.Tensor  #: 2B×1×H×W its depth
    rotation: torch.Tensor  #: 2B×3
    translation: torch.Tensor  #: 2B×3 ego translation, in the loss frame's scale
    residual: torch.Tensor  #: 2B×3×H×W residual translation field on the loss frame's pixels
    K: torch.Tensor  #: 2B×3×3 intrinsics of the loss frame
    learned: torch.Tensor | None  #: B×3×3 learned intrinsics of the full frames (both orders averaged), or None
    full_depth: torch.Tensor  #: 2B×1×H×W depth of the full frames (the runtime's input)


def _positional(net: Any) -> bool:
    return bool(getattr(getattr(net, 'module', net).config, 'positional_encoding', False))


def pair_forward(batch: dict[str, Any], depth_net: Any, motion_net: Any) -> PairForward:
    """Run the nets on ``batch['images']`` (B×2×3×H×W), cropped for the loss when the batch has a crop."""
    images = batch['images']
    if images.dim() != 5 or images.shape[1] != 2:
        raise ValueError(f"a pair method needs frame pairs: batch['images'] B×2×3×H×W, got {tuple(images.shape)}")
    B, H, W = images.shape[0], images.shape[-2], images.shape[-1]
    rgb = torch.cat([images[:, 0], images[:, 1]])
    other = torch.cat([images[:, 1], images[:, 0]])
    crops = batch.get('crop_images')
    if crops is None:
        depth = depth_net(rgb)[0]
    else:
        box = torch.cat([batch['crop_box'], batch['crop_box']]).to(rgb.device, torch.float64)
        crop_rgb = torch.cat([crops[:, 0], crops[:, 1]])
        positions = None
        if _positional(depth_net):
            full = torch.tensor([FULL_WINDOW], dtype=torch.float64, device=rgb.device).expand(2 * B, 4)
            positions = normalised_positions(H, W, torch.cat([full, window(box, H, W)]), dtype=rgb.dtype)
        both = depth_net(torch.cat([rgb, crop_rgb]), positions)[0]
        depth, crop_depth = both[:2 * B], both[2 * B:]
    other_depth = torch.cat([depth[B:], depth[:B]])
    motion = motion_net(rgb, depth, other, other_depth)
    learned = None
    if motion.intrinsics is not None:
        learned = 0.5 * (motion.intrinsics[:B] + motion.intrinsics[B:])  # 001: both orders, one camera
    learned = square_in_source(learned, batch['K'], motion_net)
    K = select_intrinsics(batch['K'].to(rgb.dtype), batch['has_intrinsics'], learned)
    K = torch.cat([K, K])
    if crops is None:
        return PairForward(rgb, depth, motion.rotation, motion.translation, motion.residual, K, learned, depth)
    s = resize_factor(box).to(rgb.dtype)  # 003 §3.3: translation / s, so the crop's disparity grows with s
    return PairForward(crop_rgb, crop_depth, motion.rotation, motion.translation / s[:, None],
                       field_to_crop(motion.residual, box) / s.view(-1, 1, 1, 1),
                       crop_K(K.to(torch.float64), box).to(K.dtype), learned, depth)
