"""Absurd intrinsics in a bag (issue 12): a CameraInfo with fx 1e-300, a non-finite K or a principal point far
outside the image is refused by the node's own rule (``msg_fields.camera_info_K``) with the reason, when training
or evaluating from the bag: one such message is skipped and counted (the nearest valid CameraInfo is used), a bag
with none valid stops with one line naming why."""
import json
from pathlib import Path

import numpy as np
import pytest

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.samples import to_sample
from selfdepth_ros.bag.testing import write_toy_drive
from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros.cli import main as selfdepth
from selfdepth_ros.eval.sources import open_gt_index
from selfdepth_ros.msg_fields import camera_info_K

RECIPE = Path(__file__).resolve().parents[2] / 'config/train/dynamic_scenes_small.yaml'
W, H = 64, 48
GOOD = np.array([[60.0, 0, 31.5], [0, 60.0, 23.5], [0, 0, 1]])
ABSURD = {'fx 1e-300': ((1e-300, 60.0, 31.5, 23.5), 'no valid focal length'),
          'fx 0': ((0.0, 60.0, 31.5, 23.5), 'no valid focal length'),
          'fy 1e7': ((60.0, 1e7, 31.5, 23.5), 'no valid focal length'),
          'NaN cx': ((60.0, 60.0, float('nan'), 23.5), 'no valid focal length'),
          'inf fx': ((float('inf'), 60.0, 31.5, 23.5), 'no valid focal length'),
          'cx far right': ((60.0, 60.0, 3.0 * W, 23.5), 'principal point'),
          'cy far above': ((60.0, 60.0, 31.5, -2.0 * H), 'principal point')}


def _K(fx, fy, cx, cy):
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])


@pytest.mark.parametrize('name', sorted(ABSURD))
def test_bag_camera_info_is_refused_by_the_nodes_rule(name):
    k, why = ABSURD[name]
    msg = m.camera_info_msg(_K(*k), W, H, 1, 'cam')
    with pytest.raises(ValueError, match=why) as refused:
        to_sample(m.CAMERA_INFO, msg, 1)
    with pytest.raises(ValueError) as same:
        camera_info_K(msg)
    assert str(refused.value) == str(same.value)
    assert np.array_equal(to_sample(m.CAMERA_INFO, m.camera_info_msg(GOOD, W, H, 1, 'cam'), 1).K, GOOD)


def test_the_node_uses_the_same_check():
    pytest.importorskip('rclpy')
    from selfdepth_ros.nodes import conversions
    assert conversions.camera_info_K is camera_info_K


def _drive(path, bad_frames):
    """Five 64×48 frames, each with a CameraInfo of its stamp; those in ``bad_frames`` have fx 1e-300."""
    rng = np.random.default_rng(0)
    with BagWriter(path) as bag:
        for t in range(5):
            stamp = 1_000_000_000 + 100_000_000 * t
            bag.write_image('/camera/image_raw', rng.integers(0, 255, (H, W, 3), dtype=np.uint8), 'rgb8', stamp,
                            'cam')
            bag.write_camera_info('/camera/camera_info', _K(1e-300, 60, 31.5, 23.5) if t in bad_frames else GOOD,
                                  W, H, stamp, 'cam')
    return path


def test_one_absurd_camera_info_is_skipped_with_its_reason(tmp_path):
    with pytest.warns(UserWarning, match=r'/camera/camera_info: skipping corrupt message \(CameraInfo.k has no '
                                         r'valid focal length \(fx=1e-300'):
        index = open_gt_index(_drive(tmp_path / 'bag', bad_frames={2}))
    assert np.array_equal(index.K[2], GOOD) and np.all(index.K == GOOD)  # the nearest valid one
    assert index.skipped == {'/camera/camera_info': 1}
    index.close()


def test_eval_counts_the_refused_camera_info(tmp_path, capsys):
    gt = _drive(tmp_path / 'gt', bad_frames={1})
    pred = tmp_path / 'pred'
    with BagWriter(pred) as bag:
        for t in range(5):
            stamp = 1_000_000_000 + 100_000_000 * t
            bag.write_image('/selfdepth/depth', np.full((H, W), 2.0, np.float32), '32FC1', stamp, 'cam')
    out = tmp_path / 'm.json'
    with pytest.warns(UserWarning, match='no valid focal length'):
        selfdepth(['eval', '--pred-bag', str(pred), '--bag', str(gt), '--json', str(out)])
    assert json.loads(out.read_text())['skipped'] == {'corrupt message on /camera/camera_info': 1}


def _absurd_bag(tmp_path):
    bag = tmp_path / 'bag'
    write_toy_drive(bag, K=_K(1e-300, 60.0, 31.5, 23.5), gt=False)
    return bag, (f'bag {bag}, topic /camera/camera_info: no readable CameraInfo message (9 refused, the first: '
                 'CameraInfo.k has no valid focal length (fx=1e-300')


def test_a_bag_without_valid_intrinsics_stops_train_with_the_reason(tmp_path, capsys):
    bag, expected = _absurd_bag(tmp_path)
    with pytest.warns(UserWarning):
        rc = selfdepth(['train', '--config', str(RECIPE), '--bags', str(bag), '--out', str(tmp_path / 'r'),
                        '--no-progress'])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and expected in err and err.count('\n') == 0, err


def test_a_bag_without_valid_intrinsics_stops_eval_with_the_reason(tmp_path, capsys):
    bag, expected = _absurd_bag(tmp_path)
    with pytest.warns(UserWarning):
        rc = selfdepth(['eval', '--checkpoint', 'shipped', '--bag', str(bag)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and expected in err and err.count('\n') == 0, err  # eval: exit 1 for an unusable bag
