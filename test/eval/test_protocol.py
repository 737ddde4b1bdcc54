"""The KITTI protocol options (crops, depth caps, named in the JSON) and the bags real footage comes as: sparse
single-frame depth ground truth without odometry, and odometry ground truth without depth."""
import json

import numpy as np
import pytest

from selfdepth_ros.eval.cli import headline, main
from selfdepth_ros.eval.evaluate import EvalConfig, FrameRecord, evaluate
from selfdepth_ros.eval.metrics import crop_bounds, crop_mask

W, H = 64, 40
N_SPARSE = 4
STAMP0, GAP = 1_000_000_000, 10_000_000_000      # frames 10 s apart: no two are consecutive
K = np.array([[50.0, 0, 31.5], [0, 50.0, 19.5], [0, 0, 1]])


def test_crops_select_monodepth2_rows_and_columns():
    a = np.arange(10 * 20).reshape(10, 20)
    # garg: rows int(4.08)=4 … int(9.92)=9, cols int(0.72)=0 … int(19.28)=19 (end-exclusive, as monodepth2)
    assert crop_bounds(a.shape, 'garg') == (4, 9, 0, 19)
    np.testing.assert_array_equal(a[crop_mask(a.shape, 'garg')].reshape(5, 19), a[4:9, 0:19])
    assert crop_bounds(a.shape, 'eigen') == (3, 9, 0, 19)
    assert crop_mask(a.shape, 'none').all()
    assert crop_bounds((375, 1242), 'garg') == (153, 371, 44, 1197)      # the KITTI raw frame size
    assert crop_bounds((375, 1242), 'eigen') == (124, 342, 44, 1197)
    with pytest.raises(ValueError, match='crop must be one of'):
        crop_bounds(a.shape, 'center')


def test_crop_limits_the_scored_pixels_for_model_and_baseline():
    gt = np.full((10, 20), 10.0, np.float32)
    pred = gt.copy()
    pred[:4] = 1.0                                   # wrong only above the Garg crop (rows 0–3)
    pred[:, 19] = 1.0                                # and in the last column
    rec = FrameRecord(0, pred, gt)
    assert evaluate([rec]).metrics['depth']['abs_rel'] > 0.1
    m = evaluate([rec], EvalConfig(crop='garg')).metrics
    assert m['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert m['baselines']['constant_depth']['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)   # gt constant
    assert m['config']['protocol'] == {'crop': 'garg', 'min_depth': 1e-3, 'max_depth': 80.0, 'scaling': 'median',
                                       'trajectory_alignment': 'sim3', 'snippet_protocol': 'sim3',
                                       'snippet_length': 5}
    with pytest.raises(ValueError, match='crop must be one of'):
        EvalConfig(crop='center')


