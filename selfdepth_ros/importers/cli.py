"""``selfdepth import SOURCE --out BAG``: write a rosbag2 from KITTI folders, an image folder or a video.

Topics (docs/CONVENTIONS.md): /camera/image_raw, /camera/camera_info (when intrinsics are known), /gt/depth and
/gt/odom (when the source has them). The format is detected from SOURCE unless --format is given.
"""
from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.writer import STORAGES
from selfdepth_ros.importers import FORMATS, ImportOptions, SourceError, detect, open_source
from selfdepth_ros.importers.record import DEFAULT_FRAME_GAP_S, DEFAULT_START_NS, RecordOptions, record_source

__all__ = ['build_parser', 'main']

PROG = 'selfdepth import'


def build_parser() -> argparse.ArgumentParser:
    formats = '\n'.join(f'  {name:<15} {fmt.help}' for name, fmt in FORMATS.items())
    p = argparse.ArgumentParser(prog=PROG, description=__doc__ + '\nformats:\n' + formats,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('source', help='folder or video file to import')
    p.add_argument('--out', required=True, help='bag directory to create (must not exist)')
    p.add_argument('--format', help=f'one of {", ".join(FORMATS)} (default: detect)')
    p.add_argument('--storage', default='mcap', help='rosbag2 storage: mcap (default) or sqlite3')
    p.add_argument('--frame-id', default='camera_optical_frame', help='header.frame_id (default camera_optical_frame)')
    p.add_argument('--fps', type=float, help='source frame rate for stamps (default: the video\'s rate, else 10; '
                                             'KITTI times.txt / timestamps.txt win when present)')
    p.add_argument('--start', help=f'stamp of the first frame in seconds, e.g. 0 or 1317000000.5 (default '
                                   f'{DEFAULT_START_NS // 10**9}; KITTI raw: its own timestamps)')
    p.add_argument('--calib', nargs='+', type=Path, metavar='PATH',
                   help='calibration: a K:/P-row file (images, kitti-odometry) or the folder/files with '
                        'calib_cam_to_cam.txt and calib_velo_to_cam.txt (kitti-raw; default: the drive\'s parent)')
    for name in ('fx', 'fy', 'cx', 'cy'):
        p.add_argument(f'--{name}', type=float, help=f'intrinsics {name} in source pixels (images, video)')
    p.add_argument('--depth', type=Path, metavar='DIR', help='folder of uint16 depth PNGs, metres×256, 0 = none')
    p.add_argument('--poses', type=Path, metavar='FILE', help='KITTI poses file (default: poses.txt in the folder)')
    p.add_argument('--every', type=int, default=1, metavar='N', help='keep every N-th frame (default 1)')
    p.add_argument('--max-frames', type=int, metavar='N', help='write at most N frames')
    p.add_argument('--resize', metavar='WxH', help='resize images (intrinsics scaled, depth nearest-neighbour)')
    p.add_argument('--independent-frames', action=argparse.BooleanOptionalAction, default=None,
                   help='frames are separate samples, not a sequence: stamps --frame-gap apart so no pair spans '
                        'two (default: on for the kitti-depth layout image/ + depth/ + calib.txt, else off)')
    p.add_argument('--frame-gap', type=float, default=DEFAULT_FRAME_GAP_S, metavar='S',
                   help=f'stamp spacing of independent frames in seconds (default {DEFAULT_FRAME_GAP_S:g})')
    p.add_argument('--quiet', action='store_true', help='no progress bar and notes')
    return p


def _start_ns(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(Decimal(text) * 10**9)
    except (InvalidOperation, ValueError, OverflowError):
        raise SourceError(f'--start {text!r}: not a number of seconds') from None
    if value < 0:
        raise SourceError(f'--start {text!r}: must be >= 0')
    return value


def _resize(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    w, sep, h = text.lower().partition('x')
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise SourceError(f'--resize {text!r}: expected WIDTHxHEIGHT, e.g. 640x192')
    return int(w), int(h)


def _check(args: argparse.Namespace) -> None:
    if args.format is not None and args.format not in FORMATS:
        raise SourceError(f'unknown --format {args.format!r}; known: {", ".join(FORMATS)}')
    if args.storage not in STORAGES:
        raise SourceError(f'unknown --storage {args.storage!r}; known: {", ".join(STORAGES)}')
    if args.every < 1:
        raise SourceError(f'--every {args.every}: must be >= 1')
    if args.max_frames is not None and args.max_frames < 1:
        raise SourceError(f'--max-frames {args.max_frames}: must be >= 1')
    if args.fps is not None and not args.fps > 0:
        raise SourceError(f'--fps {args.fps}: must be > 0')
    if not args.frame_gap > 0:
        raise SourceError(f'--frame-gap {args.frame_gap}: must be > 0')
    if not args.frame_id:
        raise SourceError('--frame-id must not be empty')
    _start_ns(args.start), _resize(args.resize)  # refuse a bad value before reading anything


def run(args: argparse.Namespace) -> int:
    _check(args)
    source_path, out = Path(args.source), Path(args.out)
    if not source_path.exists():
        raise SourceError(f'{source_path}: no such file or folder')
    if out.exists() or out.is_symlink():
        raise SourceError(f'{out}: exists already; selfdepth import never overwrites, choose a new --out')
    fmt = args.format or detect(source_path)
    # FFmpeg's own log lines (a damaged video) would bury the one-line error; frame counts are checked below.
    os.environ.setdefault('OPENCV_FFMPEG_LOGLEVEL', '-8')
    opts = ImportOptions(calib=tuple(args.calib or ()), intrinsics=(args.fx, args.fy, args.cx, args.cy),
                         depth=args.depth, poses=args.poses, every=args.every, max_frames=args.max_frames,
                         fps=args.fps)
    source = open_source(source_path, fmt, opts)
    independent = args.independent_frames
    if independent is None:
        independent = source.independent
        if independent and not args.quiet:
            print(f'note: {source_path} has the kitti-depth layout (image/ + depth/ + calib.txt): its frames are '
                  f'independent samples, stamped {args.frame_gap:g} s apart so that no frame pair spans two '
                  '(--no-independent-frames to treat them as a sequence)', file=sys.stderr)
    if not args.quiet:
        print(f'{fmt}: ' + '; '.join(source.notes), file=sys.stderr)
    rec = RecordOptions(storage=args.storage, frame_id=args.frame_id, start_ns=_start_ns(args.start),
                        resize=_resize(args.resize), independent=independent, frame_gap_s=args.frame_gap,
                        progress=not args.quiet)
    counts = record_source(source, out, rec)
    frames = counts.get('/camera/image_raw', 0)
    topics = ', '.join(f'{t} ({n})' for t, n in counts.items())
    print(f'wrote {out} ({args.storage}, {fmt}): {frames} frames; {topics}')
    if source.count is not None and frames < source.count:
        print(f'warning: {source_path}: only {frames} of the expected {source.count} frames could be read '
              '(truncated or damaged file?)', file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (SourceError, BagError, OSError) as exc:
        message = str(exc).replace('\n', ' ')
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f'{exc.filename}: {message}'
        print(f'{PROG}: error: {message}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
