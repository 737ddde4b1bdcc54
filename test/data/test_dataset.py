"""selfdepth_ros_training.data.dataset.BagFramesDataset: item contract, resizing/intrinsics, selection, multi-bag, caching."""
import os
import pickle

import cv2
import numpy as np
import pytest
import torch

from selfdepth_ros.bag.index import FrameIndex
from selfdepth_ros.bag.testing import TOY_K, write_toy_drive
from selfdepth_ros_training.data.dataset import BagFramesDataset

SIZE = (32, 24)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp('bags') / 'toy'
    frames = write_toy_drive(path, shifts=[4, 0, 4, 4, 4])
    return path, frames


def test_item_contract_and_values(toy):
    path, frames = toy
    ds = BagFramesDataset(path, SIZE, offsets=(-1, 0, 1), min_motion=0)
    assert len(ds) == 4
    item = ds[1]  # frames 1, 2, 3
    H, W = SIZE[1], SIZE[0]
    assert item['images'].shape == (3, 3, H, W) and item['images'].dtype == torch.float32
    expect = np.stack([cv2.resize(frames[f], SIZE, interpolation=cv2.INTER_AREA) for f in (1, 2, 3)])
    np.testing.assert_allclose(item['images'].permute(0, 2, 3, 1).numpy(), expect / 255.0, atol=1e-7)
    # K at net size: fx' = fx·sx, cx' = (cx + 0.5)·sx − 0.5 with sx = sy = 0.5
    np.testing.assert_allclose(item['K'].numpy(), [[30, 0, 15.5], [0, 30, 11.5], [0, 0, 1]], atol=1e-6)
    assert item['K'].dtype == torch.float32 and bool(item['has_intrinsics'])
    assert item['stamps_ns'].tolist() == [1_100_000_000, 1_200_000_000, 1_300_000_000]
    assert item['stamps_ns'].dtype == torch.int64 and int(item['frame_index']) == 2 and int(item['bag_index']) == 0
    assert item['depth_gt'].shape == (3, 1, H, W) and item['depth_gt'][:, 0, 0, 0].tolist() == [2.0, 3.0, 4.0]
    assert item['moving_mask'].dtype == torch.bool and item['moving_mask'][0, 0, :, : W // 4].all()
    assert not item['moving_mask'][0, 0, :, W // 4:].any()
    assert item['motion_gt'].shape == (3, 3, H, W) and item['motion_gt'].abs().max() == 0
    assert item['pose_gt'].shape == (3, 4, 4) and item['pose_gt'][:, 0, 3].tolist() == [1.0, 2.0, 3.0]
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
    assert batch['images'].shape == (2, 3, 3, H, W) and batch['K'].shape == (2, 3, 3)


def test_static_pairs_dropped(toy):
    path, _ = toy
    ds = BagFramesDataset(path, SIZE, offsets=(0, 1))
    assert [s[1] for s in ds.samples] == [(0, 1), (2, 3), (3, 4), (4, 5)] and ds.dropped['motion'] == 1
    assert len(BagFramesDataset(path, SIZE, offsets=(0, 1), min_motion=0)) == 5
    # triplets need motion between both consecutive pairs
    assert [s[1] for s in BagFramesDataset(path, SIZE, offsets=(-1, 0, 1)).samples] == [(2, 3, 4), (3, 4, 5)]


def test_max_time_gap(tmp_path):
    stamps = [10**9, 11 * 10**8, 22 * 10**8, 23 * 10**8]  # a 1.1 s gap between frames 1 and 2
    write_toy_drive(tmp_path / 'bag', shifts=[4, 4, 4], stamps_ns=stamps, gt=False)
    ds = BagFramesDataset(tmp_path / 'bag', SIZE)
    assert [s[1] for s in ds.samples] == [(0, 1), (2, 3)] and ds.dropped['gap'] == 1
    assert len(BagFramesDataset(tmp_path / 'bag', SIZE, max_gap_s=2.0)) == 3


def test_many_bags_and_gt_only_when_all_have_it(tmp_path, toy):
    write_toy_drive(tmp_path / 'plain', shifts=[3, 3], gt=False, seed=5)
    ds = BagFramesDataset([toy[0], tmp_path / 'plain'], SIZE)
    assert len(ds) == 4 + 2 and ds.gt_streams == ()
    assert int(ds[5]['bag_index']) == 1 and 'depth_gt' not in ds[0]
    assert BagFramesDataset([toy[0]], SIZE, load_gt=False).gt_streams == ()


def test_intrinsics_from_config_or_flagged(tmp_path):
    write_toy_drive(tmp_path / 'nocam', shifts=[4, 4], camera_info=False, gt=False)
    # config K of the 64×48 images: fx 120, cx 63 → fx' = 60, cx' = (63 + 0.5)·0.5 − 0.5 = 31.25
    item = BagFramesDataset(tmp_path / 'nocam', SIZE, K=TOY_K * [[2], [2], [1]])[0]
    assert bool(item['has_intrinsics'])
    np.testing.assert_allclose(item['K'].numpy(), [[60, 0, 31.25], [0, 60, 23.25], [0, 0, 1]], atol=1e-5)
    item = BagFramesDataset(tmp_path / 'nocam', SIZE)[0]
    assert not bool(item['has_intrinsics']) and item['K'].shape == (3, 3)


@pytest.mark.parametrize('kind', [dict(encoding='bgr8'), dict(encoding='mono8'), dict(compressed='png'),
                                  dict(compressed='jpeg')])
def test_image_encodings(tmp_path, kind):
    frames = write_toy_drive(tmp_path / 'bag', shifts=[4], gt=False, **kind)
    img = FrameIndex(tmp_path / 'bag').image(1)
    expect = np.repeat(frames[1][:, :, :1], 3, 2) if kind.get('encoding') == 'mono8' else frames[1]
    err = np.abs(img.astype(int) - expect)
    if kind.get('compressed') == 'jpeg':  # lossy (4:2:0 chroma on colour noise): ~10 vs ~37 for swapped channels
        assert err.mean() < 15 < np.abs(img.astype(int) - expect[:, :, ::-1]).mean()
    else:
        assert err.max() == 0


def test_cache_avoids_second_decode(tmp_path, toy, monkeypatch):
    path, _ = toy
    calls = []
    real_image = FrameIndex.image
    monkeypatch.setattr(FrameIndex, 'image', lambda self, i: calls.append(i) or real_image(self, i))
    ds = BagFramesDataset(path, SIZE, cache_dir=tmp_path / 'cache')
    first = [ds[n]['images'] for n in range(len(ds))]
    assert sorted(set(calls)) == list(range(6)) and len(calls) == 6  # each frame decoded once, epoch 1 included
    calls.clear()
    assert all(torch.equal(ds[n]['images'], first[n]) for n in range(len(ds))) and calls == []
    # a new dataset (another process, next run) reads the .npy cache, not the bag
    ds2 = BagFramesDataset(path, SIZE, cache_dir=tmp_path / 'cache', cache_size=0)
    assert all(torch.equal(ds2[n]['images'], first[n]) for n in range(len(ds2))) and calls == []
    assert ds2.cache.misses == 0 and ds2.cache.disk_hits > 0
    # picklable for DataLoader workers (the open bag is dropped and reopened)
    clone = pickle.loads(pickle.dumps(ds))
    assert torch.equal(clone[0]['depth_gt'], ds[0]['depth_gt'])


def test_cache_key_changes_with_the_bag(tmp_path):
    write_toy_drive(tmp_path / 'bag', shifts=[4, 4], gt=False)
    key = BagFramesDataset(tmp_path / 'bag', SIZE)._keys[0]
    f = next((tmp_path / 'bag').glob('*.mcap'))
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    assert BagFramesDataset(tmp_path / 'bag', SIZE)._keys[0] != key
    assert BagFramesDataset(tmp_path / 'bag', (16, 12))._keys[0] != key


def test_bad_arguments(toy):
    with pytest.raises(ValueError, match='offsets must be distinct and contain 0'):
        BagFramesDataset(toy[0], SIZE, offsets=(1, 2))
    with pytest.raises(ValueError, match=r'size must be \(width, height\)'):
        BagFramesDataset(toy[0], (0, 10))
    with pytest.raises(ValueError, match='K must be 3×3'):
        BagFramesDataset(toy[0], SIZE, K=np.eye(4))


def test_build_dataset_from_config(toy):
    from selfdepth_ros_training.config import config_from_dict
    from selfdepth_ros_training.data import build_dataset, offsets_for
    cfg = config_from_dict({'method': 'monodepth_baseline', 'data': {'width': 64, 'height': 64, 'stride': 1}})
    ds = build_dataset(cfg, [toy[0]], verbose=False)
    assert ds.offsets == (-1, 0, 1) and ds.size == (64, 64) and ds.min_motion == 0.01 and ds.gt_streams == ()
    assert build_dataset(cfg, [toy[0]], verbose=False, load_gt=True).gt_streams != ()
    assert offsets_for(2, 2) == (0, 2)
