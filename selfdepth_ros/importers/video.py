"""A video file read with OpenCV (``cv2.VideoCapture``): frames → ``rgb8``, stamps from the frame rate.

The rate is ``--fps`` or the file's own; frame ``i`` of the file is at ``i / fps`` (``--every`` keeps that
timing). Intrinsics only from ``--fx --fy --cx --cy`` (source pixels); without them no CameraInfo is written
and training learns the intrinsics (001).
"""
from __future__ import annotations

from pathlib import Path

import cv2

from selfdepth_ros.importers.images import intrinsics_from_options
from selfdepth_ros.importers.source import Frame, ImportOptions, Source, SourceError, require_file

__all__ = ['VIDEO_EXTS', 'is_video', 'open_video']

VIDEO_EXTS = ('.mp4', '.m4v', '.mov', '.avi', '.mkv', '.webm', '.mpg', '.mpeg', '.wmv', '.flv', '.ts', '.mts')


def is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTS


def _capture(path: Path) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise SourceError(f'{path}: cannot open as a video (not a video file, or no OpenCV decoder for it)')
    return cap


def open_video(path: Path, opts: ImportOptions) -> Source:
    require_file(path, 'video file')
    if opts.calib or opts.depth or opts.poses:
        raise SourceError(f'{path}: video takes intrinsics only as --fx --fy --cx --cy (no --calib/--depth/--poses)')
    cap = _capture(path)
    try:
        file_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()
    fps = opts.fps or file_fps
    if not fps > 0:
        raise SourceError(f'{path}: the file has no frame rate; pass --fps')
    K = intrinsics_from_options(opts, size, str(path))
    every, limit = max(1, opts.every), opts.max_frames
    expected = None
    if count > 0:
        expected = (count + every - 1) // every
        expected = expected if limit is None else min(expected, limit)
    elif limit is not None:
        expected = limit
    notes = [f'{path}: {size[0]}×{size[1]}, {count if count > 0 else "unknown number of"} frames at '
             f'{file_fps:g} fps' + (f', stamped at {fps:g} fps' if fps != file_fps else ''),
             'intrinsics from --fx --fy --cx --cy' if K is not None
             else 'no intrinsics given: no /camera/camera_info (training learns them)']

    def frames():
        cap = _capture(path)
        kept = i = 0
        try:
            while limit is None or kept < limit:
                if i % every:
                    if not cap.grab():
                        break
                else:
                    ok, bgr = cap.read()
                    if not ok or bgr is None:
                        break
                    if (bgr.shape[1], bgr.shape[0]) != size:
                        raise SourceError(f'{path}: frame {i} is {bgr.shape[1]}×{bgr.shape[0]}, the video '
                                          f'{size[0]}×{size[1]}')
                    yield Frame(i, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 'rgb8')
                    kept += 1
                i += 1
        finally:
            cap.release()
        if kept == 0:
            raise SourceError(f'{path}: no frame could be decoded')

    return Source('video', path, frames, expected, K, fps, notes=notes)
