"""What every importer returns (a :class:`Source` of :class:`Frame` s) and the file helpers they share.

A source knows its frames, intrinsics and ground truth; it knows nothing about bags. Stamps are left to the
recorder (``record.py``) unless the source has a timestamps file (``Frame.time_ns``).
Every problem with the input is a :class:`SourceError` whose one-line message names the file.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

__all__ = ['SourceError', 'ImportOptions', 'Frame', 'Source', 'IMAGE_EXTS', 'list_images', 'select_indices',
           'read_image', 'iter_images', 'read_depth_png', 'match_encoding', 'read_matrix_rows', 'require_file',
           'require_dir', 'pair_by_stem']

IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.ppm', '.pgm', '.webp')


class SourceError(ValueError):
    """The source cannot be imported as asked; the message is one line and names the file."""


@dataclass(frozen=True)
class ImportOptions:
    """The format-independent options of ``selfdepth import`` (see ``cli.py`` for their flags)."""
    calib: tuple[Path, ...] = ()
    """``--calib``: a calibration file (images, kitti-odometry) or folder/files (kitti-raw)."""
    intrinsics: tuple[float | None, float | None, float | None, float | None] = (None, None, None, None)
    """``--fx --fy --cx --cy`` in source pixels (``None`` = not given)."""
    depth: Path | None = None
    """``--depth``: a folder of uint16 depth PNGs (images)."""
    poses: Path | None = None
    """``--poses``: a KITTI poses file (kitti-odometry; default ``poses.txt`` in the folder)."""
    every: int = 1
    """Keep every N-th source frame."""
    max_frames: int | None = None
    """Stop after this many kept frames."""
    fps: float | None = None
    """``--fps`` as given (``None`` = not given; video then uses the file's rate)."""


@dataclass
class Frame:
    """One frame to write. ``image`` is ``H×W×3`` uint8 (``rgb8``) or ``H×W`` uint8/uint16 (``mono8``/``mono16``)."""
    index: int
    """Index in the source (before ``--every``): stamps without a timestamps file are ``index / fps``."""
    image: np.ndarray
    encoding: str
    depth: np.ndarray | None = None
    """``H×W`` float32 metres, NaN where there is no ground truth."""
    pose: np.ndarray | None = None
    """4×4 ``T_odom_cam``."""
    time_ns: int | None = None
    """Time from a timestamps file (absolute or relative, see :attr:`Source.absolute_times`)."""


@dataclass
class Source:
    """An importable recording: ``frames()`` yields the selected frames in order."""
    format: str
    path: Path
    frames: Callable[[], Iterator[Frame]]
    count: int | None
    """Number of frames ``frames()`` yields (``None`` when unknown, e.g. a video without a frame count)."""
    K: np.ndarray | None
    """3×3 intrinsics of the source images (pixels), ``None`` = unknown (no CameraInfo is written)."""
    fps: float
    """Source frame rate used for stamps when there is no timestamps file."""
    absolute_times: bool = False
    """``Frame.time_ns`` are epoch times (KITTI raw) rather than offsets from the first frame (``times.txt``)."""
    independent: bool = False
    """The frames are separate samples, not a sequence (auto-detected kitti-depth layout)."""
    notes: list[str] = field(default_factory=list)
    """Lines printed before writing (what was found and used)."""


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SourceError(f'{path}: {what} not found' if not path.exists()
                          else f'{path}: is a file, expected a folder ({what})')
    return path


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise SourceError(f'{path}: {what} not found' if not path.exists()
                          else f'{path}: is a folder, expected a file ({what})')
    return path


def list_images(folder: Path, exts: tuple[str, ...] = IMAGE_EXTS) -> list[Path]:
    """The image files of ``folder`` sorted by name (hidden files skipped); an empty folder is an error."""
    require_dir(folder, 'image folder')
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts
                   and not p.name.startswith('.'))
    if not files:
        raise SourceError(f'{folder}: no image files ({", ".join(exts)}) in this folder')
    return files


def select_indices(n: int, every: int, max_frames: int | None) -> list[int]:
    """Source indices kept by ``--every`` and ``--max-frames``."""
    keep = list(range(0, n, max(1, every)))
    return keep if max_frames is None else keep[:max_frames]


