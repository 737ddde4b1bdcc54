"""Importers of real footage into rosbag2 (``selfdepth import``): the format registry and auto-detection.

Each format is one module returning a :class:`~selfdepth_ros.importers.source.Source` (frames, intrinsics,
ground truth); ``record.py`` writes any source with :class:`~selfdepth_ros.bag.writer.BagWriter` on the topics
of docs/CONVENTIONS.md; ``cli.py`` is the command line.

| format | detected from | module |
|---|---|---|
| ``kitti-raw`` | a folder with ``image_02/data/`` (or image_00..03) | ``kitti.py`` |
| ``kitti-odometry`` | a folder with ``image_0/``, ``image_l/`` or ``image_2/`` of PNGs | ``kitti.py`` |
| ``images`` | a folder of image files, or ``image/`` (+ ``depth/`` + ``calib.txt``: kitti-depth) | ``images.py`` |
| ``video`` | a file with a video extension (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, …) | ``video.py`` |
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from selfdepth_ros.importers import images, kitti, video
from selfdepth_ros.importers.source import ImportOptions, Source, SourceError

__all__ = ['FORMATS', 'Format', 'detect', 'open_source', 'ImportOptions', 'Source', 'SourceError']


class Format(NamedTuple):
    open: Callable[[Path, ImportOptions], Source]
    detect: Callable[[Path], bool]
    help: str


FORMATS: dict[str, Format] = {
    'kitti-raw': Format(kitti.open_kitti_raw, lambda p: p.is_dir() and kitti.find_raw_camera(p) is not None,
                        'KITTI raw drive folder (image_02/data, timestamps, velodyne_points, oxts) + --calib'),
    'kitti-odometry': Format(kitti.open_kitti_odometry,
                             lambda p: p.is_dir() and kitti.find_odometry_images(p) is not None,
                             'KITTI odometry sequence (image_0|image_l|image_2, calib.txt, poses.txt, times.txt)'),
    'images': Format(images.open_images, lambda p: images.has_images(p) or images.has_images(p / 'image'),
                     'a folder of frames (+ intrinsics, + --depth DIR of uint16 PNGs)'),
    'video': Format(video.open_video, video.is_video, 'a video file read by OpenCV'),
}
"""Formats in detection order (the first whose ``detect`` accepts the path wins)."""


def detect(path: Path) -> str:
    """The format of ``path``; a :class:`SourceError` when it is missing or nothing matches."""
    if not path.exists():
        raise SourceError(f'{path}: no such file or folder')
    for name, fmt in FORMATS.items():
        if fmt.detect(path):
            return name
    what = 'file' if path.is_file() else 'folder'
    raise SourceError(f'{path}: cannot detect the format of this {what}; pass --format ({", ".join(FORMATS)})')


def open_source(path: str | Path, fmt: str | None = None, opts: ImportOptions = ImportOptions()) -> Source:
    """Open ``path`` as format ``fmt`` (``None`` = detect)."""
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise SourceError(f'unknown format {fmt!r} for {path}; known: {", ".join(FORMATS)}')
    if not path.exists():
        raise SourceError(f'{path}: no such file or folder')
    return FORMATS[fmt or detect(path)].open(path, opts)
