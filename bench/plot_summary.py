"""The benchmark board's picture: one panel per benchmark, time ratios (median bar, p10 marker) on a log axis.

Rows come from a result's ``"ratios"`` list (see ``bench.common``) when it has one; otherwise they are derived
from the shapes the other benchmarks write: ``"sizes": {size: {"ratio_median", "ratio_p10"}}`` (node latency)
or ``"variants": {name: {"median_ms", "p10_ms"}}`` (each variant over the first one).

    .venv/bin/python -m bench.plot_summary [--results-dir bench/results]
Writes summary.png and summary.json in the results directory.
"""
from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, write_json

THROUGHPUT_KEYS = ('samples_per_s', 'frames_per_s')


def panel_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """``[{'label', 'median', 'p10'}]`` time ratios of one benchmark's JSON (empty when none can be derived)."""
    if isinstance(result.get('ratios'), list):
        return [{'label': f"{r['label']} / {r['baseline']}" if r.get('baseline') else r['label'],
                 'median': float(r['median']), 'p10': float(r.get('p10', r['median']))} for r in result['ratios']]
    rows: list[dict[str, Any]] = []
    sizes = result.get('sizes')
    if isinstance(sizes, dict):
        for size, s in sizes.items():
            if isinstance(s, dict) and 'ratio_median' in s:
                base = f" ({s['bare_median_ms']:.0f} ms)" if 'bare_median_ms' in s else ''
                rows.append({'label': f'{size}: node / bare{base}', 'median': float(s['ratio_median']),
                             'p10': float(s.get('ratio_p10', s['ratio_median']))})
    variants = result.get('variants')
    if isinstance(variants, dict) and not rows:
        timed = {k: v for k, v in variants.items() if isinstance(v, dict) and 'median_ms' in v}
        if len(timed) >= 2:
            base_name, base = next(iter(timed.items()))
            for name, v in list(timed.items())[1:]:
                rows.append({'label': f"{name} / {base_name} ({v['median_ms']:.0f} / {base['median_ms']:.0f} ms)",
                             'median': v['median_ms'] / base['median_ms'],
                             'p10': v.get('p10_ms', v['median_ms']) / base.get('p10_ms', base['median_ms'])})
    return rows


def throughputs(result: dict[str, Any]) -> dict[str, float]:
    """``{'<variant> <unit>': value}`` for variants that report samples/s or frames/s."""
    out = {}
    variants = result.get('variants')
    for name, v in (variants.items() if isinstance(variants, dict) else ()):
        for key in THROUGHPUT_KEYS:
            if isinstance(v, dict) and key in v:
                out[f'{name} {key.replace("_per_s", "/s")}'] = float(v[key])
    return out


def summarize_results(results_dir: Path, statuses: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Collect every ``*.json`` benchmark result in ``results_dir`` (not summary.json) into one dict."""
    summary: dict[str, Any] = {}
    for path in sorted(results_dir.glob('*.json')):
        if path.name == 'summary.json':
            continue
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            summary[path.stem] = {'status': f'unreadable JSON: {exc}', 'rows': []}
            continue
        machine = result.get('machine', {})
        load = machine.get('load_average_1_5_15', [machine.get('load_average_1min')])[0]
        summary[path.stem] = {'what': result.get('what', ''), 'load_average_1min': load, 'json': str(path),
                              'rows': panel_rows(result), 'throughput': throughputs(result)}
    for name, status in (statuses or {}).items():
        summary.setdefault(name, {'rows': []}).update(status)
    return summary


def plot_summary(summary: dict[str, Any], out_png: Path) -> Path:
    """Draw one horizontal-bar panel per benchmark of ``summary`` (from ``summarize_results``) into ``out_png``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, NullFormatter

    names = list(summary) or ['(no results)']
    heights = [max(len(summary.get(n, {}).get('rows', [])), 1) * 0.36 + 1.4 for n in names]
    fig, axes = plt.subplots(len(names), 1, figsize=(11, sum(heights) + 0.8), squeeze=False,
                             gridspec_kw={'height_ratios': heights})
    for ax, name in zip(axes[:, 0], names):
        entry = summary.get(name, {})
        rows = entry.get('rows', [])
        title = name
        if entry.get('status') not in (None, 'ok'):
            title += f"  [{entry['status']}]"
        if entry.get('load_average_1min') is not None:
            title += f"   (load avg {entry['load_average_1min']:.1f})"
        extra = '; '.join(f'{k} {v:.1f}' for k, v in entry.get('throughput', {}).items())
        note = [textwrap.shorten(entry.get('what', ''), 135, placeholder=' …')] + ([extra] if extra else [])
        note = '\n'.join(line for line in note if line)
        pad = 4 + 10 * (note.count('\n') + 1) if note else 6
        ax.set_title(title, loc='left', fontsize=11, fontweight='bold', pad=pad)
        ax.text(0.0, 1.012, note, transform=ax.transAxes, ha='left', va='bottom', fontsize=7, color='dimgrey')
        if not rows:
            ax.text(0.5, 0.5, entry.get('status', 'no timing ratios in this result (see its own JSON)'),
                    ha='center', va='center', transform=ax.transAxes, color='grey')
            ax.set_axis_off()
            continue
        ys = list(range(len(rows)))[::-1]
        medians, p10s = [r['median'] for r in rows], [r['p10'] for r in rows]
        colours = ['tab:green' if m < 1 else 'tab:orange' for m in medians]
        ax.barh(ys, [m - 1 for m in medians], left=1, height=0.6, color=colours, alpha=0.8)
        ax.plot(p10s, ys, 'kd', markersize=5)
        side = ax.get_yaxis_transform()  # x in axes fraction, y in data
        ax.text(1.01, len(rows) - 0.45, 'median   p10', transform=side, fontsize=7, color='dimgrey', va='center')
        for y, m, p in zip(ys, medians, p10s):
            ax.text(1.01, y, f'{m:6.2f}   {p:5.2f}', transform=side, va='center', fontsize=8, family='monospace')
        ax.axvline(1.0, color='black', lw=0.8)
        ax.set_yticks(ys, [r['label'] for r in rows], fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.2)
        lo, hi = min(medians + p10s + [1.0]), max(medians + p10s + [1.0])
        ax.set_xscale('log')
        ax.set_xlim(lo / 1.3, hi * 1.3)
        ticks = [t for t in (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50)
                 if lo / 1.3 <= t <= hi * 1.3]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticklabels([f'{t:g}' for t in ticks], fontsize=8)
        ax.grid(axis='x', alpha=0.3)
    handles = [Patch(color='tab:green', alpha=0.8, label='median ratio < 1 (faster than the baseline after "/")'),
               Patch(color='tab:orange', alpha=0.8, label='median ratio > 1 (slower)'),
               Line2D([], [], color='black', marker='d', ls='', label='p10 ratio')]
    fig.legend(handles=handles, loc='upper center', ncol=3, fontsize=8, frameon=False)
    fig.supxlabel('time ratio, log scale: variant time / baseline time, measured interleaved in one run',
                  fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.9, 1 - 0.35 / fig.get_figheight()))
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--results-dir', type=Path, default=RESULTS_DIR)
    args = ap.parse_args(argv)
    summary = summarize_results(args.results_dir)
    write_json(args.results_dir / 'summary.json', summary)
    print(f"wrote {plot_summary(summary, args.results_dir / 'summary.png')}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
