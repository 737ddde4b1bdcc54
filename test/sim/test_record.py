"""`selfdepth simulate` bags read back with rosbags directly: topics, types, stamps, encodings, frame ids, data."""
import numpy as np
import pytest
from rosbags.rosbag2 import Reader

from selfdepth_ros.image_codec import image_to_numpy, rosbags_typestore
from selfdepth_ros.sim.cli import main
from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import render_drive
from selfdepth_ros.sim.record import TOPICS

ARGS = ['--frames', '6', '--width', '64', '--height', '32', '--seed', '3', '--moving-objects', '2', '--quiet']
IMAGE_FIELD = {'/camera/image_raw': 'rgb', '/gt/depth': 'depth', '/gt/motion': 'motion', '/gt/semantic': 'semantic',
               '/gt/moving_mask': 'moving_mask'}


def _stamp(header):
    return header.stamp.sec * 1_000_000_000 + header.stamp.nanosec


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_bag_topics_stamps_encodings_frame_ids(tmp_path, storage):
    out = tmp_path / f'drive_{storage}'
    assert main(['--out', str(out), '--storage', storage, *ARGS]) == 0
    expected = render_drive(SimConfig(frames=6, width=64, height=32, seed=3, moving_objects=2))
    store = rosbags_typestore()
    seen = {topic: [] for topic in TOPICS}
    with Reader(out) as reader:
        assert {c.topic: c.msgtype for c in reader.connections} == {t: m for t, (m, _) in TOPICS.items()}
        for conn, bag_stamp, raw in reader.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            k = len(seen[conn.topic])
            assert _stamp(msg.header) == bag_stamp == expected.stamps_ns[k]
            encoding = TOPICS[conn.topic][1]
            if encoding is not None:
                assert msg.encoding == encoding and msg.header.frame_id == 'camera_optical_frame'
                np.testing.assert_array_equal(image_to_numpy(msg), getattr(expected, IMAGE_FIELD[conn.topic])[k])
            elif conn.topic == '/camera/camera_info':
                assert (msg.width, msg.height, msg.distortion_model) == (64, 32, 'plumb_bob')
                np.testing.assert_allclose(np.asarray(msg.k).reshape(3, 3), expected.K)
                assert not np.any(msg.d) and msg.header.frame_id == 'camera_optical_frame'
            else:
                assert (msg.header.frame_id, msg.child_frame_id) == ('odom', 'camera_optical_frame')
                p, q = msg.pose.pose.position, msg.pose.pose.orientation
                np.testing.assert_allclose([p.x, p.y, p.z], expected.pose[k][:3, 3], atol=1e-9)
                # The optical axis (camera z) expressed in odom, from the quaternion.
                z_axis = [2 * (q.x * q.z + q.w * q.y), 2 * (q.y * q.z - q.w * q.x), 1 - 2 * (q.x ** 2 + q.y ** 2)]
                np.testing.assert_allclose(z_axis, expected.pose[k][:3, 2], atol=1e-9)
                assert msg.twist.twist.linear.z > 1.0  # moving forward along the optical axis, m/s
            seen[conn.topic].append(bag_stamp)
    assert all(len(stamps) == 6 for stamps in seen.values())


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    existing = tmp_path / 'taken'
    existing.mkdir()
    assert main(['--out', str(existing), *ARGS]) == 2
    assert 'exists already' in capsys.readouterr().err
    assert main(['--out', str(tmp_path / 'a'), '--frames', '1', '--quiet']) == 2
    assert '--frames must be an integer >= 2' in capsys.readouterr().err
    assert main(['--out', str(tmp_path / 'b'), '--width', '4', '--quiet']) == 2
    assert '--width must be an integer >= 16' in capsys.readouterr().err
    assert main(['--out', str(tmp_path / 'missing' / 'c'), '--quiet']) == 2
    assert 'parent directory' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['--out', str(tmp_path / 'd'), '--storage', 'rosbag1'])
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()
