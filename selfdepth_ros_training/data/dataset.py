"""Frame pairs/triplets from one or many rosbag2 files, at the network size, for self-supervised training."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.index import FrameIndex, GroundTruthTopics
from selfdepth_ros.geometry.camera import scale_intrinsics
from selfdepth_ros_training.data.frame_cache import FrameCache, bag_cache_key

__all__ = ['BagFramesDataset', 'GT_KEYS', 'PAIR_SELECTIONS']

PAIR_SELECTIONS = ('index', 'parallax')
# Sparse Lucas-Kanade at the network size (pair_selection 'parallax'): OpenCV already decodes and resizes every
# frame here, and its pyramidal LK gives sub-pixel flow in C at ~1 ms per pair, no model or GPU needed.
_LK = dict(winSize=(11, 11), maxLevel=2, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
_MIN_TRACKS = 8
_FB_MAX_PX = 0.5

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
    ``max_gap_s`` apart and every loaded ground truth paired. Then, by ``pair_selection``:

    - ``'index'``: the frames are ``offsets`` apart; with ``min_motion`` > 0 a mean absolute RGB difference
      ≥ ``min_motion`` is required between each consecutive pair (001 drops a stopped vehicle this way).
    - ``'parallax'``: ``offsets`` give the shape (``(0, s)`` or ``(-s, 0, s)``) and ``s`` the smallest stride;
      for each frame t the sample uses the smallest stride ``k`` in ``s..max_stride`` (``offsets`` scaled by
      ``k / s``) for which every consecutive pair moves by ≥ ``min_parallax_px`` pixels at the network size:
      the median magnitude of sparse pyramidal Lucas-Kanade flow (OpenCV) of Shi-Tomasi corners, kept when
      the backward track returns within 0.5 px; fewer than 8 kept tracks count as no motion. Frames that do
      not reach it within ``max_stride`` (a stopped car, the bag's end) are dropped (``dropped['parallax']``);
      :attr:`strides` counts the strides used. Pure rotation counts as motion too (no rotation is removed).

    Both motion tests decode every frame once at construction, which fills the cache (a progress bar appears
    when that takes over 2 s and ``progress``). :meth:`selection_summary` is a one-line report.

    Args:
        bags: one bag path or a sequence (directories or ``.mcap`` files).
        size: network input ``(width, height)``.
        offsets: frame offsets of a sample, e.g. ``(0, 1)`` or ``(-1, 0, 1)``; must contain 0.
        K: ``3×3`` intrinsics of the bags' native images, used for bags without CameraInfo; ``None`` → placeholder.
        cache_size: decoded frames kept in memory; ``cache_dir``: optional on-disk ``.npy`` cache.
        image_topic, camera_info_topic, gt_topics, stamp_policy, tolerance_ns: see :class:`FrameIndex`
            (``camera_info_topic`` ``None`` or ``''``: ignore CameraInfo).
        pair_selection, max_stride, min_parallax_px: see Selection.
        progress: show a progress bar over the decoding at construction when it takes longer than 2 s.

    Raises:
        BagError: a bag lacks ``image_topic`` (the message lists the bag's topics), or its frames do not decode
            to colour/mono images.
    """

    def __init__(self, bags: str | Path | Sequence[str | Path], size: tuple[int, int], *,
                 offsets: Sequence[int] = (0, 1), K: np.ndarray | None = None, min_motion: float = 0.01,
                 max_gap_s: float = 0.5, load_gt: bool = True, cache_size: int = 512,
                 cache_dir: str | Path | None = None, image_topic: str = '/camera/image_raw',
                 camera_info_topic: str | None = '/camera/camera_info',
                 gt_topics: GroundTruthTopics = GroundTruthTopics(), stamp_policy: str = 'error',
                 tolerance_ns: int = 1_000_000, pair_selection: str = 'index', max_stride: int = 5,
                 min_parallax_px: float = 1.0, progress: bool = True) -> None:
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
        if pair_selection not in PAIR_SELECTIONS:
            raise ValueError(f'pair_selection must be one of {PAIR_SELECTIONS}, got {pair_selection!r}')
        self.pair_selection, self.max_stride = pair_selection, int(max_stride)
        self.min_parallax_px, self.progress = float(min_parallax_px), bool(progress)
        if pair_selection == 'parallax':
            unit = min((abs(o) for o in self.offsets if o), default=0)
            if not unit or any(o % unit for o in self.offsets) or self.max_stride < unit:
                raise ValueError(f'parallax selection needs offsets that are multiples of their smallest stride '
                                 f'and max_stride >= it, got offsets {offsets}, max_stride {max_stride}')
        self.size = (int(size[0]), int(size[1]))
        self.config_K = None if K is None else np.asarray(K, np.float64)
        self.min_motion, self.max_gap_ns = float(min_motion), int(round(max_gap_s * 1e9))
        self.cache = FrameCache(cache_size, cache_dir)
        self.indexes = [FrameIndex(b, image_topic, camera_info_topic or None, gt_topics, tolerance_ns=tolerance_ns,
                                   stamp_policy=stamp_policy) for b in bags]
        self._keys = [bag_cache_key(ix.path, image_topic, self.size) for ix in self.indexes]
        for b, ix in enumerate(self.indexes):
            try:  # one frame through the whole decode path: a depth topic or a bad codec fails here, clearly
                self._image(b, 0)
            except (ValueError, cv2.error) as exc:
                raise BagError(f'bag {ix.path}, topic {image_topic}: frames do not decode to an image to train '
                               f'on: {str(exc).strip().splitlines()[0]}') from None
        self.bag_has_intrinsics = [ix.K is not None or self.config_K is not None for ix in self.indexes]
        """Per bag: whether its samples carry real intrinsics (CameraInfo, or the ``K`` argument)."""
        names = set(GT_KEYS) | {'odom'}
        self.gt_streams = tuple(sorted(n for n in names
                                       if load_gt and all(n in ix.gt_available for ix in self.indexes)))
        self.dropped = {'gap': 0, 'gt': 0, 'motion': 0, 'parallax': 0}
        """Candidate samples dropped per reason (time gap, unpaired ground truth, too little motion by
        ``min_motion`` (index) or by ``min_parallax_px`` within ``max_stride`` (parallax))."""
        self.strides: Counter[int] = Counter()
        """Samples per stride used (the smallest nonzero |offset| of each kept sample)."""
        self.samples: list[tuple[int, tuple[int, ...]]] = []
        self._flow: dict[tuple[int, int, int], float] = {}
        self._corners: dict[tuple[int, int], np.ndarray | None] = {}
        decodes = pair_selection == 'parallax' or self.min_motion > 0
        from tqdm import tqdm
        span = max(self.offsets) - min(self.offsets)  # candidates per bag: its frames less one sample's span
        bar = tqdm(total=sum(max(len(ix) - span, 0) for ix in self.indexes), unit='frame', leave=False,
                   desc=f'pair selection ({pair_selection})', delay=2.0, dynamic_ncols=True,
                   disable=not (self.progress and decodes))
        try:
            for b, ix in enumerate(self.indexes):
                select = self._select_parallax if pair_selection == 'parallax' else self._select
                self.samples += select(b, ix, bar)
                self._flow.clear(), self._corners.clear()
        finally:
            bar.close()

    def selection_summary(self) -> str:
        """One line: the selection rule, samples kept, candidates dropped per reason, strides used."""
        total = len(self.samples) + sum(self.dropped.values())
        rule = (f'parallax (>= {self.min_parallax_px:g} px at {self.size[0]}x{self.size[1]}, stride '
                f'{min((abs(o) for o in self.offsets if o), default=0)}..{self.max_stride})'
                if self.pair_selection == 'parallax'
                else f'index (offsets {self.offsets}, min_mean_abs_diff {self.min_motion:g})')
        dropped = ', '.join(f'{k} {v}' for k, v in self.dropped.items() if v) or 'none'
        strides = ' '.join(f'{k}:{v}' for k, v in sorted(self.strides.items())) or '-'
        return (f'[data] {len(self.samples)} of {total} samples kept from {len(self.indexes)} bag(s), pair selection '
                f'{rule}; dropped: {dropped}; strides used {strides}')

    # -- selection -----------------------------------------------------------------------------------------
    def _select(self, b: int, ix: FrameIndex, bar: Any) -> list[tuple[int, tuple[int, ...]]]:
        order = sorted(self.offsets)
        out = []
        for i in range(-min(order), len(ix) - max(order)):
            bar.update(1)
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
                self.strides[min((abs(o) for o in self.offsets if o), default=0)] += 1
        return out

    def _select_parallax(self, b: int, ix: FrameIndex, bar: Any) -> list[tuple[int, tuple[int, ...]]]:
        """Per candidate frame t: the smallest stride whose every consecutive pair has enough image motion."""
        unit = min(abs(o) for o in self.offsets if o)
        shape = [o // unit for o in self.offsets]  # (0, 1) or (-1, 0, 1): the offsets of stride 1
        order = sorted(shape)
        out = []
        for i in range(-min(order) * unit, len(ix) - max(order) * unit):
            bar.update(1)
            reason = 'parallax'
            for k in range(unit, self.max_stride + 1):
                frames = [i + o * k for o in order]
                if frames[0] < 0 or frames[-1] >= len(ix):
                    break  # the bag ends before the motion is reached
                if np.any(np.diff(ix.stamps_ns[frames]) > self.max_gap_ns):
                    reason = 'gap' if k == unit else 'parallax'
                    break
                if all(self._parallax(b, f1, f2) >= self.min_parallax_px for f1, f2 in zip(frames[:-1], frames[1:])):
                    reason = 'gt' if not all(ix.has_gt(n, f) for n in self.gt_streams for f in frames) else ''
                    break
            if reason:
                self.dropped[reason] += 1
            else:
                out.append((b, tuple(i + o * k for o in shape)))
                self.strides[k] += 1
        return out

    def _grey(self, b: int, f: int) -> np.ndarray:
        return cv2.cvtColor(self._image(b, f), cv2.COLOR_RGB2GRAY)

    def _parallax(self, b: int, f1: int, f2: int) -> float:
        """Median image motion (pixels at the network size) of frame ``f1`` → ``f2``: forward-backward checked
        sparse pyramidal Lucas-Kanade of up to 200 Shi-Tomasi corners of ``f1``; 0 when fewer than 8 tracks
        survive (a featureless or unmatched pair does not count as motion)."""
        key = (b, f1, f2)
        if key not in self._flow:
            if (b, f1) not in self._corners:
                self._corners[(b, f1)] = cv2.goodFeaturesToTrack(self._grey(b, f1), maxCorners=200, qualityLevel=0.01,
                                                                 minDistance=3, blockSize=3)
            p1 = self._corners[(b, f1)]
            motion = 0.0
            if p1 is not None and len(p1) >= _MIN_TRACKS:
                g1, g2 = self._grey(b, f1), self._grey(b, f2)
                p2, ok, _ = cv2.calcOpticalFlowPyrLK(g1, g2, p1, None, **_LK)
                back, ok_back, _ = cv2.calcOpticalFlowPyrLK(g2, g1, p2, None, **_LK)
                good = (ok[:, 0] == 1) & (ok_back[:, 0] == 1) & (np.linalg.norm((back - p1)[:, 0], axis=1) < _FB_MAX_PX)
                if int(good.sum()) >= _MIN_TRACKS:
                    motion = float(np.median(np.linalg.norm((p2 - p1)[good, 0], axis=1)))
            self._flow[key] = motion
        return self._flow[key]

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
        w0, h0 = ix.image_size
        if native is None:  # placeholder: square pixels in the bag's image (its fy/fx is the resize's aspect)
            return np.array([[W, 0, (W - 1) / 2], [0, w0 * H / h0, (H - 1) / 2], [0, 0, 1]], np.float32), False
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