def _sparse_gt(t):
    """LiDAR-like depth: 5 % of the pixels have a return (a few of them beyond the 80 m cap), NaN elsewhere."""
    rng = np.random.default_rng(t)
    depth = np.full((H, W), np.nan, np.float32)
    flat = rng.choice(H * W, size=H * W // 20, replace=False)
    depth.flat[flat] = rng.uniform(2.0, 60.0, flat.size)
    depth.flat[flat[:5]] = 120.0
    return depth


@pytest.fixture(scope='module')
def sparse_bags(tmp_path_factory):
    """(GT bag: images + camera_info + sparse /gt/depth only, 10 s apart; the node's outputs for it: depth equal
    to half the GT where it is valid and within the cap, wrong everywhere else)."""
    from selfdepth_ros.bag import messages as m
    from selfdepth_ros.bag.writer import BagWriter
    root = tmp_path_factory.mktemp('sparse')
    rng = np.random.default_rng(0)
    with BagWriter(root / 'gt') as gt_bag, BagWriter(root / 'pred') as pred_bag:
        for t in range(N_SPARSE):
            stamp, fid = STAMP0 + GAP * t, 'camera_optical_frame'
            depth = _sparse_gt(t)
            gt_bag.write_image('/camera/image_raw', rng.integers(0, 255, (H, W, 3), dtype=np.uint8), 'rgb8', stamp, fid)
            gt_bag.write_camera_info('/camera/camera_info', K, W, H, stamp, fid)
            gt_bag.write_image('/gt/depth', depth, '32FC1', stamp, fid)
            pred = np.where(np.isfinite(depth) & (depth < 80), 0.5 * depth, 7.0).astype(np.float32)
            pred_bag.write('/selfdepth/depth', m.IMAGE, m.image_msg(pred, '32FC1', stamp, fid), stamp + 20_000_000)
    return root / 'gt', root / 'pred'


def test_sparse_single_frame_bag_scores_depth_only(sparse_bags, tmp_path, capsys):
    gt, pred = sparse_bags
    out = tmp_path / 'm.json'
    assert main(['--pred-bag', str(pred), '--bag', str(gt), '--json', str(out), '--crop', 'garg',
                 '--report', str(tmp_path / 'report')]) == 0
    m = json.loads(out.read_text())
    assert m['depth']['frames'] == N_SPARSE and m['depth']['abs_rel'] == pytest.approx(0, abs=1e-6)
    assert m['depth']['scale_median'] == pytest.approx(2.0)
    assert m['baselines']['constant_depth']['depth']['abs_rel'] > 0.2
    assert m['trajectory'] is None and m['baselines']['straight_ahead'] is None
    assert m['absent']['trajectory'] == 'no /gt/odom in the bag'
    assert m['absent']['depth_static'] == 'no /gt/moving_mask in the bag'
    assert m['config']['protocol']['crop'] == 'garg' and m['config']['protocol']['max_depth'] == 80.0
    printed = capsys.readouterr().out
    assert 'constant depth' in printed and 'trajectory        absent: no /gt/odom in the bag' in printed
    page = (tmp_path / 'report' / 'index.html').read_text()
    assert 'constant depth' in page and 'no /gt/odom in the bag' in page and 'garg crop' in page


def test_sparse_single_frame_bag_through_a_checkpoint(sparse_bags, tiny_checkpoint, tmp_path):
    gt, _ = sparse_bags
    out = tmp_path / 'm.json'
    assert main(['--checkpoint', str(tiny_checkpoint), '--bag', str(gt), '--json', str(out), '--device', 'cpu',
                 '--metric', '--min-depth', '0.001', '--max-depth', '80']) == 0
    m = json.loads(out.read_text())
    assert m['depth']['frames'] == N_SPARSE and m['trajectory'] is None and m['motion_field'] is None
    c = m['baselines']['constant_depth']
    assert c['depth']['frames'] == N_SPARSE and 2.0 < c['constant_m'] < 60.0
    assert m['config']['protocol']['scaling'] == 'none' and m['absent']['trajectory'] == 'no /gt/odom in the bag'


@pytest.fixture(scope='module')
def odom_only_bag(tmp_path_factory):
    """The KITTI odometry case: images, camera_info and /gt/odom (straight ahead at 1 m per frame), no depth."""
    from selfdepth_ros.bag.writer import BagWriter
    path = tmp_path_factory.mktemp('odom') / 'gt'
    rng = np.random.default_rng(1)
    with BagWriter(path) as bag:
        for t in range(7):
            stamp, fid = STAMP0 + 100_000_000 * t, 'camera_optical_frame'
            pose = np.eye(4)
            pose[2, 3] = float(t)
            bag.write_image('/camera/image_raw', rng.integers(0, 255, (H, W, 3), dtype=np.uint8), 'rgb8', stamp, fid)
            bag.write_camera_info('/camera/camera_info', K, W, H, stamp, fid)
            bag.write_odometry('/gt/odom', pose, stamp, 'odom', fid)
    return path


def test_odometry_only_bag_scores_the_trajectory(odom_only_bag, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / 'm.json'
    assert main(['--checkpoint', str(tiny_checkpoint), '--bag', str(odom_only_bag), '--json', str(out),
                 '--device', 'cpu', '--snippet-protocol', 'sfmlearner']) == 0
    m = json.loads(out.read_text())
    assert m['depth'] is None and m['absent']['depth'] == 'no /gt/depth in the bag'
    assert m['baselines']['constant_depth'] is None
    assert m['trajectory']['ate']['poses'] == 7
    s = m['baselines']['straight_ahead']
    assert s['snippet_ate']['mean'] == pytest.approx(0, abs=1e-9) and s['ate']['rmse'] == pytest.approx(0, abs=1e-9)
    assert s['snippet_ate']['window_error'].startswith('sqrt(sum of squared')
    assert 'straight-ahead' in capsys.readouterr().out


def test_headline_layout(make_records):
    text = headline(evaluate(make_records()).metrics)
    lines = text.splitlines()
    depth = next(i for i, line in enumerate(lines) if line.startswith('depth  '))
    assert lines[depth + 1].startswith('  constant depth  abs_rel ')
    traj = next(i for i, line in enumerate(lines) if line.startswith('trajectory'))
    assert lines[traj + 1].startswith('  straight-ahead  ATE ') and 'snippet ATE' in lines[traj + 1]
    assert lines[0] == 'depth: 8 of 8 frames, trajectory: 8 poses, motion: 8 pairs; skipped: nothing'
    assert 'crop none, caps 0.001-80 m' in lines[1]
