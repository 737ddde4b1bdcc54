"""The benchmark board in one command: run every benchmark in bench/, then write summary.json and summary.png.

    .venv/bin/python -m bench.run_all [--quick] [--only net_latency render_speed] [--results-dir DIR]
    make bench

Each benchmark runs as its own subprocess (``python -m bench.<name>``) with its own timeout, so one that hangs,
fails to import or is missing does not stop the others; its status (ok / failed rc=N / timeout / missing),
wall time and the tail of its output go into summary.json. ``--quick`` is passed through to benchmarks that
accept it; the others get the short settings in ``QUICK_ARGS``. Results go to ``--results-dir`` (each
benchmark's ``--out``); a JSON not rewritten by this run is marked ``stale``.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, write_json
from bench.plot_summary import plot_summary, summarize_results

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ('net_latency', 'node_latency', 'dataset_speed', 'render_speed', 'learning')
# Short settings for benchmarks without a --quick flag of their own.
QUICK_ARGS = {
    'node_latency': ['--rounds', '3'],
    'dataset_speed': ['--frames', '20', '--rounds', '1'],
    'render_speed': ['--frames', '20'],
    'learning': ['--steps', '30', '--frames', '40', '--test-frames', '20', '--seeds', '0', '--smoke'],
}
TIMEOUT_S = {'full': 900, 'quick': 240}
FULL_TIMEOUT_S = {'learning': 3600}  # trains two recipes for a fixed budget


def _accepts(source: str, flag: str) -> bool:
    return f"'{flag}'" in source or f'"{flag}"' in source


def command(name: str, quick: bool, results_dir: Path) -> list[str] | None:
    """The argv that runs benchmark ``name``, or None when ``bench/<name>.py`` does not exist."""
    spec = importlib.util.find_spec(f'bench.{name}')
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).read_text()
    argv = [sys.executable, '-m', f'bench.{name}']
    if quick:
        argv += ['--quick'] if _accepts(source, '--quick') else QUICK_ARGS.get(name, [])
    if _accepts(source, '--out'):
        argv += ['--out', str(results_dir / f'{name}.json')]
    elif _accepts(source, '--results'):  # learning.py takes the results folder
        argv += ['--results', str(results_dir)]
    return argv


def run_one(name: str, argv: list[str], timeout_s: float, tail_lines: int = 15) -> dict[str, Any]:
    """Run one benchmark subprocess, echoing its output prefixed by its name; returns its status dict."""
    start = time.perf_counter()
    # Own session: on timeout the whole group this command started is ended, nothing else.
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, 'PYTHONUNBUFFERED': '1'})
    tail: deque[str] = deque(maxlen=tail_lines)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            print(f'[{name}] {line}', end='', flush=True)
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=timeout_s)
        status = 'ok' if rc == 0 else f'failed (rc={rc})'
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        status = f'timeout after {timeout_s:.0f} s'
    reader.join(timeout=5)
    return {'status': status, 'wall_s': time.perf_counter() - start, 'command': ' '.join(argv[1:]),
            'output_tail': list(tail)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='short runs (minutes in all), for a first look')
    ap.add_argument('--only', nargs='+', choices=BENCHMARKS, default=list(BENCHMARKS))
    ap.add_argument('--results-dir', type=Path, default=RESULTS_DIR)
    ap.add_argument('--timeout', type=float, default=None,
                    help=f"seconds per benchmark (default {TIMEOUT_S['full']}, learning {FULL_TIMEOUT_S['learning']}; "
                         f"{TIMEOUT_S['quick']} with --quick)")
    args = ap.parse_args(argv)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    statuses: dict[str, dict[str, Any]] = {}
    for name in args.only:
        cmd = command(name, args.quick, args.results_dir)
        if cmd is None:
            statuses[name] = {'status': 'missing (no bench/%s.py)' % name}
            print(f'[{name}] missing, skipped', flush=True)
            continue
        timeout = args.timeout or (TIMEOUT_S['quick'] if args.quick else FULL_TIMEOUT_S.get(name, TIMEOUT_S['full']))
        print(f'[{name}] running: {" ".join(cmd[1:])} (timeout {timeout:.0f} s)', flush=True)
        statuses[name] = run_one(name, cmd, timeout)
        out = args.results_dir / f'{name}.json'
        statuses[name]['stale'] = not out.exists() or out.stat().st_mtime < started
        if statuses[name]['stale'] and statuses[name]['status'] == 'ok':
            statuses[name]['status'] = 'ok, but wrote no fresh JSON'
    summary = summarize_results(args.results_dir, statuses)
    summary = {name: summary[name] for name in [*args.only, *sorted(set(summary) - set(args.only))]
               if name in summary}
    write_json(args.results_dir / 'summary.json', summary)
    png = plot_summary(summary, args.results_dir / 'summary.png')
    print('\n== benchmark board')
    for name, entry in summary.items():
        print(f"  {name:14s} {entry.get('status', 'not run (older result)'):32s} "
              f"{entry.get('wall_s', 0):6.0f} s  {len(entry.get('rows', []))} ratios")
    print(f'wrote {args.results_dir / "summary.json"} and {png}')
    return 0 if all(s['status'].startswith(('ok', 'missing')) for s in statuses.values()) else 1


if __name__ == '__main__':
    raise SystemExit(main())
