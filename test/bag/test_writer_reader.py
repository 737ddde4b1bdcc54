"""BagWriter → BagReader round trips in both storages, and reading real bags we did not write."""
import os
from pathlib import Path

import numpy as np
import pytest

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.samples import CameraInfoSample, ImageSample, OdometrySample
from selfdepth_ros.bag.writer import BagWriter

REAL = Path(os.environ['SELFDEPTH_REAL_DATA']) / 'ros2_bags'
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason='shared real bags not present on this machine')


def _rotation_z(yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _write_everything(path, storage):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    depth = rng.uniform(1, 80, (6, 5)).astype(np.float32)
    motion = rng.normal(size=(6, 5, 3)).astype(np.float32)
    K = np.array([[50.0, 0, 2.5], [0, 51.0, 3.0], [0, 0, 1]])
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = _rotation_z(0.3), [1.0, -2.0, 0.5]
    with BagWriter(path, storage=storage) as w:
        for i in range(3):
            stamp = 10**9 + i * 10**8
            w.write_image('/camera/image_raw', rgb, 'rgb8', stamp, 'cam')
            w.write_image('/gt/depth', depth + i, '32FC1', stamp, 'cam')
            w.write_image('/gt/motion', motion, '32FC3', stamp, 'cam')
            w.write_camera_info('/camera/camera_info', K, 5, 6, stamp, 'cam')
            w.write_odometry('/gt/odom', T, stamp, 'odom', 'cam', twist=np.arange(6.0),
                             pose_covariance=np.eye(6))
            w.write_compressed_image('/camera/compressed', rgb, 'png', stamp, 'cam')
    assert w.counts['/gt/odom'] == 3
    return rgb, depth, motion, K, T


def _read_all(path):
    with BagReader(path) as bag:
        return bag.topics, {t: list(bag.samples(t)) for t in bag.topics}, bag.storage


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_round_trip_typed_samples(tmp_path, storage):
    rgb, depth, motion, K, T = _write_everything(tmp_path / 'bag', storage)
    topics, samples, got_storage = _read_all(tmp_path / 'bag')
    assert got_storage == storage
    assert {t: i.count for t, i in topics.items()} == {t: 3 for t in topics}
    img = samples['/camera/image_raw'][1]
    assert isinstance(img, ImageSample) and img.stamp_ns == 10**9 + 10**8 and img.frame_id == 'cam'
    np.testing.assert_array_equal(img.image, rgb)
    np.testing.assert_array_equal(samples['/gt/depth'][2].image, depth + 2)
    np.testing.assert_array_equal(samples['/gt/motion'][0].image, motion)
    np.testing.assert_array_equal(samples['/camera/compressed'][0].image, rgb)  # png is lossless
    info = samples['/camera/camera_info'][0]
    assert isinstance(info, CameraInfoSample) and info.size == (5, 6)
    np.testing.assert_array_equal(info.K, K)
    odo = samples['/gt/odom'][0]
    assert isinstance(odo, OdometrySample) and (odo.frame_id, odo.child_frame_id) == ('odom', 'cam')
    np.testing.assert_allclose(odo.T, T, atol=1e-12)
    np.testing.assert_array_equal(odo.twist, np.arange(6.0))


def test_mcap_and_sqlite3_read_back_identically(tmp_path):
    _write_everything(tmp_path / 'a', 'mcap')
    _write_everything(tmp_path / 'b', 'sqlite3')
    ta, sa, _ = _read_all(tmp_path / 'a')
    tb, sb, _ = _read_all(tmp_path / 'b')
    assert ta == tb
    for topic in ta:
        for x, y in zip(sa[topic], sb[topic], strict=True):
            assert type(x) is type(y) and x.stamp_ns == y.stamp_ns
            for field in ('image', 'K', 'T', 'twist', 'D'):
                if hasattr(x, field):
                    np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


def test_writer_refuses_existing_path_and_mixed_types(tmp_path):
    (tmp_path / 'taken').mkdir()
    with pytest.raises(BagError, match='exists already'):
        BagWriter(tmp_path / 'taken')
    with pytest.raises(BagError, match="storage must be one of"):
        BagWriter(tmp_path / 'x', storage='rosbag1')
    with BagWriter(tmp_path / 'y') as w:
        w.write_odometry('/odom', np.eye(4), 1, 'odom', 'base')
        with pytest.raises(BagError, match='/odom: already holds nav_msgs/msg/Odometry'):
            w.write_image('/odom', np.zeros((2, 2), np.uint8), 'mono8', 2, 'cam')


@needs_real
def test_real_mcap_odometry_into_poses():
    with BagReader(REAL / 'nav2_turtlebot.mcap') as bag:
        assert bag.topics['/odom'].count == 2639 and bag.storage == 'mcap'
        odo = list(bag.samples('/odom'))
    assert len(odo) == 2639
    poses = np.stack([s.T for s in odo])
    R = poses[:, :3, :3]
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    np.testing.assert_allclose(poses[:, 3], np.broadcast_to([0, 0, 0, 1.0], (len(odo), 4)))
    assert np.all(np.diff([s.stamp_ns for s in odo]) >= 0)
    assert {s.frame_id for s in odo} == {'odom'}
    assert np.ptp(poses[:, 0, 3]) > 0.5  # the robot drives


@needs_real
@pytest.mark.parametrize('name', ['nav2_turtlebot.mcap', 'tf_example_ros2'])
def test_real_bag_missing_image_topic_lists_topics(name):
    with BagReader(REAL / name) as bag:
        with pytest.raises(BagError, match=r"missing topic '/camera/image_raw'; available topics: .*/tf "):
            bag.require('/camera/image_raw')


@needs_real
def test_real_sqlite3_bag_generic_messages():
    with BagReader(REAL / 'tf_example_ros2') as bag:
        assert bag.storage == 'sqlite3' and bag.topics['/tf'].count == 517
        first = next(bag.samples('/tf'))
    assert first.msgtype == 'tf2_msgs/msg/TFMessage' and first.msg.transforms[0].header.frame_id == 'odom'