def read_image(path: Path) -> tuple[np.ndarray, str]:
    """Decode an image file to ``(array, encoding)``: colour → ``rgb8``, grey → ``mono8`` (16-bit: ``mono16``)."""
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if img is None:
        raise SourceError(f'{path}: unreadable image (not a PNG/JPEG/... file OpenCV can decode)')
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        if img.dtype == np.uint16:
            return img, 'mono16'
        if img.dtype != np.uint8:
            raise SourceError(f'{path}: unsupported grey image type {img.dtype}')
        return img, 'mono8'
    if img.dtype == np.uint16:
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if img.dtype != np.uint8:
        raise SourceError(f'{path}: unsupported colour image type {img.dtype}')
    code = cv2.COLOR_BGRA2RGB if img.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(img, code), 'rgb8'


def match_encoding(img: np.ndarray, encoding: str, want: str, path: Path) -> np.ndarray:
    """Convert a frame to the encoding of the first frame (a bag topic keeps one encoding)."""
    if encoding == want:
        return img
    if encoding == 'mono16':
        img, encoding = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8), 'mono8'
    if want == 'rgb8' and encoding == 'mono8':
        return np.repeat(img[:, :, None], 3, axis=2)
    if want == 'mono8' and encoding == 'rgb8':
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if want == encoding:
        return img
    raise SourceError(f'{path}: a {encoding} image among {want} frames')


def iter_images(files: list[Path], indices: list[int]) -> Iterator[tuple[int, np.ndarray, str]]:
    """``(index, image, encoding)`` of ``files[i]`` for ``i`` in ``indices``; every frame gets the first frame's
    size (else an error naming the file) and encoding (converted)."""
    size = want = None
    for i in indices:
        img, enc = read_image(files[i])
        if size is None:
            size, want = img.shape[:2], enc
        elif img.shape[:2] != size:
            raise SourceError(f'{files[i]}: image is {img.shape[1]}×{img.shape[0]} but the first frame '
                              f'({files[indices[0]].name}) is {size[1]}×{size[0]}')
        yield i, match_encoding(img, enc, want, files[i]), want


def pair_by_stem(images: list[Path], folder: Path, suffix: str, what: str) -> list[Path]:
    """The ``*{suffix}`` files of ``folder`` paired with ``images`` by file stem; a missing or extra file is an
    error naming it."""
    others = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == suffix)
    by_stem = {p.stem: p for p in others}
    for img in images:
        if img.stem not in by_stem:
            raise SourceError(f'{folder / (img.stem + suffix)}: {what} missing for frame {img.name} '
                              f'({len(others)} {what} files for {len(images)} frames)')
    extra = sorted(set(by_stem) - {p.stem for p in images})
    if extra:
        raise SourceError(f'{by_stem[extra[0]]}: {what} without a frame ({len(others)} {what} files for '
                          f'{len(images)} frames)')
    return [by_stem[p.stem] for p in images]


def read_depth_png(path: Path, size: tuple[int, int]) -> np.ndarray:
    """A KITTI-style depth PNG (uint16, metres×256, 0 = no return) → ``H×W`` float32 metres, NaN = none."""
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    raw = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data is not None and data.size else None
    if raw is None:
        raise SourceError(f'{path}: unreadable depth image')
    if raw.ndim != 2 or raw.dtype != np.uint16:
        raise SourceError(f'{path}: depth PNG must be one-channel uint16 (metres×256), got '
                          f'{raw.shape[2] if raw.ndim == 3 else 1} channel(s) of {raw.dtype}')
    if (raw.shape[1], raw.shape[0]) != tuple(size):
        raise SourceError(f'{path}: depth is {raw.shape[1]}×{raw.shape[0]} but its image is {size[0]}×{size[1]}')
    depth = raw.astype(np.float32) / np.float32(256.0)
    depth[raw == 0] = np.nan
    return depth


def read_matrix_rows(path: Path, width: int, what: str) -> np.ndarray:
    """A text file of one ``width``-number row per non-empty line (KITTI poses) → ``N×width`` float64."""
    require_file(path, what)
    rows = []
    for lineno, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise SourceError(f'{path}:{lineno}: {what}: not a row of numbers') from None
        if len(values) != width:
            raise SourceError(f'{path}:{lineno}: {what}: expected {width} numbers per line, got {len(values)}')
        rows.append(values)
    if not rows:
        raise SourceError(f'{path}: {what} is empty')
    return np.asarray(rows, dtype=np.float64)
