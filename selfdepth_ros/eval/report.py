"""The evaluation report: one self-contained folder with ``index.html``, PNG figures and ``metrics.json``.

The page carries a tiny script that, once loaded, writes into ``#report-status`` how many images it has and how
many failed to load (``data-state="ok"`` when all decoded), so a headless browser can check the page
(:mod:`selfdepth_ros.eval.browser_check`).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from selfdepth_ros.eval.evaluate import EvalResult, FrameSample
from selfdepth_ros.eval.metrics import METRIC_NAMES, DepthCaps
from selfdepth_ros.eval.visualize import (figure_depth, figure_error, figure_image, figure_motion, figure_timeline,
                                          figure_trajectory, save_figure)

METRIC_LABELS = {'abs_rel': 'Abs Rel ↓', 'sq_rel': 'Sq Rel ↓', 'rmse': 'RMSE [m] ↓', 'rmse_log': 'RMSE log ↓',
                 'a1': 'δ < 1.25 ↑', 'a2': 'δ < 1.25² ↑', 'a3': 'δ < 1.25³ ↑'}

_STATUS_SCRIPT = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var s = document.getElementById('report-status');
  s.setAttribute('data-images', String(imgs.length));
  s.setAttribute('data-broken', String(broken.length));
  s.setAttribute('data-broken-src', broken.map(function (i) { return i.getAttribute('src'); }).join(' '));
  s.setAttribute('data-state', broken.length === 0 && imgs.length > 0 ? 'ok' : 'broken');
  s.textContent = imgs.length + ' figures, ' + broken.length + ' failed to load';
});
</script>"""

