"""Scalar CSV (resume drops rows past the resumed step) and PNG image summaries."""
import csv

import numpy as np
import torch
from matplotlib.image import imread

from selfdepth_ros_training.logging import CsvScalarLog, RunLogger, summary_grid


def _rows(path):
    with open(path, newline='') as fh:
        return list(csv.DictReader(fh))


def test_csv_grows_columns_and_resume_truncates(tmp_path):
    log = CsvScalarLog(tmp_path / 'm.csv')
    log.log(1, {'loss': 1.0})
    log.log(2, {'loss': 0.5, 'lr': 1e-4})
    log.log(3, {'loss': 0.25, 'lr': 1e-4})
    rows = _rows(tmp_path / 'm.csv')
    assert [r['step'] for r in rows] == ['1', '2', '3'] and rows[0]['lr'] == '' and rows[2]['loss'] == '0.25'
    CsvScalarLog(tmp_path / 'm.csv', resume_step=2).log(3, {'loss': 0.3, 'lr': 1e-4})
    rows = _rows(tmp_path / 'm.csv')
    assert [(r['step'], r['loss']) for r in rows] == [('1', '1'), ('2', '0.5'), ('3', '0.3')]


def test_image_summary_is_a_png_grid(tmp_path):
    rgb = torch.rand(3, 3, 32, 48)
    depth = torch.linspace(1, 50, 32 * 48).view(1, 1, 32, 48).repeat(3, 1, 1, 1)
    motion = torch.zeros(3, 3, 32, 48)
    motion[:, 0, 10:20, 10:20] = 0.5
    grid = summary_grid(rgb, depth, motion, max_rows=2)
    assert grid.shape == (64, 144, 3) and grid.dtype == np.uint8
    near, far = grid[0, 48], grid[31, 48 + 47]
    assert near.astype(int).sum() > far.astype(int).sum()  # near = bright in the depth column
    assert grid[15, 96 + 15, 0] == 255 and grid[0, 96, 0] in (127, 128)  # +x motion is red, none is grey
    logger = RunLogger(tmp_path, enabled=True)
    path = logger.images(7, rgb, depth, motion)
    assert path.name == 'step_0000007.png' and imread(path).shape[:2] == (96, 144)
    silent = RunLogger(tmp_path / 'rank1', enabled=False)
    assert silent.images(7, rgb, depth) is None and not (tmp_path / 'rank1').exists()
