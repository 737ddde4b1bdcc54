"""Learning is real: brief CI-sized runs must clearly improve held-out depth.

1. Depth path (losses, warp, flip augmentation, depth net): the depth net alone, trained with the 001 loss
   and the ground-truth ego-motion / object motion of the synthetic drive, must beat the constant-depth
   predictor on a held-out drive. A disconnected loss, a wrong warp direction or an inconsistent flip fails it.
2. Whole recipe (depth + motion nets, self-supervised, ``dynamic_scenes_small.yaml``) on static-world drives: held-out
   depth must beat its untrained start and the constant predictor by 15 %. Static worlds, because within CI's
   budget moving objects are not learned yet (they drift to infinity, as with any static-scene loss early on);
   ``bench/learning.py`` measures the full dynamic drives over several seeds. A disconnected motion net, a
   translation that never learns forward, or a depth scale that runs away fails it.
Both run in the default suite (~1 and ~2 min on 2 cores).
"""
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from selfdepth_ros_training.augment import FlipAugmented
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.trainer import RunOptions, Trainer

ROOT = Path(__file__).resolve().parents[2]
STEPS = 300
GT_POSE_STEPS = 120


def _ground_truth_motion(batch):
    """(angles 2B×3, translation 2B×3, residual 2B×3×H×W) of both pair orders from the simulator's ground truth."""
    from selfdepth_ros.geometry.pose import relative_pose
    from selfdepth_ros.geometry.rotation import matrix_to_euler

    P = batch['pose_gt']
    T = torch.cat([relative_pose(P[:, 0], P[:, 1]), relative_pose(P[:, 1], P[:, 0])])
    obj = batch['motion_gt']  # B×2×3×H×W: T_obj of frame t's pixels, t → t+1
    return matrix_to_euler(T[:, :3, :3]), T[:, :3, 3], torch.cat([obj[:, 0], -obj[:, 1]])


def test_depth_net_learns_with_ground_truth_motion(sim_bag):
    from selfdepth_ros.models import DepthNet, ModelConfig
    from selfdepth_ros_training.data.dataset import BagFramesDataset
    from selfdepth_ros_training.evaluation import constant_depth_scores, evaluate_depth, load_held_out
    from selfdepth_ros_training.losses.dynamic_scenes import dynamic_scenes_loss

    torch.manual_seed(0)
    data = FlipAugmented(BagFramesDataset([sim_bag(1, 40), sim_bag(2, 40)], (192, 64), offsets=(0, 1)), seed=0)
    held_out = load_held_out(sim_bag(7, 16), 192, 64)
    net = DepthNet(ModelConfig.small(norm='batch'))
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    weights = {'motion_smoothing': 0.0, 'motion_drift': 0.0}
    before = evaluate_depth(net, held_out['rgb'], held_out['depth'])['abs_rel']
    step = 0
    while step < GT_POSE_STEPS:
        data.epoch += 1
        for batch in DataLoader(data, batch_size=4, shuffle=True, drop_last=True):
            rgb = torch.cat([batch['images'][:, 0], batch['images'][:, 1]])
            angles, translation, residual = _ground_truth_motion(batch)
            loss = dynamic_scenes_loss(rgb, net(rgb)[0], angles, translation, residual,
                                       torch.cat([batch['K'], batch['K']]), weights)['total']
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step >= GT_POSE_STEPS:
                break
    after = evaluate_depth(net, held_out['rgb'], held_out['depth'])['abs_rel']
    constant = constant_depth_scores(held_out['depth'])['abs_rel']
    print(f'abs rel: constant {constant:.3f}, untrained {before:.3f}, trained with GT motion {after:.3f}')
    assert after < 0.85 * constant


def test_small_dynamic_scenes_recipe_learns_depth_and_ego_motion(tmp_path, sim_bag):
    """The whole self-supervised recipe (depth + motion nets, no labels) on three short static-world drives."""
    from selfdepth_ros_training.evaluation import constant_depth_scores, evaluate_depth, evaluate_ego_motion, load_held_out

    cfg = load_config(ROOT / 'config/train/dynamic_scenes_small.yaml',
                      {'log': {'progress_bar': False, 'image_every': 0, 'checkpoint_every': STEPS}})
    bags = [str(sim_bag(seed, 100, 416, 128, moving_objects=0)) for seed in (1, 2, 3)]
    trainer = Trainer(cfg, build_dataset(cfg, bags), RunOptions(out=tmp_path, max_steps=STEPS))
    held_out = load_held_out(sim_bag(7, 24, 416, 128, moving_objects=0), cfg.data.width, cfg.data.height)

    def scores():
        depth = evaluate_depth(trainer.depth_net, held_out['rgb'], held_out['depth'])
        ego = evaluate_ego_motion(trainer.depth_net, trainer.motion_net, held_out['rgb'], held_out['pose'])
        return depth['abs_rel'], ego['snippet_ate']

    before, ate_before = scores()
    constant = constant_depth_scores(held_out['depth'])['abs_rel']
    trainer.fit()
    after, ate_after = scores()
    print(f'held-out abs rel: constant {constant:.3f}, untrained {before:.3f}, trained {after:.3f} ({STEPS} steps); '
          f'5-frame ATE {ate_before:.4f} -> {ate_after:.4f} m')
    assert after < 0.85 * before
    assert after < 0.85 * constant
