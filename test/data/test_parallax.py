"""Pair selection by image motion (``pair_selection='parallax'``): strides from measured sub-pixel flow,
stops dropped."""
import cv2
import numpy as np
import pytest

from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros_training.data.dataset import BagFramesDataset

NET = (96, 64)  # network (width, height)
FACTOR = 10     # native images are 10× wider: a pan of 3 native px is 0.3 px at the network size


def write_pan_bag(path, shifts_net_px, seed=0):
    """Frames of a smooth random texture panned by ``shifts_net_px[t]`` (network pixels) from frame t to t+1,
    with sensor noise; 10 Hz, no CameraInfo. Returns the cumulative pan per frame in network pixels."""
    native = [int(round(s * FACTOR)) for s in shifts_net_px]
    pan = np.concatenate([[0], np.cumsum(native)]).astype(int)
    w, h = NET[0] * FACTOR, NET[1]
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(h // 4 + 2, (w + pan.max()) // (4 * FACTOR) + 2, 3)).astype(np.float32)
    texture = cv2.resize(coarse, ((w + pan.max()) + 8 * FACTOR, h + 8), interpolation=cv2.INTER_CUBIC)[4:4 + h]
    with BagWriter(path) as bag:
        for i, p in enumerate(pan):
            frame = texture[:, p:p + w] + rng.normal(0, 2.0, (h, w, 3))
            bag.write_image('/camera/image_raw', np.clip(frame, 0, 255).astype(np.uint8), 'rgb8',
                            1_000_000_000 + 100_000_000 * i, 'cam')
    return pan / FACTOR


def expected(pan, max_stride, min_px, symmetric=False):
    """Analytic selection: per frame t the smallest k with |pan[t+k] − pan[t]| ≥ min_px (both halves when
    symmetric); asserts that no pan difference lies within 0.09 px of the threshold (the test stays robust)."""
    out, n = {}, len(pan)
    for t in range(1 if symmetric else 0, n - 1):
        for k in range(1, max_stride + 1):
            lo, hi = (t - k, t + k) if symmetric else (t, t + k)
            if lo < 0 or hi >= n:
                break
            moves = [pan[hi] - pan[t]] + ([pan[t] - pan[lo]] if symmetric else [])
            assert all(abs(m - min_px) > 0.09 for m in moves), (t, k, moves)
            if min(moves) >= min_px:
                out[t] = k
                break
    return out


def picked(ds, symmetric=False):
    centre = 1 if symmetric else 0
    return {frames[centre]: frames[centre + 1] - frames[centre] for _, frames in ds.samples}


def test_slow_pan_of_0_3_px_per_frame_selects_stride_4(tmp_path):
    pan = write_pan_bag(tmp_path / 'slow', [0.3] * 12)
    ds = BagFramesDataset(tmp_path / 'slow', NET, pair_selection='parallax', max_stride=5, min_parallax_px=1.0)
    assert picked(ds) == expected(pan, 5, 1.0) == {t: 4 for t in range(9)}  # 3 × 0.3 = 0.9 < 1 ≤ 4 × 0.3
    assert ds.dropped['parallax'] == 3 and dict(ds.strides) == {4: 9}  # the last 3 frames reach the bag's end
    assert ds.selection_summary().endswith('dropped: parallax 3; strides used 4:9')
    # triplets (monodepth baseline): the symmetric (t−k, t, t+k), both halves moving enough
    tri = BagFramesDataset(tmp_path / 'slow', NET, offsets=(-1, 0, 1), pair_selection='parallax', max_stride=5)
    assert picked(tri, symmetric=True) == expected(pan, 5, 1.0, symmetric=True) == {4: 4, 5: 4, 6: 4, 7: 4, 8: 4}
    assert tri.samples[0][1] == (0, 4, 8)
    # the index rule on the same bag: consecutive frames, none dropped at min_motion 0
    assert [f for _, f in BagFramesDataset(tmp_path / 'slow', NET, min_motion=0).samples][:2] == [(0, 1), (1, 2)]


def test_a_stop_is_dropped_exactly_and_faster_motion_keeps_stride_1(tmp_path):
    # 2 px per frame, a stop of 8 frames (frames 4..12 identical up to noise), then 2 px per frame again
    pan = write_pan_bag(tmp_path / 'stop', [2.0] * 4 + [0.0] * 8 + [2.0] * 4, seed=1)
    ds = BagFramesDataset(tmp_path / 'stop', NET, pair_selection='parallax', max_stride=3, min_parallax_px=1.0)
    want = expected(pan, 3, 1.0)
    assert picked(ds) == want
    stopped = [t for t in range(len(pan) - 1) if t not in want]
    assert stopped == [4, 5, 6, 7, 8, 9]  # stopped frames whose next 3 frames are stopped too
    assert ds.dropped == {'gap': 0, 'gt': 0, 'motion': 0, 'parallax': 6}
    assert {t: want[t] for t in (10, 11, 12)} == {10: 3, 11: 2, 12: 1}  # the car drives off
    assert all(want[t] == 1 for t in (0, 1, 2, 3, 13, 14))


def test_parallax_measure_and_arguments(tmp_path):
    write_pan_bag(tmp_path / 'b', [0.5] * 3)
    ds = BagFramesDataset(tmp_path / 'b', NET, pair_selection='parallax', max_stride=2)
    assert ds._parallax(0, 0, 1) == pytest.approx(0.5, abs=0.05)
    assert ds._parallax(0, 0, 2) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError, match="pair_selection must be one of"):
        BagFramesDataset(tmp_path / 'b', NET, pair_selection='flow')
    with pytest.raises(ValueError, match='max_stride >= it'):
        BagFramesDataset(tmp_path / 'b', NET, offsets=(0, 3), pair_selection='parallax', max_stride=2)
