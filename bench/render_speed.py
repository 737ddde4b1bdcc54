"""Rendering speed of the synthetic world: a 200-frame 416×128 drive, default vs exhaustive vs one ray per pixel.

Variants (same drive, same scene):
- ``default``: adaptive anti-aliasing (half-pixel rays only where the one-ray-per-pixel image changes),
- ``exhaustive``: ``supersample_threshold=0``, every half-pixel ray cast (about 4 rays per pixel),
- ``plain``: ``supersample=False``, one ray per pixel, no anti-aliasing.
They render frame by frame, interleaved round by round (bench.common.interleaved_rounds), so drift of the shared
machine hits all alike. Reports frames/s over the drive (scene building included in frame 0), p10 and median
per-frame milliseconds, the ratios to ``default``, and then the wall (and CPU) time of one whole
``render_drive`` of the default config, the figure the issue asks for ("200 frames at 416×128 in well under a
minute on 2 cores"). Ground truth is identical across the variants (test/sim/test_render.py).

    .venv/bin/python -m bench.render_speed --frames 200
Writes bench/results/render_speed.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

from bench.common import RESULTS_DIR, interleaved_rounds, machine_info, ratio, summarize, write_json

VARIANTS = {'default': {}, 'exhaustive': {'supersample_threshold': 0.0}, 'plain': {'supersample': False}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--frames', type=int, default=200)
    ap.add_argument('--width', type=int, default=416)
    ap.add_argument('--height', type=int, default=128)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', type=Path, default=RESULTS_DIR / 'render_speed.json')
    args = ap.parse_args(argv)
    from selfdepth_ros.sim.config import SimConfig
    from selfdepth_ros.sim.drive import iter_frames, render_drive

    base = SimConfig(width=args.width, height=args.height, frames=args.frames, seed=args.seed)
    load_before = os.getloadavg()
    streams = {name: iter_frames(dataclasses.replace(base, **change)) for name, change in VARIANTS.items()}
    times = interleaved_rounds({name: (lambda s=s: next(s)) for name, s in streams.items()}, rounds=args.frames,
                               warmup=0)
    variants = {}
    for name, ms in times.items():
        variants[name] = {'frames_per_s': 1e3 * len(ms) / sum(ms), 'total_s': sum(ms) / 1e3, **summarize(ms)}
    wall, cpu = time.perf_counter(), time.process_time()
    render_drive(base)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        'what': f'{args.frames}-frame {args.width}x{args.height} drive (seed {args.seed}) rendered by '
                'selfdepth_ros.sim.iter_frames; variants interleaved frame by frame',
        'machine': machine_info(),
        'load_average_1_5_15_at_start': list(load_before),
        'variants': variants,
        'ratios': [{'label': name, 'baseline': 'default', **ratio(variants[name], variants['default'])}
                   for name in ('exhaustive', 'plain')],
        'default_drive': {'frames': args.frames, 'width': args.width, 'height': args.height,
                          'wall_s': wall, 'cpu_s': cpu, 'frames_per_s': args.frames / wall,
                          'load_average_1min_after': os.getloadavg()[0]},
    }
    print(write_json(args.out, result).read_text())
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
