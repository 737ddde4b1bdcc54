"""Write a :class:`~selfdepth_ros.importers.source.Source` as a rosbag2 on the topics of docs/CONVENTIONS.md.

Per frame, all with one ``header.stamp`` (= bag receive time) and frame id ``frame_id``:
``/camera/image_raw`` (``rgb8``/``mono8``/``mono16`` as the source), ``/camera/camera_info`` (when the source
has intrinsics), ``/gt/depth`` (``32FC1`` metres, NaN = none) and ``/gt/odom`` (``T_odom_cam``, frame ``odom``)
when the source has them.

Stamps, in this order of precedence:
1. independent frames: ``start + k·gap`` (k = written frame), so no frame pair (max gap 0.5 s) spans two samples;
2. a timestamps file: its times, shifted to ``start`` when ``start`` is given (KITTI raw keeps its epoch times
   otherwise, ``times.txt`` offsets start at :data:`DEFAULT_START_NS`);
3. ``start + round(i·1e9 / fps)`` with ``i`` the source frame index.

The output never overwrites anything; when writing fails midway, the partial bag (which this call created) is
removed. ``metadata.yaml`` ``custom_data`` records the source, its format and ``selfdepth.independent_frames``.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros.importers.calib import scale_K
from selfdepth_ros.importers.source import Frame, Source, SourceError

__all__ = ['DEFAULT_START_NS', 'DEFAULT_FRAME_GAP_S', 'RecordOptions', 'record_source', 'TOPICS']

DEFAULT_START_NS = 1_700_000_000_000_000_000
"""Default stamp of the first frame (the epoch ``selfdepth simulate`` uses; 0 reads as "unset" in ROS)."""
DEFAULT_FRAME_GAP_S = 10.0
"""Spacing of independent frames: far beyond the 0.5 s pairing gap of training, evaluation and the node."""
TOPICS = {'image': '/camera/image_raw', 'camera_info': '/camera/camera_info', 'depth': '/gt/depth',
          'odom': '/gt/odom'}
ODOM_FRAME = 'odom'


@dataclass(frozen=True)
class RecordOptions:
    storage: str = 'mcap'
    frame_id: str = 'camera_optical_frame'
    start_ns: int | None = None
    """Stamp of the first frame; ``None`` = :data:`DEFAULT_START_NS` (or KITTI raw's own epoch times)."""
    resize: tuple[int, int] | None = None
    """``(width, height)`` of the written images; intrinsics are scaled, depth is resized nearest-neighbour."""
    independent: bool = False
    frame_gap_s: float = DEFAULT_FRAME_GAP_S
    progress: bool = True


class _Stamper:
    def __init__(self, source: Source, opts: RecordOptions) -> None:
        self.source, self.opts = source, opts
        self.first_time: int | None = None
        self.last: int | None = None

    def __call__(self, k: int, frame: Frame) -> int:
        start = DEFAULT_START_NS if self.opts.start_ns is None else self.opts.start_ns
        if self.opts.independent:
            stamp = start + int(round(k * self.opts.frame_gap_s * 1e9))
        elif frame.time_ns is not None:
            if self.first_time is None:
                self.first_time = frame.time_ns
            if self.source.absolute_times and self.opts.start_ns is None:
                stamp = frame.time_ns
            else:
                stamp = start + frame.time_ns - self.first_time
        else:
            stamp = start + int(round(frame.index * 1e9 / self.source.fps))
        if stamp < 0 or (self.last is not None and stamp <= self.last):
            raise SourceError(f'{self.source.path}: frame {frame.index} gets stamp {stamp} ns, not after the previous '
                              f'{self.last} ns (check --start/--fps)')
        self.last = stamp
        return stamp


def _resize(frame: Frame, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    h, w = frame.image.shape[:2]
    shrink = size[0] * size[1] < w * h
    img = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    depth = None if frame.depth is None else cv2.resize(frame.depth, size, interpolation=cv2.INTER_NEAREST)
    return img, depth


def record_source(source: Source, out: str | Path, opts: RecordOptions = RecordOptions()) -> dict[str, int]:
    """Write ``source`` into the new bag directory ``out``; returns messages per topic."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise SourceError(f'{out}: exists already; selfdepth import never overwrites, choose a new --out')
    from tqdm import tqdm

    stamper = _Stamper(source, opts)
    K = None
    bar = tqdm(total=source.count, desc=f'importing {out.name}', unit='frame', disable=not opts.progress)
    try:
        with BagWriter(out, storage=opts.storage) as writer:
            writer.set_custom_data('selfdepth.import.format', source.format)
            writer.set_custom_data('selfdepth.import.source', str(Path(source.path).resolve()))
            writer.set_custom_data('selfdepth.independent_frames', 'true' if opts.independent else 'false')
            size = None
            for k, frame in enumerate(source.frames()):
                img, depth = frame.image, frame.depth
                if size is None:
                    size = (img.shape[1], img.shape[0])
                    K = source.K
                    if opts.resize is not None and K is not None:
                        K = scale_K(K, opts.resize[0] / size[0], opts.resize[1] / size[1])
                if opts.resize is not None:
                    img, depth = _resize(frame, opts.resize)
                stamp = stamper(k, frame)
                writer.write_image(TOPICS['image'], img, frame.encoding, stamp, opts.frame_id)
                if K is not None:
                    writer.write_camera_info(TOPICS['camera_info'], K, img.shape[1], img.shape[0], stamp,
                                             opts.frame_id)
                if depth is not None:
                    writer.write_image(TOPICS['depth'], depth.astype(np.float32), '32FC1', stamp, opts.frame_id)
                if frame.pose is not None:
                    writer.write_odometry(TOPICS['odom'], frame.pose, stamp, ODOM_FRAME, opts.frame_id)
                bar.update(1)
            if size is None:
                raise SourceError(f'{source.path}: no frames to import (check --every/--max-frames)')
            return dict(writer.counts)
    except BaseException:
        # `out` did not exist before this call: whatever is there now is our partial bag.
        if out.is_dir():
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        bar.close()  # ends the bar's line before any error message
