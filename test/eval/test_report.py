"""The HTML report: every figure written, and it renders in headless Chromium with every image loaded."""
import re
import shutil

import numpy as np
import pytest
from matplotlib import image as mpimg

from selfdepth_ros.eval.browser_check import check_report, find_chromium
from selfdepth_ros.eval.evaluate import evaluate
from selfdepth_ros.eval.report import write_report
from selfdepth_ros.eval.visualize import motion_to_rgb, motion_wheel

needs_chromium = pytest.mark.skipif(find_chromium() is None, reason='chromium not installed '
                                    '(scripts/install_chromium.sh)')


@pytest.fixture(scope='module')
def report(tmp_path_factory, make_records):
    recs = make_records(8)
    rng = np.random.default_rng(0)
    for r in recs:
        r.rgb = rng.integers(0, 255, size=r.rgb.shape, dtype=np.uint8)
    out = tmp_path_factory.mktemp('report')
    return write_report(evaluate(recs), out, source='unit test')


def test_report_files_and_tables(report):
    page = report.read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    # 2 frames × (input, depth, error, motion) + trajectory + timeline
    assert len(srcs) == 10 and all((report.parent / s).is_file() for s in srcs)
    for table in ('depth-table', 'trajectory-table', 'motion-table', 'latency-table'):
        assert f'id="{table}"' in page
    assert (report.parent / 'metrics.json').is_file()


def test_report_tables_show_the_baselines(report):
    page = report.read_text()
    depth = page[page.index('id="depth-table"'):page.index('</table>', page.index('id="depth-table"'))]
    assert depth.count('<th class="baseline">constant depth</th>') == 3 and depth.count('<td class="baseline">') == 24
    traj = page[page.index('id="trajectory-table"'):page.index('</table>', page.index('id="trajectory-table"'))]
    assert '<th>straight-ahead</th>' in traj and 'snippet ATE' in traj


def test_motion_colours():
    rgb = motion_to_rgb(np.array([[[0, 0, 0], [0, 0, 1.0], [1.0, 0, 0], [np.nan, 0, 0]]]), max_norm=1.0)
    np.testing.assert_allclose(rgb[0, 0], [1, 1, 1])            # no motion: white
    np.testing.assert_allclose(rgb[0, 1], [1, 0, 0])            # forward: red (hue 0)
    assert rgb[0, 2, 1] > rgb[0, 2, 0]                          # right: a quarter turn of hue (green side)
    np.testing.assert_allclose(rgb[0, 3], [0.55, 0.55, 0.55])   # invalid: grey
    assert motion_wheel(21)[0, 0, 3] == 0 and motion_wheel(21)[10, 10, 3] == 1


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / 'shot.png'
    status = check_report(report, screenshot=shot, window_size=(1400, 2400))
    assert status['state'] == 'ok', status
    assert status['images'] == 10 and status['broken'] == 0
    img = mpimg.imread(status['screenshot'])
    assert img.shape[:2] == (2400, 1400)
    assert img[..., :3].std() > 0.05  # not a blank page


@needs_chromium
def test_browser_check_detects_a_missing_figure(report, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(report.parent, copy)
    (copy / 'trajectory.png').unlink()
    status = check_report(copy / 'index.html')
    assert status['state'] == 'broken' and status['broken_src'] == ['trajectory.png']
