"""The tie between the world and the geometry: warping frame t+1 into frame t with the ground-truth depth,
pose and motion field (selfdepth_ros.geometry, eq. z'p' = K R K⁻¹ z p + K T) must reproduce frame t far better
than a wrong pose or a motion field zeroed on the moving objects. Fails if either module is wrong."""
import numpy as np
import pytest
import torch

from selfdepth_ros.geometry.pose import relative_pose
from selfdepth_ros.geometry.warp import inverse_warp
from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import render_drive

CFG = SimConfig(width=416, height=128, frames=4, seed=11, moving_objects=4, parked_vehicles=2)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.fixture(scope='module')
def drive():
    return render_drive(CFG)


def _photometric(drive, k, R, T):
    """Mean |I_t − warp(I_{t+1})| per pixel (RGB in [0,1]) and the mask of pixels visible in both frames."""
    img1 = _t(drive.rgb[k]).permute(2, 0, 1)[None].float() / 255
    img2 = _t(drive.rgb[k + 1]).permute(2, 0, 1)[None].float() / 255
    dep1, dep2 = _t(drive.depth[k])[None, None], _t(drive.depth[k + 1])[None, None]
    K = _t(drive.K)[None].float()
    out = inverse_warp(torch.cat([img2, dep2], 1), dep1, K, R, T)
    visible = out.valid & (out.z <= out.image[:, 3:] * 1.02 + 0.05)  # not occluded in frame t+1
    return (out.image[:, :3] - img1).abs().mean(1, keepdim=True), visible


def _gt_motion(drive, k):
    rel = relative_pose(_t(drive.pose[k])[None], _t(drive.pose[k + 1])[None])
    R, T_ego = rel[:, :3, :3].float(), rel[:, :3, 3].float()
    T_obj = _t(drive.motion[k]).permute(2, 0, 1)[None]
    return R, T_ego, T_obj


@pytest.mark.parametrize('k', [0, 2])
def test_ground_truth_warp_beats_wrong_pose(drive, k):
    R, T_ego, T_obj = _gt_motion(drive, k)
    err, vis = _photometric(drive, k, R, T_ego[:, :, None, None] + T_obj)
    gt = err[vis].mean().item()
    assert vis.float().mean() > 0.7
    assert gt < 0.012, f'ground-truth warp error {gt:.4f} too high: world and geometry disagree'
    yaw = torch.tensor([[np.cos(0.01), 0, np.sin(0.01)], [0, 1, 0], [-np.sin(0.01), 0, np.cos(0.01)]]).float()
    for name, (Rw, Tw) in {'no translation': (R, 0 * T_ego), 'half translation': (R, 0.5 * T_ego),
                           'yaw +0.57 deg': (yaw @ R, T_ego), 'inverse motion': (R.transpose(1, 2), -T_ego)}.items():
        err_w, vis_w = _photometric(drive, k, Rw, Tw[:, :, None, None] + T_obj)
        wrong = err_w[vis_w].mean().item()
        assert gt < 0.5 * wrong, f'{name}: ground truth {gt:.4f} not far below wrong pose {wrong:.4f}'


@pytest.mark.parametrize('k', [0, 2])
def test_ground_truth_motion_field_beats_zeroed_field_on_moving_objects(drive, k):
    R, T_ego, T_obj = _gt_motion(drive, k)
    moving = _t(drive.moving_mask[k] > 0)[None, None]
    assert moving.sum() > 500
    err, vis = _photometric(drive, k, R, T_ego[:, :, None, None] + T_obj)
    err0, vis0 = _photometric(drive, k, R, T_ego[:, :, None, None] + 0 * T_obj)
    gt = err[vis & moving].mean().item()
    zeroed = err0[vis0 & moving].mean().item()
    assert gt < 0.2 * zeroed, f'moving objects: ground truth {gt:.4f} vs zeroed motion {zeroed:.4f}'
