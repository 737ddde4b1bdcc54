"""Frame pairs/triplets from one or many rosbag2 files, at the network size, for self-supervised training."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from selfdepth_ros.bag.index import FrameIndex, GroundTruthTopics
from selfdepth_ros.geometry.camera import scale_intrinsics
from training.data.frame_cache import FrameCache, bag_cache_key

__all__ = ['BagFramesDataset', 'GT_KEYS']

# ground-truth stream → (item key, interpolation): labels/depth/motion are resized nearest, never blended
GT_KEYS = {'depth': ('depth_gt', cv2.INTER_NEAREST), 'motion': ('motion_gt', cv2.INTER_NEAREST),
           'moving_mask': ('moving_mask', cv2.INTER_NEAREST), 'semantic': ('semantic_gt', cv2.INTER_NEAREST)}


class BagFramesDataset(Dataset):
    """Samples of ``S = len(offsets)`` frames from rosbag2 files, resized to the network size.

    Item contract (a dict; ``H×W`` = ``size[::-1]``):

    - ``'images'``: ``S×3×H×W`` float32 RGB in [0, 1] (``cv2.INTER_AREA`` resize), in ``offsets`` order.
    - ``'K'``: ``3×3`` float32 intrinsics at the network size of the frame at offset 0 (from CameraInfo, else
      the ``K`` argument, else a placeholder ``fx = fy = W``, centred principal point), scaled with
      ``fx' = fx·sx``, ``cx' = (cx + 0.5)·sx − 0.5`` (same in y).
    - ``'has_intrinsics'``: bool, ``False`` when ``K`` is the placeholder (learn intrinsics).
    - ``'stamps_ns'``: ``S`` int64 header stamps.
    - ``'bag_index'``, ``'frame_index'``: int64, the bag (position in ``bags``) and its frame at offset 0.
    - When every bag has the topic (and ``load_gt``): ``'depth_gt'`` ``S×1×H×W`` float32 metres,
      ``'moving_mask'`` ``S×1×H×W`` bool, ``'motion_gt'`` ``S×3×H×W`` float32 (``T_obj`` of t → t+1, metres),
      ``'semantic_gt'`` ``S×1×H×W`` int64, all nearest-resized; ``'pose_gt'`` ``S×4×4`` float32 ``T_odom_cam``.

    Selection: a sample needs every frame in the bag, consecutive frames (in offset order) at most
    ``max_gap_s`` apart, every loaded ground truth paired, and — with ``min_motion`` > 0 — a mean absolute
    RGB difference ≥ ``min_motion`` between each consecutive pair (001 drops a stopped vehicle this way;
    this decodes every frame once at construction, which fills the cache).

    Args:
        bags: one bag path or a sequence (directories or ``.mcap`` files).
        size: network input ``(width, height)``.
        offsets: frame offsets of a sample, e.g. ``(0, 1)`` or ``(-1, 0, 1)``; must contain 0.
        K: ``3×3`` intrinsics of the bags' native images, used for bags without CameraInfo; ``None`` → placeholder.
        cache_size: decoded frames kept in memory; ``cache_dir``: optional on-disk ``.npy`` cache.
        image_topic, camera_info_topic, gt_topics, stamp_policy, tolerance_ns: see :class:`FrameIndex`.
    """

    def __init__(self, bags: str | Path | Sequence[str | Path], size: tuple[int, int], *,
                 offsets: Sequence[int] = (0, 1), K: np.ndarray | None = None, min_motion: float = 0.01,
                 max_gap_s: float = 0.5, load_gt: bool = True, cache_size: int = 512,
                 cache_dir: str | Path | None = None, image_topic: str = '/camera/image_raw',
                 camera_info_topic: str | None = '/camera/camera_info',
                 gt_topics: GroundTruthTopics = GroundTruthTopics(), stamp_policy: str = 'error',
                 tolerance_ns: int = 1_000_000) -> None:
        bags = [bags] if isinstance(bags, (str, Path)) else list(bags)
        if not bags:
            raise ValueError('bags must name at least one bag')
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'size must be (width, height) > 0, got {size}')
        self.offsets = tuple(int(o) for o in offsets)
        if 0 not in self.offsets or len(set(self.offsets)) != len(self.offsets):
            raise ValueError(f'offsets must be distinct and contain 0, got {offsets}')
        if K is not None and np.shape(K) != (3, 3):
            raise ValueError(f'K must be 3×3, got shape {np.shape(K)}')
        self.size = (int(size[0]), int(size[1]))
        self.config_K = None if K is None else np.asarray(K, np.float64)
        self.min_motion, self.max_gap_ns = float(min_motion), int(round(max_gap_s * 1e9))
        self.cache = FrameCache(cache_size, cache_dir)
        self.indexes = [FrameIndex(b, image_topic, camera_info_topic, gt_topics, tolerance_ns=tolerance_ns,
                                   stamp_policy=stamp_policy) for b in bags]
        self._keys = [bag_cache_key(ix.path, image_topic, self.size) for ix in self.indexes]
        names = set(GT_KEYS) | {'odom'}
        self.gt_streams = tuple(sorted(n for n in names
                                       if load_gt and all(n in ix.gt_available for ix in self.indexes)))
        self.dropped = {'gap': 0, 'gt': 0, 'motion': 0}
        """Candidate samples dropped per reason (time gap, unpaired ground truth, too little motion)."""
        self.samples: list[tuple[int, tuple[int, ...]]] = []
        for b, ix in enumerate(self.indexes):
            self.samples += self._select(b, ix)

    # -- selection -----------------------------------------------------------------------------------------
    def _select(self, b: int, ix: FrameIndex) -> list[tuple[int, tuple[int, ...]]]:
        order = sorted(self.offsets)
        out = []
        for i in range(-min(order), len(ix) - max(order)):
            frames = [i + o for o in order]
            if np.any(np.diff(ix.stamps_ns[frames]) > self.max_gap_ns):
                self.dropped['gap'] += 1
            elif not all(ix.has_gt(n, f) for n in self.gt_streams for f in frames):
                self.dropped['gt'] += 1
            elif self.min_motion > 0 and any(self._motion(b, f1, f2) < self.min_motion
                                             for f1, f2 in zip(frames[:-1], frames[1:])):
                self.dropped['motion'] += 1
            else:
                out.append((b, tuple(i + o for o in self.offsets)))
        return out

    def _motion(self, b: int, f1: int, f2: int) -> float:
        """Mean |I2 − I1| of the network-size RGB frames in [0, 1]."""
        i1, i2 = self._image(b, f1), self._image(b, f2)
        return float(np.mean(np.abs(i2.astype(np.int16) - i1.astype(np.int16)))) / 255.0

    # -- decoding through the cache ------------------------------------------------------------------------
    def _image(self, b: int, f: int) -> np.ndarray:
        """Frame ``f`` of bag ``b`` as network-size ``H×W×3`` uint8 RGB (cached)."""
        ix = self.indexes[b]
        return self.cache.get((self._keys[b], 'image', f),
                              lambda: cv2.resize(ix.image(f), self.size, interpolation=cv2.INTER_AREA))

    def _gt(self, b: int, name: str, f: int) -> np.ndarray:
        ix = self.indexes[b]
        return self.cache.get((self._keys[b], name, f),
                              lambda: cv2.resize(ix.gt(name, f), self.size, interpolation=GT_KEYS[name][1]))

    def _intrinsics(self, b: int, f: int) -> tuple[np.ndarray, bool]:
        ix = self.indexes[b]
        native = ix.K[f] if ix.K is not None else self.config_K
        W, H = self.size
        if native is None:
            return np.array([[W, 0, (W - 1) / 2], [0, W, (H - 1) / 2], [0, 0, 1]], np.float32), False
        w0, h0 = ix.image_size
        K = scale_intrinsics(torch.as_tensor(native, dtype=torch.float64)[None], W / w0, H / h0)[0]
        return K.numpy().astype(np.float32), True

    # -- Dataset -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        b, frames = self.samples[n]
        ix = self.indexes[b]
        images = np.stack([self._image(b, f) for f in frames])
        K, has_K = self._intrinsics(b, frames[self.offsets.index(0)])
        item = {
            'images': torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0),
            'K': torch.from_numpy(K),
            'has_intrinsics': torch.tensor(has_K),
            'stamps_ns': torch.from_numpy(ix.stamps_ns[list(frames)].copy()),
            'bag_index': torch.tensor(b, dtype=torch.int64),
            'frame_index': torch.tensor(frames[self.offsets.index(0)], dtype=torch.int64),
        }
        for name in self.gt_streams:
            if name == 'odom':
                item['pose_gt'] = torch.from_numpy(np.stack([ix.gt('odom', f) for f in frames]).astype(np.float32))
                continue
            arr = np.stack([self._gt(b, name, f) for f in frames])
            t = torch.from_numpy(arr)
            t = t.permute(0, 3, 1, 2) if t.ndim == 4 else t[:, None]
            if name == 'moving_mask':
                t = t != 0
            elif name == 'semantic':
                t = t.long()
            item[GT_KEYS[name][0]] = t.float() if t.dtype == torch.float64 else t
        return item
