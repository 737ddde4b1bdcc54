"""Pictures for the report: colourised depth, error maps, motion fields and trajectories (matplotlib, Agg).

Figures are built on ``matplotlib.figure.Figure`` with an Agg canvas, never through pyplot, so nothing here
touches global backend state or needs a display.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from selfdepth_ros.eval.metrics import DepthCaps

INVALID_RGB = (0.55, 0.55, 0.55)


def depth_color_range(gt: np.ndarray, caps: DepthCaps = DepthCaps()) -> tuple[float, float]:
    """(vmin, vmax) in metres for colouring both GT and prediction: the 2nd–98th percentile of valid GT."""
    with np.errstate(invalid='ignore'):
        valid = gt[np.isfinite(gt) & (gt > caps.min_depth) & (gt < caps.max_depth)]
    if valid.size == 0:
        return max(caps.min_depth, 0.5), caps.max_depth
    lo, hi = np.percentile(valid, [2, 98])
    lo = max(float(lo), caps.min_depth)
    return lo, max(float(hi), lo * 1.01)


def abs_rel_error_map(pred: np.ndarray, gt: np.ndarray, caps: DepthCaps = DepthCaps()) -> np.ndarray:
    """H×W ``|pred − gt| / gt`` on valid pixels (pred already in metres), NaN elsewhere."""
    with np.errstate(invalid='ignore', divide='ignore'):
        valid = np.isfinite(gt) & (gt > caps.min_depth) & (gt < caps.max_depth) & np.isfinite(pred) & (pred > 0)
        clipped = np.clip(pred, caps.min_depth, caps.max_depth)
        return np.where(valid, np.abs(clipped - gt) / gt, np.nan)


def motion_to_rgb(motion: np.ndarray, max_norm: float) -> np.ndarray:
    """Colour an H×W×3 translation field: hue = direction in the top view (x right, z forward), saturation =
    ‖T‖ / max_norm (white = no motion). Non-finite pixels are grey.

    Returns:
        H×W×3 float RGB in [0, 1].
    """
    if motion.ndim != 3 or motion.shape[2] != 3:
        raise ValueError(f'motion must be H×W×3, got shape {motion.shape}')
    if max_norm <= 0:
        raise ValueError(f'max_norm must be > 0, got {max_norm}')
    finite = np.isfinite(motion).all(axis=2)
    m = np.where(finite[..., None], motion, 0.0)
    hue = (np.arctan2(m[..., 0], m[..., 2]) / (2 * np.pi)) % 1.0  # 0 = forward (+z), 0.25 = right (+x)
    sat = np.clip(np.linalg.norm(m, axis=2) / max_norm, 0.0, 1.0)
    rgb = mcolors.hsv_to_rgb(np.stack([hue, sat, np.ones_like(hue)], axis=-1))
    rgb[~finite] = INVALID_RGB
    return rgb


def motion_wheel(size: int = 101) -> np.ndarray:
    """The legend for :func:`motion_to_rgb`: a disc whose up direction is +z (forward), right is +x, and whose
    rim is ``max_norm``. Returns size×size×4 RGBA (transparent outside the disc)."""
    c = (size - 1) / 2
    v, u = np.mgrid[0:size, 0:size]
    field = np.stack([(u - c) / c, np.zeros_like(u, dtype=float), (c - v) / c], axis=-1)  # up = +z
    rgba = np.ones((size, size, 4))
    rgba[..., :3] = motion_to_rgb(field, 1.0)
    rgba[..., 3] = (np.hypot(u - c, v - c) <= c).astype(float)
    return rgba


def save_figure(fig: Figure, path: Path | str, dpi: int = 100) -> Path:
    """Render ``fig`` with Agg and write a PNG."""
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi, bbox_inches='tight', facecolor='white')
    return Path(path)


def _hide_axes(*axes) -> None:
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])


def figure_image(rgb: np.ndarray, title: str) -> Figure:
    """The input frame."""
    h, w = rgb.shape[:2]
    fig = Figure(figsize=(6.4, 6.4 * h / w + 0.4))
    ax = fig.add_subplot()
    ax.imshow(rgb)
    ax.set_title(title)
    _hide_axes(ax)
    return fig


def figure_depth(gt: np.ndarray, pred: np.ndarray, caps: DepthCaps = DepthCaps()) -> Figure:
    """Ground truth above prediction (metres), one log colour scale for both, invalid pixels grey."""
    vmin, vmax = depth_color_range(gt, caps)
    norm = mcolors.LogNorm(vmin=vmin, vmax=vmax, clip=True)
    cmap = colormaps['magma_r'].with_extremes(bad=INVALID_RGB)
    h, w = gt.shape
    fig = Figure(figsize=(7.2, 2 * 6.4 * h / w + 0.9), layout='constrained')
    axes = fig.subplots(2, 1)
    with np.errstate(invalid='ignore'):
        gt_show = np.ma.masked_invalid(np.where(gt < caps.max_depth, gt, np.nan))
    for ax, data, title in ((axes[0], gt_show, 'ground-truth depth'),
                            (axes[1], np.ma.masked_invalid(pred), 'predicted depth (scaled)')):
        im = ax.imshow(data, cmap=cmap, norm=norm, interpolation='nearest')
        ax.set_title(title)
        _hide_axes(ax)
    bar = fig.colorbar(im, ax=axes, label='depth [m] (log scale; grey = invalid / beyond cap)', shrink=0.9)
    ticks = [t for t in (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 80, 100) if vmin * 1.15 <= t <= vmax / 1.15]
    bar.set_ticks([round(vmin, 1), *ticks, round(vmax, 1)])  # the ends, plus round values not crowding them
    bar.ax.yaxis.set_major_formatter(ticker.FormatStrFormatter('%g'))
    bar.ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    return fig


def figure_error(pred: np.ndarray, gt: np.ndarray, moving_mask: np.ndarray | None,
                 caps: DepthCaps = DepthCaps(), vmax: float = 0.5) -> Figure:
    """Absolute relative error map, moving objects outlined in cyan."""
    err = abs_rel_error_map(pred, gt, caps)
    cmap = colormaps['inferno'].with_extremes(bad=INVALID_RGB)
    h, w = gt.shape
    fig = Figure(figsize=(7.2, 6.4 * h / w + 0.6), layout='constrained')
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(err), cmap=cmap, vmin=0.0, vmax=vmax, interpolation='nearest')
    if moving_mask is not None and np.any(moving_mask):
        ax.contour(moving_mask != 0, levels=[0.5], colors='cyan', linewidths=1.0)
    ax.set_title('abs rel error |d* − d| / d' + (' (cyan: moving objects)' if moving_mask is not None else ''))
    _hide_axes(ax)
    fig.colorbar(im, ax=ax, label=f'abs rel (clipped at {vmax})', shrink=0.9)
    return fig


def figure_motion(gt_motion: np.ndarray | None, pred_motion: np.ndarray | None) -> Figure:
    """Object-motion fields (ground truth, prediction) coloured by top-view direction and magnitude + a legend."""
    fields = [(f, t) for f, t in ((gt_motion, 'ground-truth T_obj'), (pred_motion, 'predicted T_obj (scaled)'))
              if f is not None]
    if not fields:
        raise ValueError('figure_motion needs gt_motion or pred_motion')
    norms = [np.nanpercentile(np.linalg.norm(f, axis=2), 99) for f, _ in fields]
    max_norm = max(max(norms), 1e-3)
    h, w = fields[0][0].shape[:2]
    fig = Figure(figsize=(8.4, len(fields) * 6.4 * h / w + 0.8), layout='constrained')
    grid = fig.add_gridspec(len(fields), 2, width_ratios=[6.4, 1.4])
    for row, (f, title) in enumerate(fields):
        ax = fig.add_subplot(grid[row, 0])
        ax.imshow(motion_to_rgb(f, max_norm), interpolation='nearest')
        ax.set_title(title)
        _hide_axes(ax)
    legend = fig.add_subplot(grid[:, 1])
    legend.imshow(motion_wheel())
    legend.set_title(f'rim = {max_norm:.2f} m/frame', fontsize=9)
    legend.set_xlabel('+x (right) →')
    legend.set_ylabel('+z (forward) →')
    _hide_axes(legend)
    return fig


def figure_trajectory(gt_xyz: np.ndarray, est_xyz: np.ndarray, alignment: str) -> Figure:
    """Top view of the estimated (aligned) and ground-truth camera paths on the GT's two widest axes."""
    if gt_xyz.shape != est_xyz.shape or gt_xyz.ndim != 2 or gt_xyz.shape[1] != 3:
        raise ValueError(f'gt_xyz and est_xyz must both be N×3, got {gt_xyz.shape} and {est_xyz.shape}')
    a, b = sorted(np.argsort(np.ptp(gt_xyz, axis=0))[-2:])
    fig = Figure(figsize=(6.4, 5.2), layout='constrained')
    ax = fig.add_subplot()
    ax.plot(gt_xyz[:, a], gt_xyz[:, b], '-', color='black', lw=2, label='ground truth')
    ax.plot(est_xyz[:, a], est_xyz[:, b], '--', color='tab:orange', lw=2, label=f'estimate ({alignment}-aligned)')
    ax.plot(gt_xyz[0, a], gt_xyz[0, b], 'o', color='tab:green', label='start')
    ax.set_xlabel(f'{"xyz"[a]} [m]')
    ax.set_ylabel(f'{"xyz"[b]} [m]')
    ax.set_aspect('equal', adjustable='datalim')
    ax.grid(True, alpha=0.3)
    ax.legend(loc='best')
    ax.set_title('camera trajectory (top view)')
    return fig


def figure_timeline(abs_rel: list[float | None], latency_ms: list[float | None]) -> Figure:
    """Per-frame abs rel and latency over the sequence."""
    fig = Figure(figsize=(7.2, 3.6), layout='constrained')
    ax = fig.add_subplot()
    frames = np.arange(len(abs_rel))
    ax.plot(frames, [np.nan if v is None else v for v in abs_rel], color='tab:blue', label='abs rel')
    ax.set_xlabel('frame')
    ax.set_ylabel('abs rel', color='tab:blue')
    if any(v is not None for v in latency_ms):
        ax2 = ax.twinx()
        ax2.plot(frames, [np.nan if v is None else v for v in latency_ms], color='tab:red', alpha=0.7)
        ax2.set_ylabel('latency [ms]', color='tab:red')
    ax.set_title('per-frame depth error and latency')
    ax.grid(True, alpha=0.3)
    return fig
