"""What a run writes for people: scalar logs (CSV) and image summaries (PNG grids).

TensorBoard's writer needs the ``tensorboard`` package, which this project does not install, so scalars go
to ``RUN_DIR/metrics.csv`` (one row per logged step, one column per scalar) and images to
``RUN_DIR/images/step_NNNNNNN.png``: one row per sample with the input frame, the predicted depth
(inverse depth, magma colour map, near = bright) and the residual motion field (x, y, z mapped to R, G, B
around grey, scaled by the largest magnitude in the grid).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.image import imsave


class CsvScalarLog:
    """Append-only CSV of scalars keyed by step; on resume, rows past the resumed step are dropped."""

    def __init__(self, path: str | Path, resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.columns: list[str] = []
        self.rows: list[dict[str, float]] = []
        if self.path.exists() and resume_step is not None:
            with self.path.open(newline='') as fh:
                reader = csv.DictReader(fh)
                self.columns = [c for c in (reader.fieldnames or []) if c != 'step']
                self.rows = [{k: float(v) for k, v in row.items() if v not in ('', None)} for row in reader
                             if float(row['step']) <= resume_step]
            self._rewrite()
        elif self.path.exists():
            self.path.unlink()

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix('.csv.tmp')
        with tmp.open('w', newline='') as fh:
            writer = csv.DictWriter(fh, fieldnames=['step'] + self.columns)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: _fmt(v) for k, v in row.items()})
        tmp.replace(self.path)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        """Add one row; a new scalar name adds a column (the file is rewritten once when that happens)."""
        row = {'step': step, **{k: float(v) for k, v in scalars.items()}}
        self.rows.append(row)
        new = [k for k in scalars if k not in self.columns]
        if new or not self.path.exists():
            self.columns += new
            self._rewrite()
            return
        with self.path.open('a', newline='') as fh:
            csv.DictWriter(fh, fieldnames=['step'] + self.columns).writerow({k: _fmt(v) for k, v in row.items()})


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f'{value:.6g}'


def colorize_depth(depth: torch.Tensor) -> np.ndarray:
    """``depth`` H×W metres -> H×W×3 uint8: inverse depth normalised by its 95th percentile, magma."""
    disp = 1.0 / depth.detach().float().clamp_min(1e-3)
    hi = torch.quantile(disp.flatten(), 0.95).clamp_min(1e-6)
    rgb = colormaps['magma']((disp / hi).clamp(0, 1).cpu().numpy())[..., :3]
    return (rgb * 255).astype(np.uint8)


def colorize_motion(field: torch.Tensor, scale: float) -> np.ndarray:
    """``field`` 3×H×W metres -> H×W×3 uint8 with (x, y, z) -> (R, G, B) = 0.5 + 0.5 * T / scale."""
    rgb = (0.5 + 0.5 * field.detach().float() / max(scale, 1e-9)).clamp(0, 1)
    return (rgb.permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8)


def summary_grid(rgb: torch.Tensor, depth: torch.Tensor, motion: torch.Tensor | None = None,
                 max_rows: int = 4) -> np.ndarray:
    """Tile [input | depth | motion field] rows for up to ``max_rows`` samples.

    Args:
        rgb: B×3×H×W in [0, 1].
        depth: B×1×H×W metres.
        motion: optional B×3×H×W residual translation field, metres.
    Returns:
        (rows·H)×(cols·W)×3 uint8 image.
    """
    n = min(max_rows, rgb.shape[0])
    scale = float(motion[:n].detach().abs().amax()) if motion is not None else 1.0
    rows = []
    for i in range(n):
        cells = [(rgb[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).astype(np.uint8),
                 colorize_depth(depth[i, 0])]
        if motion is not None:
            cells.append(colorize_motion(motion[i], scale))
        rows.append(np.concatenate(cells, axis=1))
    return np.concatenate(rows, axis=0)


class RunLogger:
    """Scalars and image summaries of one run; every method is a no-op when ``enabled`` is False (DDP rank > 0)."""

    def __init__(self, run_dir: str | Path, enabled: bool = True, resume_step: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.csv: CsvScalarLog | None = None
        if enabled:
            (self.run_dir / 'images').mkdir(parents=True, exist_ok=True)
            self.csv = CsvScalarLog(self.run_dir / 'metrics.csv', resume_step=resume_step)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self.csv is not None:
            finite = {k: v for k, v in values.items() if math.isfinite(float(v))}
            self.csv.log(step, finite)

    def images(self, step: int, rgb: torch.Tensor, depth: torch.Tensor,
               motion: torch.Tensor | None = None) -> Path | None:
        """Write ``RUN_DIR/images/step_NNNNNNN.png`` (see :func:`summary_grid`); returns its path."""
        if not self.enabled:
            return None
        path = self.run_dir / 'images' / f'step_{step:07d}.png'
        imsave(path, summary_grid(rgb, depth, motion))
        return path