_CSS = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1400px; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
.tables { display: flex; flex-wrap: wrap; gap: 0 2.5em; align-items: flex-start; }
.frames { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; border: 1px solid #ddd; padding: 0.5em; background: #fff; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.3em; }
figure img { display: block; max-width: 100%; height: auto; }
#report-status { font-size: 0.8em; color: #888; }
td.baseline, th.baseline { color: #777; background: #fafafa; }
p.note { font-size: 0.85em; color: #666; max-width: 40em; margin-top: -0.8em; }
"""


def _fmt(value) -> str:
    if value is None:
        return '—'
    if isinstance(value, float):
        return f'{value:.4f}' if abs(value) < 1000 else f'{value:.1f}'
    return html.escape(str(value))


def _depth_table(metrics: dict) -> str:
    """Rows: the metrics; per region (all / static / dynamic) a model column and a constant-depth column."""
    constant = (metrics.get('baselines') or {}).get('constant_depth') or {}
    cols = [(name, metrics.get(key), constant.get(key)) for name, key in
            (('all pixels', 'depth'), ('static', 'depth_static'), ('dynamic', 'depth_dynamic'))]
    cols = [c for c in cols if c[1] is not None]
    if not cols:
        reason = (metrics.get('absent') or {}).get('depth', 'no frame had valid ground truth')
        return f'<p>No depth metrics ({html.escape(reason)}).</p>'
    head = ''.join(f'<th colspan="2">{name}</th>' for name, _, _ in cols)
    sub = '<th>model</th><th class="baseline">constant depth</th>' * len(cols)
    labels = {**METRIC_LABELS, 'frames': 'frames scored'}
    rows = [f'<tr><td>{labels[k]}</td>' + ''.join(
        f'<td>{_fmt(m.get(k))}</td><td class="baseline">{_fmt((b or {}).get(k))}</td>' for _, m, b in cols) + '</tr>'
        for k in (*METRIC_NAMES, 'frames')]
    note = ''
    if constant.get('prediction'):
        note = f'<p class="note">constant depth: {html.escape(constant["prediction"])}'
        if constant.get('constant_m') is not None:
            note += f' = {constant["constant_m"]:.3f} m'
        note += '; scored on the same pixels as the model.</p>'
    return (f'<table id="depth-table"><tr><th rowspan="2">metric</th>{head}</tr><tr>{sub}</tr>{"".join(rows)}'
            f'</table>{note}')


def _kv_table(table_id: str, rows: list[tuple], columns: tuple[str, ...] = ('value',)) -> str:
    head = ''.join(f'<th>{html.escape(c)}</th>' for c in columns)
    body = ''.join(f'<tr><td>{html.escape(r[0])}</td>' + ''.join(f'<td>{_fmt(v)}</td>' for v in r[1:]) + '</tr>'
                   for r in rows)
    return f'<table id="{table_id}"><tr><th>quantity</th>{head}</tr>{body}</table>'


def _trajectory_rows(traj: dict) -> list[tuple[str, object]]:
    rows = [('alignment', traj['alignment']), ('ATE RMSE [m]', traj['ate']['rmse']),
            ('ATE mean [m]', traj['ate']['mean']), ('alignment scale', traj['ate']['scale']),
            ('RPE trans RMSE [m/frame]', traj['rpe']['trans_rmse']),
            ('RPE rot RMSE [deg/frame]', traj['rpe']['rot_rmse_deg']), ('poses', traj['ate']['poses'])]
    if 'snippet_ate' in traj:
        sn = traj['snippet_ate']
        rows += [(f'snippet ATE ({sn["length"]} frames, {sn["protocol"]}) mean [m]', sn['mean']),
                 ('snippet ATE std [m]', sn['std']), ('snippets', sn['windows'])]
    return rows


def _other_tables(metrics: dict) -> str:
    parts = []
    absent = metrics.get('absent') or {}
    traj = metrics.get('trajectory')
    if traj:
        straight = (metrics.get('baselines') or {}).get('straight_ahead')
        rows = _trajectory_rows(traj)
        if straight:
            other = dict(_trajectory_rows(straight))
            rows = [(k, v, other.get(k)) for k, v in rows]
            table = _kv_table('trajectory-table', rows, ('model', 'straight-ahead'))
            table += ('<p class="note">straight-ahead: constant speed along the optical axis, no rotation; speed '
                      f'{html.escape(straight["speed"])}; same frames and alignment as the model.</p>')
        else:
            table = _kv_table('trajectory-table', rows)
        parts.append('<div><h3>Trajectory</h3>' + table + '</div>')
    elif 'trajectory' in absent:
        parts.append(f'<div><h3>Trajectory</h3><p>Not scored: {html.escape(absent["trajectory"])}.</p></div>')
    motion = metrics.get('motion_field')
    if motion:
        parts.append('<div><h3>Motion field</h3>' + _kv_table('motion-table', [
            ('EPE on moving pixels [m/frame]', motion['epe']),
            (f'static pixels with |T_obj| < {motion["static_threshold"]} m', motion['static_near_zero']),
            ('moving pixels', motion['moving_pixels']), ('static pixels', motion['static_pixels'])]) + '</div>')
    lat = metrics.get('latency_ms')
    if lat:
        parts.append('<div><h3>Latency per frame</h3>' + _kv_table('latency-table', [
            ('mean [ms]', lat['mean']), ('p50 [ms]', lat['p50']), ('p90 [ms]', lat['p90']),
            ('max [ms]', lat['max']), ('frames', lat['frames'])]) + '</div>')
    return '\n'.join(parts)


def _figure_html(src: str, caption: str) -> str:
    return (f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
            f'<figcaption>{html.escape(caption)}</figcaption></figure>')


def _frame_figures(out: Path, sample: FrameSample, caps: DepthCaps) -> list[str]:
    tag = f'frame{sample.index:05d}'
    figs: list[tuple[str, str, object]] = []
    if sample.rgb is not None:
        figs.append((f'{tag}_input.png', 'input image', figure_image(sample.rgb, f'input, frame {sample.index}')))
    figs.append((f'{tag}_depth.png', 'depth: ground truth vs prediction, same colour scale',
                 figure_depth(sample.gt_depth, sample.pred_depth, caps)))
    figs.append((f'{tag}_error.png', 'absolute relative error',
                 figure_error(sample.pred_depth, sample.gt_depth, sample.moving_mask, caps)))
    if sample.gt_motion is not None or sample.pred_motion is not None:
        figs.append((f'{tag}_motion.png', 'object motion field: hue = top-view direction, saturation = magnitude',
                     figure_motion(sample.gt_motion, sample.pred_motion)))
    parts = []
    for name, caption, fig in figs:
        save_figure(fig, out / name)
        parts.append(_figure_html(name, caption))
    return parts


def write_report(result: EvalResult, out_dir: Path | str, title: str = 'selfdepth evaluation',
                 source: str = '', caps: DepthCaps | None = None) -> Path:
    """Write ``index.html``, its PNGs and ``metrics.json`` into ``out_dir`` (created). Returns the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = result.metrics.get('config') or {}
    caps = caps or DepthCaps(cfg.get('min_depth', 1e-3), cfg.get('max_depth', 80.0))
    (out / 'metrics.json').write_text(json.dumps(result.metrics, indent=2))
    sections = []
    for sample in result.samples:
        dyn = f', dynamic region {100 * sample.dynamic_fraction:.1f} % of the image' if sample.moving_mask is not None else ''
        sections.append(f'<h3>Frame {sample.index} (stamp {sample.stamp_ns / 1e9:.3f} s{dyn})</h3>'
                        f'<div class="frames">{"".join(_frame_figures(out, sample, caps))}</div>')
    seq_figs = []
    if result.gt_positions is not None and result.est_positions is not None:
        alignment = (result.metrics.get('trajectory') or {}).get('alignment', 'sim3')
        save_figure(figure_trajectory(result.gt_positions, result.est_positions, alignment), out / 'trajectory.png')
        seq_figs.append(_figure_html('trajectory.png', 'trajectory against ground truth (top view)'))
    if result.per_frame.get('abs_rel'):
        save_figure(figure_timeline(result.per_frame['abs_rel'], result.per_frame.get('latency_ms', [])),
                    out / 'timeline.png')
        seq_figs.append(_figure_html('timeline.png', 'per-frame abs rel and latency'))
    scaling = 'per-frame median scaling' if cfg.get('median_scaling', True) else 'metric (no scaling)'
    crop = cfg.get('crop', 'none')
    crop_text = 'no crop' if crop == 'none' else f'{crop} crop'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(source)} · {result.metrics.get('frames', 0)} frames · depth caps
{caps.min_depth:g}–{caps.max_depth:g} m · {html.escape(crop_text)} · {scaling} · trivial baselines (grey) on
the same pixels and frames · <a href="metrics.json">metrics.json</a></p>
<h2>Metrics</h2>
<div class="tables">
<div><h3>Depth (monodepth2 protocol; static/dynamic split as in 002)</h3>
{_depth_table(result.metrics)}</div>
{_other_tables(result.metrics)}
</div>
<h2>Sequence</h2>
<div class="frames">{''.join(seq_figs)}</div>
<h2>Frames</h2>
{''.join(sections) or '<p>No frames kept.</p>'}
<p id="report-status" data-state="pending">checking figures…</p>
{_STATUS_SCRIPT}
</body></html>
"""
    path = out / 'index.html'
    path.write_text(page, encoding='utf-8')
    return path
