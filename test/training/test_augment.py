"""Random flip: mirrored pixels and principal point, reproducible per (seed, epoch, index)."""
import torch

from selfdepth_ros.geometry import backproject, project
from training.augment import FlipAugmented, flip_sample


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
