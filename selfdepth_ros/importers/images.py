"""A folder of frames (any format OpenCV reads), with optional intrinsics and ground-truth depth PNGs.

Intrinsics: ``--fx [--fy] [--cx --cy]`` (fy defaults to fx, the principal point to the image centre), else
``--calib FILE`` or a ``calib.txt`` in the folder (``K:`` line or a KITTI P row, ``calib.py``); none at all →
no CameraInfo (training then learns the intrinsics). Depth: ``--depth DIR`` (or ``depth/`` of the kitti-depth
layout) of uint16 PNGs, metres×256, 0 = no return → NaN, paired with the frames by file name.

The **kitti-depth layout** (``image/`` + ``depth/`` + ``calib.txt``, as ``shared/data/real/kitti_depth_snippet``)
holds independent samples, not a sequence: :attr:`Source.independent` is set so the recorder spaces the stamps
far apart (``--frame-gap``) and no training or evaluation pair ever spans two of them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from selfdepth_ros.importers.calib import check_K, read_intrinsics
from selfdepth_ros.importers.source import (IMAGE_EXTS, Frame, ImportOptions, Source, SourceError, iter_images,
                                            list_images, pair_by_stem, read_depth_png, read_image, require_dir,
                                            select_indices)

__all__ = ['is_kitti_depth_layout', 'has_images', 'intrinsics_from_options', 'open_images']


def has_images(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() and p.suffix.lower() in IMAGE_EXTS for p in folder.iterdir())


def is_kitti_depth_layout(folder: Path) -> bool:
    return has_images(folder / 'image') and (folder / 'depth').is_dir() and (folder / 'calib.txt').is_file()


def intrinsics_from_options(opts: ImportOptions, size: tuple[int, int], where: str) -> np.ndarray | None:
    """K from ``--fx --fy --cx --cy`` for an image of ``size`` (``None`` when no value was given)."""
    fx, fy, cx, cy = opts.intrinsics
    if fx is None and fy is None and cx is None and cy is None:
        return None
    if fx is None:
        raise SourceError(f'{where}: --fy/--cx/--cy need --fx as well')
    w, h = size
    K = np.array([[fx, 0.0, (w - 1) / 2 if cx is None else cx], [0.0, fx if fy is None else fy,
                                                                (h - 1) / 2 if cy is None else cy], [0, 0, 1.0]])
    return check_K(K, f'{where} (--fx --fy --cx --cy)')


def open_images(path: Path, opts: ImportOptions) -> Source:
    require_dir(path, 'image folder')
    layout = is_kitti_depth_layout(path)
    image_dir = path / 'image' if not has_images(path) and has_images(path / 'image') else path
    files = list_images(image_dir)
    first, _ = read_image(files[0])
    size = (first.shape[1], first.shape[0])
    notes = [f'{len(files)} frames in {image_dir}']
    K = intrinsics_from_options(opts, size, str(path))
    if len(opts.calib) > 1:
        raise SourceError(f'{opts.calib[1]}: the images format takes one --calib file')
    calib = opts.calib[0] if opts.calib else (path / 'calib.txt' if (path / 'calib.txt').is_file() else None)
    if K is not None:
        notes.append('intrinsics from --fx --fy --cx --cy' + (f' (not from {calib})' if calib else ''))
    elif calib is not None:
        K = read_intrinsics(calib)[0]
        notes.append(f'intrinsics from {calib}')
    else:
        notes.append('no intrinsics given: no /camera/camera_info (training learns them)')
    depth_dir = opts.depth or (path / 'depth' if layout else None)
    depths = None
    if depth_dir is not None:
        require_dir(depth_dir, 'depth folder')
        depths = pair_by_stem(files, depth_dir, '.png', 'depth PNG')
        notes.append(f'ground-truth depth from {depth_dir} (uint16 metres×256, 0 = none) → /gt/depth')
    indices = select_indices(len(files), opts.every, opts.max_frames)

    def frames():
        for i, img, enc in iter_images(files, indices):
            depth = None if depths is None else read_depth_png(depths[i], (img.shape[1], img.shape[0]))
            yield Frame(i, img, enc, depth=depth)

    return Source('images', path, frames, len(indices), K, opts.fps or 10.0, independent=layout, notes=notes)
