"""A tiny deterministic "drive" bag for tests and benchmarks of the bag and dataset code.

Not the synthetic world (``selfdepth_ros.sim``): frames are a random texture panned sideways by a chosen
number of pixels per frame, so the frame-to-frame change is exactly controllable (0 px = a stopped vehicle).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from selfdepth_ros.bag.writer import BagWriter

__all__ = ['write_toy_drive', 'TOY_K']

TOY_K = np.array([[60.0, 0.0, 31.5], [0.0, 60.0, 23.5], [0.0, 0.0, 1.0]])
"""Intrinsics of the 64×48 toy camera (pixels)."""


def write_toy_drive(path: str | Path, shifts: Sequence[int] = (4,) * 8, *, storage: str = 'mcap',
                    size: tuple[int, int] = (64, 48), K: np.ndarray = TOY_K, camera_info: bool = True,
                    gt: bool = True, stamps_ns: Sequence[int] | None = None, encoding: str = 'rgb8',
                    compressed: str | None = None, seed: int = 0) -> np.ndarray:
    """Write ``len(shifts) + 1`` frames; frame t+1 is frame t panned by ``shifts[t]`` pixels.

    Topics (docs/CONVENTIONS.md): ``/camera/image_raw`` (``encoding``, or CompressedImage ``compressed``),
    ``/camera/camera_info`` (``K``, when ``camera_info``), and with ``gt``: ``/gt/depth`` (frame index + 1
    metres everywhere), ``/gt/odom`` (camera at x = frame index metres), ``/gt/motion`` (zeros),
    ``/gt/moving_mask`` (255 on the left column block). Stamps default to 10 Hz from 1 s.

    Returns the ``N×H×W×3`` uint8 RGB frames written.
    """
    w, h = size
    n = len(shifts) + 1
    stamps = [1_000_000_000 + 100_000_000 * i for i in range(n)] if stamps_ns is None else list(stamps_ns)
    if len(stamps) != n:
        raise ValueError(f'stamps_ns must have {n} values (len(shifts) + 1), got {len(stamps)}')
    rng = np.random.default_rng(seed)
    pan = np.concatenate([[0], np.cumsum(shifts)]).astype(int)
    tw = w + int(pan.max())
    coarse = rng.integers(0, 256, size=(h // 3 + 2, tw // 3 + 2, 3), dtype=np.uint8)  # 3-px blobs: jpeg-friendly
    texture = cv2.resize(coarse, (coarse.shape[1] * 3, coarse.shape[0] * 3), interpolation=cv2.INTER_LINEAR)[:h, :tw]
    frames = np.stack([texture[:, p:p + w] for p in pan])
    frame_id = 'camera_optical_frame'
    with BagWriter(path, storage=storage) as bag:
        for i, (stamp, rgb) in enumerate(zip(stamps, frames)):
            if compressed:
                bag.write_compressed_image('/camera/image_raw', rgb, compressed, stamp, frame_id)
            else:
                img = {'rgb8': rgb, 'bgr8': rgb[:, :, ::-1], 'mono8': rgb[:, :, 0]}[encoding]
                bag.write_image('/camera/image_raw', img, encoding, stamp, frame_id)
            if camera_info:
                bag.write_camera_info('/camera/camera_info', K, w, h, stamp, frame_id)
            if gt:
                bag.write_image('/gt/depth', np.full((h, w), i + 1.0, np.float32), '32FC1', stamp, frame_id)
                pose = np.eye(4)
                pose[0, 3] = i
                bag.write_odometry('/gt/odom', pose, stamp, 'odom', frame_id)
                bag.write_image('/gt/motion', np.zeros((h, w, 3), np.float32), '32FC3', stamp, frame_id)
                mask = np.zeros((h, w), np.uint8)
                mask[:, : w // 4] = 255
                bag.write_image('/gt/moving_mask', mask, 'mono8', stamp, frame_id)
    return frames
