"""Every bad-input case gives a BagError naming bag, topic and reason; a corrupt message is skipped, counted."""
import warnings

import numpy as np
import pytest

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.index import FrameIndex
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.testing import write_toy_drive
from selfdepth_ros.bag.writer import BagWriter


def test_missing_topic(tmp_path):
    write_toy_drive(tmp_path / 'bag', gt=False)
    with pytest.raises(BagError, match=r"bag .*bag: missing topic '/cam/left'; available topics: /camera/camera_info"):
        FrameIndex(tmp_path / 'bag', image_topic='/cam/left')


def test_wrong_topic_type(tmp_path):
    write_toy_drive(tmp_path / 'bag')
    with pytest.raises(BagError, match='topic /gt/odom: type nav_msgs/msg/Odometry, expected one of'):
        FrameIndex(tmp_path / 'bag', image_topic='/gt/odom')


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_empty_bag(tmp_path, storage):
    with BagWriter(tmp_path / 'empty', storage=storage):
        pass
    with pytest.raises(BagError, match=r'empty\.*.*empty'):
        BagReader(tmp_path / 'empty')


def test_not_a_bag(tmp_path):
    junk = tmp_path / 'junk.mcap'
    junk.write_bytes(b'this is not an mcap file at all' * 10)
    with pytest.raises(BagError, match='junk.mcap: not an MCAP file'):
        BagReader(junk)
    with pytest.raises(BagError, match='no such file'):
        BagReader(tmp_path / 'nothing')


def test_unknown_encoding(tmp_path):
    with BagWriter(tmp_path / 'bag') as w:
        from selfdepth_ros.bag import messages as m
        msg = m.image_msg(np.zeros((4, 4), np.uint8), 'mono8', 1, 'cam')
        msg.encoding = 'bayer_rggb8'
        w.write('/camera/image_raw', m.IMAGE, msg, 1)
    with pytest.raises(BagError, match=r"bag .*topic /camera/image_raw: unsupported image encoding 'bayer_rggb8'"):
        FrameIndex(tmp_path / 'bag')
    with BagReader(tmp_path / 'bag') as bag, pytest.raises(BagError, match="'bayer_rggb8'"):
        list(bag.samples('/camera/image_raw'))


def test_camera_info_of_another_size(tmp_path):
    with BagWriter(tmp_path / 'bag') as w:
        for i in range(2):
            w.write_image('/camera/image_raw', np.zeros((48, 64, 3), np.uint8), 'rgb8', i + 1, 'cam')
            w.write_camera_info('/camera/camera_info', np.eye(3) * 50, 640, 480, i + 1, 'cam')
    with pytest.raises(BagError, match=r'topic /camera/camera_info: CameraInfo of another size \(640×480\) than the '
                                       r'images on /camera/image_raw \(64×48\)'):
        FrameIndex(tmp_path / 'bag')


@pytest.mark.parametrize('stamps, what', [([1, 2, 2, 3], 'duplicated'), ([1, 3, 2, 4], 'out of order')])
def test_stamps_duplicated_or_out_of_order(tmp_path, stamps, what):
    from selfdepth_ros.bag import messages as m
    stamps = [s * 100_000_000 for s in stamps]
    with BagWriter(tmp_path / 'bag') as w:  # received in order, header stamps as given
        for i, stamp in enumerate(stamps):
            w.write('/camera/image_raw', m.IMAGE, m.image_msg(np.full((4, 4), i, np.uint8), 'mono8', stamp, 'c'), i + 1)
    with pytest.raises(BagError, match=rf'topic /camera/image_raw: header stamps {what}.*stamp_policy'):
        FrameIndex(tmp_path / 'bag')
    with pytest.warns(UserWarning, match=what):
        ix = FrameIndex(tmp_path / 'bag', stamp_policy='sort')
    assert np.all(np.diff(ix.stamps_ns) > 0) and len(ix) == len(set(stamps))


def test_image_size_change(tmp_path):
    with BagWriter(tmp_path / 'bag') as w:
        w.write_image('/camera/image_raw', np.zeros((4, 4), np.uint8), 'mono8', 1, 'cam')
        w.write_image('/camera/image_raw', np.zeros((4, 6), np.uint8), 'mono8', 2, 'cam')
    with pytest.raises(BagError, match='image size changes from 4×4 to 6×4'):
        FrameIndex(tmp_path / 'bag')


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_corrupt_messages_skipped_and_counted(tmp_path, storage):
    frames = write_toy_drive(tmp_path / 'good', shifts=[4] * 3, gt=False)
    with BagWriter(tmp_path / 'bag', storage=storage) as w:
        from selfdepth_ros.bag import messages as m
        for i, rgb in enumerate(frames):
            w.write_image('/camera/image_raw', rgb, 'rgb8', (i + 1) * 10**8, 'cam')
        w.write_raw('/camera/image_raw', m.IMAGE, b'\x00\x01garbage CDR', 5 * 10**8 + 1)  # undeserialisable
        bad = m.image_msg(frames[0], 'rgb8', 6 * 10**8, 'cam')
        bad.step = bad.step - 1  # data length no longer matches step × height
        w.write('/camera/image_raw', m.IMAGE, bad, 6 * 10**8)
    with pytest.warns(UserWarning, match='topic /camera/image_raw: skipping corrupt message'):
        ix = FrameIndex(tmp_path / 'bag', camera_info_topic=None)
    assert len(ix) == len(frames) and ix.skipped == {'/camera/image_raw': 2}
    np.testing.assert_array_equal(ix.image(2), frames[2])
    with BagReader(tmp_path / 'bag') as bag, warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert len(list(bag.samples('/camera/image_raw'))) == len(frames)
        assert bag.skipped == {'/camera/image_raw': 2}
