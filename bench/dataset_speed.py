"""Dataset samples/s: cold (decode from the bag), memory-cached, and disk-cached (.npy) epochs, side by side.

A toy drive (``selfdepth_ros.bag.testing``: panned texture, ground truth on) of ``--frames`` frames at the
bag size is read as (-1, 0, 1) triplets at the network size. Each round runs the three variants one after the
other on the same bag, so drift of the shared machine hits all alike. Reports samples/s, p10 and median ms
per item and the median ratios cold/memory and cold/disk.

    .venv/bin/python -m bench.dataset_speed --frames 100 --rounds 3
Writes bench/results/dataset_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _epoch(ds) -> list[float]:
    times = []
    for n in range(len(ds)):
        start = time.perf_counter()
        ds[n]
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--frames', type=int, default=100)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--bag-size', type=int, nargs=2, default=(832, 256), metavar=('W', 'H'))
    ap.add_argument('--net-size', type=int, nargs=2, default=(416, 128), metavar=('W', 'H'))
    ap.add_argument('--storage', choices=('mcap', 'sqlite3'), default='mcap')
    ap.add_argument('--out', type=Path, default=Path(__file__).parent / 'results' / 'dataset_speed.json')
    args = ap.parse_args(argv)
    from selfdepth_ros.bag.testing import TOY_K, write_toy_drive
    from selfdepth_ros_training.data.dataset import BagFramesDataset

    times: dict[str, list[float]] = {'cold': [], 'memory': [], 'disk': []}
    index_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        bag = Path(tmp) / 'bag'
        K = TOY_K * [[args.bag_size[0] / 64], [args.bag_size[1] / 48], [1]]
        write_toy_drive(bag, shifts=[8] * (args.frames - 1), size=tuple(args.bag_size), K=K, storage=args.storage)
        for r in range(args.rounds):
            cache_dir = Path(tmp) / f'cache{r}'
            start = time.perf_counter()
            ds = BagFramesDataset(bag, tuple(args.net_size), offsets=(-1, 0, 1), min_motion=0, cache_dir=cache_dir)
            index_s.append(time.perf_counter() - start)
            times['cold'] += _epoch(ds)  # decodes, resizes, fills memory + disk caches
            times['memory'] += _epoch(ds)
            disk = BagFramesDataset(bag, tuple(args.net_size), offsets=(-1, 0, 1), min_motion=0,
                                    cache_dir=cache_dir, cache_size=0)
            times['disk'] += _epoch(disk)
    stats = {name: {'samples_per_s': len(ts) / sum(ts), 'p10_ms': 1e3 * float(np.percentile(ts, 10)),
                    'median_ms': 1e3 * float(np.median(ts))} for name, ts in times.items()}
    result = {
        'what': (f'BagFramesDataset triplets: {args.frames}-frame {args.bag_size[0]}x{args.bag_size[1]} '
                 f'{args.storage} toy bag with ground truth -> {args.net_size[0]}x{args.net_size[1]}, '
                 f'{args.rounds} rounds'),
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(),
                    'load_average_1min': os.getloadavg()[0]},
        'index_build_s_median': float(np.median(index_s)),
        'variants': stats,
        'median_ratio_cold_over_memory': stats['cold']['median_ms'] / stats['memory']['median_ms'],
        'median_ratio_cold_over_disk': stats['cold']['median_ms'] / stats['disk']['median_ms'],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
