"""Random flip: mirrored pixels and principal point, reproducible per (seed, epoch, index)."""
import pytest
import torch

from selfdepth_ros.geometry import backproject, project
from selfdepth_ros_training.augment import FlipAugmented, flip_sample


def _item(W=8, H=4):
    K = torch.tensor([[5.0, 0, 2.0], [0, 5.0, 1.5], [0, 0, 1]])
    pose = torch.eye(4).repeat(2, 1, 1)
    pose[1, :3, 3] = torch.tensor([1.0, 0.0, 2.0])
    return {'images': torch.rand(2, 3, H, W), 'K': K, 'has_intrinsics': torch.tensor(True),
            'depth_gt': torch.rand(2, 1, H, W) + 1, 'motion_gt': torch.ones(2, 3, H, W), 'pose_gt': pose}


def test_flip_mirrors_pixels_and_keeps_projection_consistent():
    item = _item()
    out = flip_sample(item)
    assert torch.equal(out['images'], item['images'].flip(-1))
    assert out['K'][0, 2] == 7 - 2.0 and out['K'][1, 2] == 1.5 and item['K'][0, 2] == 2.0
    assert torch.equal(out['motion_gt'][:, 0], -item['motion_gt'][:, 0])
    # A 3D point mirrored in x projects to the mirrored pixel with the mirrored K.
    depth = item['depth_gt'][:1]
    points = backproject(depth, item['K'][None])
    mirrored = points * torch.tensor([-1.0, 1, 1]).view(1, 3, 1, 1)
    uv, _ = project(mirrored, out['K'][None])
    assert torch.allclose(uv[0, 0], (7 - torch.arange(8.0)).expand(4, 8), atol=1e-5)
    assert torch.allclose(out['pose_gt'][1, :3, 3], torch.tensor([-1.0, 0, 2]))


def test_flip_decisions_are_keyed_on_seed_epoch_and_index():
    class Base(torch.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return _item()

    a, b = FlipAugmented(Base(), seed=3), FlipAugmented(Base(), seed=3)
    flips = [a.flipped(i) for i in range(64)]
    assert flips == [b.flipped(i) for i in range(64)] and 10 < sum(flips) < 54
    a.epoch = 1
    assert [a.flipped(i) for i in range(64)] != flips
    assert not any(FlipAugmented(Base(), enabled=False).flipped(i) for i in range(64))
    assert a[5]['index'] == 5


def _smooth_image(H=48, W=64):
    v, u = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing='ij')
    return torch.stack([0.5 + 0.4 * torch.sin(u / 5) * torch.cos(v / 7), 0.5 + 0.3 * torch.cos(u / 9),
                        0.5 + 0.3 * torch.sin(v / 4)])


def test_rotated_last_frame_is_reproduced_by_the_warp_with_that_rotation_for_any_depth():
    """A static camera (frame 2 = frame 1) turned by Q: the 001 warp with (R = Q, T = 0) maps frame 1 onto the
    rotated frame exactly (away from the border strip), whatever the depth — the known-motion case."""
    from selfdepth_ros.geometry import euler_to_matrix, resample, warp_coordinates
    from selfdepth_ros_training.augment import rotate_last_frame
    img = _smooth_image()
    K = torch.tensor([[40.0, 0, 31.5], [0, 40.0, 23.5], [0, 0, 1]])
    angles = torch.tensor([0.01, 0.05, -0.02], dtype=torch.float64)
    item = {'images': torch.stack([img, img]), 'K': K, 'depth_gt': torch.ones(2, 1, 48, 64)}
    out = rotate_last_frame(item, angles)
    assert 'depth_gt' not in out and torch.equal(out['images'][0], img)
    depth = 3 + 5 * torch.rand(1, 1, 48, 64)
    R = euler_to_matrix(angles.float()[None])
    uv, _, valid = warp_coordinates(depth, K[None], R, torch.zeros(1, 3, 1, 1))
    recon = resample(out['images'][1:], uv)  # frame 1 rebuilt from the rotated frame 2
    inner = valid[0, 0].clone()
    inner[:, :8] = inner[:, -8:] = False
    inner[:4], inner[-4:] = False, False
    err = (recon[0] - img).abs()[:, inner]
    assert inner.sum() > 1000 and err.max() < 0.02, float(err.max())


def test_rotation_augmentation_is_keyed_on_seed_epoch_index():
    from selfdepth_ros_training.augment import FlipAugmented
    base = [{'images': torch.rand(2, 3, 16, 32), 'K': torch.tensor([[20.0, 0, 15.5], [0, 20.0, 7.5], [0, 0, 1]]),
             'has_intrinsics': torch.tensor(True)} for _ in range(8)]
    a = FlipAugmented(base, seed=3, enabled=False, rotation_deg=3.0)
    b = FlipAugmented(base, seed=3, enabled=False, rotation_deg=3.0)
    rots = [a.rotation(i) for i in range(8)]
    assert any(r is None for r in rots) and any(r is not None for r in rots)
    for i in range(8):
        assert torch.equal(a[i]['images'], b[i]['images'])
        r = rots[i]
        assert r is None or (abs(float(r[1])) <= 3 * torch.pi / 180 and abs(float(r[0])) <= 0.75 * torch.pi / 180)
    off = FlipAugmented(base, seed=3, enabled=False)
    assert all(off.rotation(i) is None for i in range(8)) and torch.equal(off[0]['images'], base[0]['images'])
    with pytest.raises(ValueError, match='rotation_deg'):
        FlipAugmented(base, rotation_deg=-1.0)
