"""Salvage of truncated MCAP files: intact messages recovered, losses counted, the reader falls back with a warning."""
import os
from pathlib import Path

import numpy as np
import pytest

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.index import FrameIndex
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.salvage import salvage_mcap
from selfdepth_ros.bag.testing import write_toy_drive

REAL = Path(os.environ['SELFDEPTH_REAL_DATA']) / 'ros2_bags' / 'nav2_turtlebot.mcap'


def _truncate(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def test_intact_file_is_not_truncated(tmp_path):
    write_toy_drive(tmp_path / 'bag', shifts=[4] * 3)
    res = salvage_mcap(tmp_path / 'bag' / 'bag.mcap')
    assert not res.truncated and res.lost_messages_estimate == 0 and res.recovered == 4 * 6


def test_truncated_toy_bag_salvages_exact_frames(tmp_path):
    frames = write_toy_drive(tmp_path / 'bag', shifts=[4] * 39, size=(64, 48))  # 40 frames, several chunks
    mcap = tmp_path / 'bag' / 'bag.mcap'
    cut = _truncate(mcap, tmp_path / 'cut.mcap', 0.6)
    with pytest.warns(UserWarning, match=r'bag .*cut.mcap: rosbags could not open it.*salvaged \d+ intact messages'):
        ix = FrameIndex(cut)
    assert ix.reader.salvaged and 10 < len(ix) < 40
    for i in (0, len(ix) - 1):  # every salvaged frame is bit-exact
        np.testing.assert_array_equal(ix.image(i), frames[i])
    res = ix.reader.salvage_results[0]
    assert res.truncated and res.lost_bytes > 0
    # the estimate covers the cut chunk (a power loss writes nothing after it): compare with the full file's index
    from mcap.reader import make_reader
    with mcap.open('rb') as f:
        reader = make_reader(f)
        cut_at = cut.stat().st_size
        chunk = next(c for c in reader.get_summary().chunk_indexes
                     if c.chunk_start_offset <= cut_at < c.chunk_start_offset + c.chunk_length)
        upto = sum(1 for _, _, msg in reader.iter_messages() if msg.log_time <= chunk.message_end_time)
    assert res.lost_messages_estimate > 0 and abs(res.recovered + res.lost_messages_estimate - upto) <= 3


def test_metadata_count_makes_lost_exact(tmp_path):
    write_toy_drive(tmp_path / 'bag', shifts=[4] * 19)
    mcap = tmp_path / 'bag' / 'bag.mcap'
    _truncate(mcap, mcap, 0.5)  # in place: metadata.yaml (written at close) survives, as after a copy error
    res = salvage_mcap(mcap, warn=False)
    assert res.expected_messages == 20 * 6 and res.lost_messages_estimate == 120 - res.recovered


def test_salvage_disabled_fails_clearly(tmp_path):
    write_toy_drive(tmp_path / 'bag', shifts=[4] * 9)
    cut = _truncate(tmp_path / 'bag' / 'bag.mcap', tmp_path / 'cut.mcap', 0.5)
    with pytest.raises(BagError, match='cut.mcap: cannot be opened'):
        BagReader(cut, salvage=False)


def test_cut_inside_header_salvages_nothing(tmp_path):
    write_toy_drive(tmp_path / 'bag', shifts=[4])
    cut = _truncate(tmp_path / 'bag' / 'bag.mcap', tmp_path / 'cut.mcap', 0.01)
    with pytest.raises(BagError, match='cut.mcap: no intact message could be salvaged'):
        BagReader(cut)


@pytest.mark.skipif(not REAL.is_file(), reason='shared real bag not present')
@pytest.mark.parametrize('keep', [0.3, 0.9])
def test_real_truncated_bag(tmp_path, keep):
    """A real, zstd-chunked bag cut inside its one chunk (0.3) and inside its summary (0.9)."""
    cut = _truncate(REAL, tmp_path / 'cut.mcap', keep)
    with pytest.warns(UserWarning, match='salvaged'):
        bag = BagReader(cut)
    with bag:
        odo = list(bag.samples('/odom'))
        assert not bag.skipped
    with BagReader(REAL) as full:
        ref = list(full.samples('/odom'))[: len(odo)]
    assert len(odo) > 0.2 * 2639 and [s.stamp_ns for s in odo] == [s.stamp_ns for s in ref]
    np.testing.assert_array_equal(odo[-1].T, ref[-1].T)
    res = bag.salvage_results[0]
    if keep == 0.9:
        assert res.recovered == 8197 and res.lost_messages_estimate == 0
    else:
        assert abs(res.recovered + res.lost_messages_estimate - 8197) < 200
