"""Frame index of one bag: the image frames, paired by stamp with CameraInfo and optional ground truth.

One pass over the image/CameraInfo/ground-truth topics records stamps and receive times (no pixel is decoded
for raw images); frames are then loaded one at a time by receive time (``rosbags`` reads that range only).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.samples import IMAGE_TYPES, ImageSample, header_stamp
from selfdepth_ros.image_codec import ENCODINGS

__all__ = ['GroundTruthTopics', 'FrameIndex', 'GT_IMAGE_STREAMS']

GT_IMAGE_STREAMS = ('depth', 'motion', 'moving_mask', 'semantic')


@dataclass(frozen=True)
class GroundTruthTopics:
    """Topic names of the optional ground truth (``None`` disables one); defaults: docs/CONVENTIONS.md."""
    depth: str | None = '/gt/depth'
    odom: str | None = '/gt/odom'
    motion: str | None = '/gt/motion'
    moving_mask: str | None = '/gt/moving_mask'
    semantic: str | None = '/gt/semantic'


def _image_check(msgtype: str, msg: Any) -> tuple[int, int] | None | str:
    """(width, height) of a raw Image, ``None`` for a compressed one; a string names why it is corrupt.

    Raises ``KeyError`` for an unsupported encoding (a topic-level error, not a corrupt message)."""
    if msgtype == m.COMPRESSED_IMAGE:
        # a 1/8-scale decode validates the stream at a fraction of the full decode cost
        ok = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8) is not None
        return None if ok else f'compressed data (format {msg.format!r}) does not decode'
    enc = ENCODINGS[msg.encoding]
    row = msg.width * enc.channels * enc.dtype.itemsize
    if msg.step < row or len(msg.data) != msg.step * msg.height:
        return f'data {len(msg.data)} bytes inconsistent with step {msg.step} × height {msg.height}'
    return int(msg.width), int(msg.height)


class FrameIndex:
    """The image frames of one bag with intrinsics and ground truth paired by header stamp.

    Args:
        path: bag directory or ``.mcap`` file (see :class:`BagReader`; a truncated MCAP is salvaged).
        image_topic: ``sensor_msgs/Image`` or ``CompressedImage`` topic.
        camera_info_topic: CameraInfo topic or ``None``; when absent from the bag, ``K`` is ``None``.
        gt_topics: ground-truth topic names; those not in the bag are simply unavailable.
        tolerance_ns: largest stamp difference for pairing an image with a ground-truth message.
        stamp_policy: ``'error'`` (image stamps out of order or duplicated → :class:`BagError`), ``'sort'``
            (sort, drop duplicates keeping the first, warn) or ``'drop'`` (keep the longest strictly increasing
            run of stamps in receive order, drop the other frames and count them in ``skip_reasons``: one
            corrupt stamp costs one frame, not the order of the rest).

    Attributes:
        stamps_ns: ``N`` int64 header stamps of the frames, strictly increasing.
        image_size: ``(width, height)`` of the images.
        K: ``N×3×3`` float64 intrinsics per frame (nearest CameraInfo) or ``None``.
        gt_available: names (of :class:`GroundTruthTopics`) whose topic is in the bag.
        skipped: corrupt messages skipped per topic.
        skip_reasons: image frames left out at indexing, ``reason → count`` (corrupt images, and with
            ``stamp_policy='drop'`` duplicated / non-monotonic stamps).
    """

    def __init__(self, path: str | Path, image_topic: str = '/camera/image_raw',
                 camera_info_topic: str | None = '/camera/camera_info',
                 gt_topics: GroundTruthTopics = GroundTruthTopics(), *, tolerance_ns: int = 1_000_000,
                 stamp_policy: str = 'error', salvage: bool = True) -> None:
        if stamp_policy not in ('error', 'sort', 'drop'):
            raise ValueError(f"stamp_policy must be 'error', 'sort' or 'drop', got {stamp_policy!r}")
        self.skip_reasons: dict[str, int] = {}
        self.path, self.image_topic, self.camera_info_topic = Path(path), image_topic, camera_info_topic
        self.gt_topics, self.tolerance_ns, self._salvage = gt_topics, int(tolerance_ns), salvage
        self._reader: BagReader | None = None
        bag = self.reader
        bag.require(image_topic, IMAGE_TYPES)
        self._index_images(bag, stamp_policy)
        self.K = self._index_camera_info(bag)
        self._gt_log: dict[str, np.ndarray] = {}
        self.pose_gt: np.ndarray | None = None
        for name, topic in asdict(gt_topics).items():
            if topic is not None and topic in bag.topics:
                self._index_gt(bag, name, topic)
        self.gt_available = tuple(sorted(self._gt_log) + (['odom'] if self.pose_gt is not None else []))

    # -- indexing ------------------------------------------------------------------------------------------
    def _where(self, topic: str) -> str:
        return f'bag {self.path}, topic {topic}'

    def _index_images(self, bag: BagReader, stamp_policy: str) -> None:
        stamps, logs, size = [], [], None
        for raw in bag.messages(self.image_topic):
            try:
                check = _image_check(raw.msgtype, raw.msg)
            except KeyError:
                raise BagError(f'{self._where(self.image_topic)}: unsupported image encoding {raw.msg.encoding!r}; '
                               f'supported: {sorted(ENCODINGS)}') from None
            if isinstance(check, str):
                bag.count_skipped(self.image_topic, check)
                self._count_skip(f'corrupt image on {self.image_topic}')
                continue
            if check is None and size is None:  # compressed: the first frame gives the size
                check = bag_sample_size(bag, self.image_topic, raw.log_time_ns)
            if check is not None and size is not None and check != size:
                raise BagError(f'{self._where(self.image_topic)}: image size changes from {size[0]}×{size[1]} to '
                               f'{check[0]}×{check[1]} at receive time {raw.log_time_ns} ns')
            size = size or check
            stamps.append(header_stamp(raw.msg, raw.log_time_ns)[0])
            logs.append(raw.log_time_ns)
        if not stamps:
            raise BagError(f'{self._where(self.image_topic)}: no readable image message')
        stamps, logs = np.asarray(stamps, np.int64), np.asarray(logs, np.int64)
        steps = np.diff(stamps)
        if np.any(steps <= 0):
            i = int(np.argmax(steps <= 0))
            what = 'duplicated' if steps[i] == 0 else 'out of order'
            msg = (f'{self._where(self.image_topic)}: header stamps {what} (frame {i + 1}: {stamps[i + 1]} ns after '
                   f'{stamps[i]} ns; {int(np.sum(steps == 0))} duplicated, {int(np.sum(steps < 0))} out of order)')
            if stamp_policy == 'error':
                raise BagError(msg + "; pass stamp_policy='sort' to sort them and drop duplicates")
            if stamp_policy == 'drop':
                keep = _longest_increasing(stamps)
                dup = int(np.sum(np.isin(stamps[~keep], stamps[keep])))
                self._count_skip('duplicated stamps', dup)
                self._count_skip('non-monotonic stamps', int(np.sum(~keep)) - dup)
                self.stamps_ns, self._image_log, self.image_size = stamps[keep], logs[keep], size
                warnings.warn(msg + f'; {int(np.sum(~keep))} frames dropped (longest increasing run kept)',
                              UserWarning, stacklevel=3)
                return
            order = np.argsort(stamps, kind='stable')
            stamps, logs = stamps[order], logs[order]
            keep = np.concatenate([[True], np.diff(stamps) > 0])
            stamps, logs = stamps[keep], logs[keep]
            warnings.warn(msg + f'; sorted, {int(np.sum(~keep))} duplicates dropped', UserWarning, stacklevel=3)
        self.stamps_ns, self._image_log = stamps, logs
        self.image_size: tuple[int, int] = size

    def _count_skip(self, reason: str, n: int = 1) -> None:
        if n > 0:
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + n

    def _index_camera_info(self, bag: BagReader) -> np.ndarray | None:
        topic = self.camera_info_topic
        if topic is None or topic not in bag.topics:
            return None
        bag.require(topic, [m.CAMERA_INFO])
        infos = list(bag.samples(topic))
        if not infos:
            why = bag.first_skip_reason.get(topic)
            raise BagError(f'{self._where(topic)}: no readable CameraInfo message' + (
                f' ({bag.skipped[topic]} refused, the first: {why})' if why else ''))
        for info in infos:
            if info.size != self.image_size:
                raise BagError(f'{self._where(topic)}: CameraInfo of another size ({info.width}×{info.height}) than '
                               f'the images on {self.image_topic} ({self.image_size[0]}×{self.image_size[1]})')
        order = np.argsort([i.stamp_ns for i in infos], kind='stable')
        stamps = np.asarray([infos[j].stamp_ns for j in order], np.int64)
        Ks = np.stack([infos[j].K for j in order])
        return Ks[self._nearest(stamps, self.stamps_ns)[0]]

    @staticmethod
    def _nearest(stamps: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index into sorted ``stamps`` of the nearest stamp to each query, and the absolute difference."""
        hi = np.clip(np.searchsorted(stamps, query), 1, len(stamps) - 1) if len(stamps) > 1 else np.zeros_like(query)
        lo = np.maximum(hi - 1, 0)
        pick = np.where(np.abs(stamps[lo] - query) <= np.abs(stamps[hi] - query), lo, hi)
        return pick, np.abs(stamps[pick] - query)

    def _index_gt(self, bag: BagReader, name: str, topic: str) -> None:
        if name == 'odom':
            bag.require(topic, [m.ODOMETRY])
            odo = sorted(bag.samples(topic), key=lambda s: s.stamp_ns)
            if not odo:
                return
            pick, diff = self._nearest(np.asarray([s.stamp_ns for s in odo], np.int64), self.stamps_ns)
            poses = np.stack([odo[j].T for j in pick])
            poses[diff > self.tolerance_ns] = np.nan
            self.pose_gt = poses
            return
        bag.require(topic, [m.IMAGE])
        stamps, logs = [], []
        for raw in bag.messages(topic):
            check = _image_check(raw.msgtype, raw.msg) if raw.msg.encoding in ENCODINGS else 'unsupported encoding'
            if isinstance(check, str) or check != self.image_size:
                bag.count_skipped(topic, check if isinstance(check, str) else f'size {check} differs from the images')
                continue
            stamps.append(header_stamp(raw.msg, raw.log_time_ns)[0])
            logs.append(raw.log_time_ns)
        if not stamps:
            return
        order = np.argsort(stamps, kind='stable')
        stamps, logs = np.asarray(stamps, np.int64)[order], np.asarray(logs, np.int64)[order]
        pick, diff = self._nearest(stamps, self.stamps_ns)
        self._gt_log[name] = np.where(diff <= self.tolerance_ns, logs[pick], -1)

    # -- access --------------------------------------------------------------------------------------------
    @property
    def reader(self) -> BagReader:
        """The open :class:`BagReader` (re-opened lazily, e.g. in a DataLoader worker)."""
        if self._reader is None:
            with warnings.catch_warnings():
                if hasattr(self, 'stamps_ns'):  # re-opening: the salvage warning was given at indexing
                    warnings.simplefilter('ignore', UserWarning)
                self._reader = BagReader(self.path, salvage=self._salvage)
        return self._reader

    @property
    def skipped(self) -> dict[str, int]:
        return dict(self.reader.skipped)

    def __len__(self) -> int:
        return len(self.stamps_ns)

    def has_gt(self, name: str, i: int) -> bool:
        """Whether frame ``i`` has a paired ground-truth message of stream ``name``."""
        if name == 'odom':
            return self.pose_gt is not None and bool(np.all(np.isfinite(self.pose_gt[i])))
        return name in self._gt_log and self._gt_log[name][i] >= 0

    def _load(self, topic: str, log_time_ns: int) -> ImageSample:
        for sample in self.reader.samples(topic, start_ns=int(log_time_ns), stop_ns=int(log_time_ns) + 1):
            return sample
        raise BagError(f'{self._where(topic)}: message at receive time {log_time_ns} ns vanished or is corrupt')

    def image(self, i: int) -> np.ndarray:
        """Frame ``i`` as ``H×W×3`` uint8 RGB."""
        return self._load(self.image_topic, self._image_log[i]).rgb8()

    def gt(self, name: str, i: int) -> np.ndarray | None:
        """Ground truth of frame ``i``: depth ``H×W`` float32 m, motion ``H×W×3`` float32, moving_mask/semantic
        ``H×W`` uint8, odom ``4×4`` float64 ``T_odom_cam``; ``None`` when unpaired."""
        if not self.has_gt(name, i):
            return None
        if name == 'odom':
            return self.pose_gt[i]
        return self._load(getattr(self.gt_topics, name), self._gt_log[name][i]).image

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_reader'] = None  # an open bag does not pickle; each DataLoader worker opens its own
        return state


def _longest_increasing(values: np.ndarray) -> np.ndarray:
    """Boolean mask of one longest strictly increasing subsequence of ``values`` (patience sorting)."""
    import bisect
    tails: list[int] = []       # tails[k]: index of the smallest last value of an increasing run of length k+1
    tail_values: list[int] = []
    parent = np.full(len(values), -1, np.int64)
    for i, v in enumerate(values.tolist()):
        k = bisect.bisect_left(tail_values, v)
        if k > 0:
            parent[i] = tails[k - 1]
        if k == len(tails):
            tails.append(i)
            tail_values.append(v)
        else:
            tails[k], tail_values[k] = i, v
    keep = np.zeros(len(values), bool)
    i = tails[-1] if tails else -1
    while i >= 0:
        keep[i] = True
        i = int(parent[i])
    return keep


def bag_sample_size(bag: BagReader, topic: str, log_time_ns: int) -> tuple[int, int] | None:
    """(width, height) of the decoded image at ``log_time_ns`` (used for compressed images)."""
    for sample in bag.samples(topic, start_ns=log_time_ns, stop_ns=log_time_ns + 1):
        if isinstance(sample, ImageSample):
            return sample.size
    return None

