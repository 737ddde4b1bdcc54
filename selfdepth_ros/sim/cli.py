"""``selfdepth simulate``: render a synthetic drive with exact ground truth into a rosbag2."""
from __future__ import annotations

import argparse
import re
import sys

from selfdepth_ros.sim.config import MIN_HEIGHT, MIN_WIDTH, SimConfig
from selfdepth_ros.sim.record import STORAGES, TOPICS, record_drive


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='selfdepth simulate', description=__doc__ + '\n\ntopics: ' + ', '.join(TOPICS))
    p.add_argument('--out', required=True, help='bag directory to create (must not exist)')
    p.add_argument('--frames', type=int, default=200, help='number of frames (>= 2, default 200)')
    p.add_argument('--seed', type=int, default=0, help='world seed (default 0)')
    p.add_argument('--storage', choices=STORAGES, default='mcap', help='rosbag2 storage (default mcap)')
    p.add_argument('--moving-objects', type=int, default=4, help='other moving vehicles (default 4)')
    p.add_argument('--parked-vehicles', type=int, default=3, help='static parked vehicles (default 3)')
    p.add_argument('--width', type=int, default=416, help=f'image width (>= {MIN_WIDTH}, default 416)')
    p.add_argument('--height', type=int, default=128, help=f'image height (>= {MIN_HEIGHT}, default 128)')
    p.add_argument('--fps', type=float, default=10.0, help='frame rate in Hz (default 10)')
    p.add_argument('--camera-height', type=float, default=1.65, help='camera height in metres (default 1.65)')
    p.add_argument('--speed', type=float, default=8.0, help='mean ego speed in m/s (default 8)')
    p.add_argument('--exposure-jitter', type=float, default=0.0, help='std of the log exposure per frame (0 = off)')
    p.add_argument('--noise-std', type=float, default=0.0, help='Gaussian pixel noise std, 8-bit units (0 = off)')
    p.add_argument('--no-supersample', action='store_true', help='one ray per pixel (faster, aliased)')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = SimConfig(width=args.width, height=args.height, frames=args.frames, seed=args.seed,
                        moving_objects=args.moving_objects, parked_vehicles=args.parked_vehicles, fps=args.fps,
                        camera_height=args.camera_height, speed=args.speed, exposure_jitter=args.exposure_jitter,
                        noise_std=args.noise_std, supersample=not args.no_supersample)
        counts = record_drive(cfg, args.out, storage=args.storage, progress=not args.quiet)
    except (ValueError, OSError) as exc:
        # Name the command-line option rather than the config field: "SimConfig.frames" -> "--frames".
        message = re.sub(r'SimConfig\.(\w+)', lambda m: '--' + m.group(1).replace('_', '-'), str(exc))
        print(f'selfdepth simulate: error: {message}', file=sys.stderr)
        return 2
    print(f'wrote {args.out} ({args.storage}): {cfg.frames} frames of {cfg.width}x{cfg.height}, '
          f'{sum(counts.values())} messages on {len(counts)} topics')
    return 0


if __name__ == '__main__':
    sys.exit(main())
