"""Rendering speed of the synthetic world: a 200-frame 416×128 drive, supersampled (default) vs one ray per pixel.

The two variants render the same drive frame by frame, interleaved (supersampled frame k, then plain frame k),
so drift of the shared machine hits both alike. Reports frames/s over the whole drive (scene building included),
p10 and median per-frame milliseconds, and the median ratio supersampled/plain.

    .venv/bin/python -m bench.render_speed --frames 200
Writes bench/results/render_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--frames', type=int, default=200)
    ap.add_argument('--width', type=int, default=416)
    ap.add_argument('--height', type=int, default=128)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', type=Path, default=Path(__file__).parent / 'results' / 'render_speed.json')
    args = ap.parse_args(argv)
    from selfdepth_ros.sim.config import SimConfig
    from selfdepth_ros.sim.drive import iter_frames

    variants = {name: SimConfig(width=args.width, height=args.height, frames=args.frames, seed=args.seed,
                                supersample=name == 'supersampled') for name in ('supersampled', 'plain')}
    streams = {name: iter_frames(cfg) for name, cfg in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.frames):
        for name, stream in streams.items():
            start = time.perf_counter()
            next(stream)  # the first frame also builds the scene and the renderer
            times[name].append(time.perf_counter() - start)
    result = {
        'what': f'{args.frames}-frame {args.width}x{args.height} drive rendered by selfdepth_ros.sim.iter_frames',
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(),
                    'load_average_1min': os.getloadavg()[0]},
        'variants': {name: {'frames_per_s': len(ts) / sum(ts), 'total_s': sum(ts),
                            'p10_ms': 1e3 * float(np.percentile(ts, 10)),
                            'median_ms': 1e3 * float(np.median(ts))} for name, ts in times.items()},
    }
    result['median_ratio_supersampled_over_plain'] = (result['variants']['supersampled']['median_ms']
                                                      / result['variants']['plain']['median_ms'])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
