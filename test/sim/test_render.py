"""The rendered world against independent computations: road depth, labels, moving mask, motion field."""
import dataclasses
import itertools

import numpy as np
import pytest

from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import iter_frames, render_drive
from selfdepth_ros.sim.scene import ROAD, SIDEWALK, SKY, VEHICLE, make_scene

CFG = SimConfig(width=208, height=64, frames=6, seed=5, moving_objects=4, parked_vehicles=3)
FIELDS = ('rgb', 'depth', 'pose', 'motion', 'semantic', 'moving_mask')


@pytest.fixture(scope='module')
def drive():
    return render_drive(CFG)


def _rays(K, H, W):
    """Camera rays K⁻¹ [u, v, 1] (z component 1) for every pixel centre, H×W×3."""
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    return np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)


def test_shapes_dtypes_and_finite(drive):
    n, H, W = CFG.frames, CFG.height, CFG.width
    assert drive.rgb.shape == (n, H, W, 3) and drive.rgb.dtype == np.uint8
    assert drive.depth.shape == (n, H, W) and drive.depth.dtype == np.float32
    assert drive.motion.shape == (n, H, W, 3) and drive.motion.dtype == np.float32
    assert drive.semantic.dtype == np.uint8 and drive.moving_mask.dtype == np.uint8
    assert drive.pose.shape == (n, 4, 4)
    assert np.isfinite(drive.depth).all() and np.isfinite(drive.motion).all()
    assert (drive.depth > 0).all()
    assert set(np.unique(drive.moving_mask)) <= {0, 255}
    np.testing.assert_array_equal(drive.depth[drive.semantic == SKY], CFG.sky_depth)
    assert (drive.depth[drive.semantic != SKY] < CFG.sky_depth).all()
    assert np.diff(drive.stamps_ns).min() == np.diff(drive.stamps_ns).max() == 100_000_000


def test_road_depth_matches_analytic_ray_plane(drive):
    """z-depth of road pixels = -h / (R·K⁻¹[u,v,1])_z for the plane z = 0 seen from the pose, computed here."""
    rays = _rays(drive.K, CFG.height, CFG.width)
    checked = 0
    for k in range(CFG.frames):
        pose = drive.pose[k]
        assert pose[2, 3] == pytest.approx(CFG.camera_height, abs=1e-12)
        np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-12)
        assert pose[:3, 2] @ np.array([1.0, 0, 0]) > 0.99  # optical axis looks down the street
        world_dz = rays @ pose[2, :3]  # z component of R·ray
        ground = np.isin(drive.semantic[k], (ROAD, SIDEWALK))
        expected = -pose[2, 3] / world_dz[ground]
        np.testing.assert_allclose(drive.depth[k][ground], expected, rtol=2e-5)
        checked += ground.sum()
    assert checked > 0.2 * CFG.frames * CFG.height * CFG.width


def _vehicle_of(points_world, vehicles, t):
    """Index of the vehicle box containing each world point (-1 if none), from the vehicles' poses."""
    owner = np.full(len(points_world), -1)
    for i, v in enumerate(vehicles):
        M = v.pose(t)
        local = (points_world - M[:3, 3]) @ M[:3, :3]
        l, w, h = v.size
        inside = (np.abs(local[:, 0]) <= l / 2 + 1e-3) & (np.abs(local[:, 1]) <= w / 2 + 1e-3) \
            & (local[:, 2] >= -1e-3) & (local[:, 2] <= h + 1e-3)
        owner[inside & (owner < 0)] = i
    return owner


def test_moving_mask_and_motion_cover_exactly_the_moving_vehicles(drive):
    scene = make_scene(CFG)
    rays = _rays(drive.K, CFG.height, CFG.width)
    seen_moving = seen_static = 0
    for k in range(CFG.frames):
        t0, t1 = k / CFG.fps, (k + 1) / CFG.fps
        pose, pose1 = drive.pose[k], scene.ego.camera_pose(t1)
        vehicle = drive.semantic[k] == VEHICLE
        X_cam = rays[vehicle] * drive.depth[k][vehicle][:, None]
        X_world = X_cam @ pose[:3, :3].T + pose[:3, 3]
        owner = _vehicle_of(X_world, scene.vehicles, t0)
        assert (owner >= 0).all(), 'a vehicle pixel lies on no vehicle box'
        moves = np.array([not np.allclose(v.pose(t0), v.pose(t1)) for v in scene.vehicles])
        expected_mask = np.zeros((CFG.height, CFG.width), np.uint8)
        expected_mask[vehicle] = np.where(moves[owner], 255, 0)
        np.testing.assert_array_equal(drive.moving_mask[k], expected_mask)
        # T_obj = R_{cam(t+1)<-world} (X' - X) with X' the point carried by its vehicle's motion.
        expected_motion = np.zeros((CFG.height, CFG.width, 3))
        moved = np.empty_like(X_world)
        for i, v in enumerate(scene.vehicles):
            A = v.pose(t1) @ np.linalg.inv(v.pose(t0))
            moved[owner == i] = X_world[owner == i] @ A[:3, :3].T + A[:3, 3]
        expected_motion[vehicle] = (moved - X_world) @ pose1[:3, :3]
        np.testing.assert_allclose(drive.motion[k], expected_motion, atol=2e-4)
        seen_moving += (expected_mask == 255).sum()
        seen_static += (vehicle & (expected_mask == 0)).sum()
    assert seen_moving > 100 and seen_static > 100, 'the drive must show moving and parked vehicles'
    assert (drive.motion[drive.moving_mask == 0] == 0).all()


def test_deterministic_from_seed(drive):
    again = render_drive(CFG)
    for field in ('rgb', 'depth', 'pose', 'motion', 'semantic', 'moving_mask', 'stamps_ns'):
        np.testing.assert_array_equal(getattr(again, field), getattr(drive, field), err_msg=field)
    other = render_drive(dataclasses.replace(CFG, seed=6, frames=2))
    assert not np.array_equal(other.rgb, drive.rgb[:2])


def test_textures_carry_detail(drive):
    """A photometric loss needs gradients: most non-sky pixels see local intensity variation."""
    grey = drive.rgb[0].astype(np.float32).mean(-1)
    grad = np.abs(np.diff(grey, axis=1))[:-1, :] + np.abs(np.diff(grey, axis=0))[:, :-1]
    solid = drive.semantic[0][:-1, :-1] != SKY
    assert np.median(grad[solid]) > 0.5  # 8-bit levels


def test_nuisances_change_colour_only():
    base = render_drive(dataclasses.replace(CFG, frames=2))
    noisy = render_drive(dataclasses.replace(CFG, frames=2, exposure_jitter=0.1, noise_std=3.0))
    np.testing.assert_array_equal(noisy.depth, base.depth)
    diff = noisy.rgb.astype(np.float32) - base.rgb
    assert 1.0 < np.abs(diff).mean() < 40.0


def test_adaptive_antialiasing_matches_exhaustive_and_keeps_ground_truth(drive):
    """The default (half-pixel rays only where the image changes) against every half-pixel ray cast
    (supersample_threshold=0) and one ray per pixel: same ground truth, colour within a fraction of a level."""
    def first(n, **change):  # the scene depends on cfg.frames: keep it, render only n frames
        frames = list(itertools.islice(iter_frames(dataclasses.replace(CFG, **change)), n))
        return {field: np.stack([getattr(f, field) for f in frames]) for field in FIELDS}

    exhaustive, plain = first(2, supersample_threshold=0.0), first(2, supersample=False)
    for other in (exhaustive, plain):
        for field in FIELDS[1:]:
            np.testing.assert_array_equal(other[field], getattr(drive, field)[:2], err_msg=field)
    diff = np.abs(drive.rgb[:2].astype(np.float32) - exhaustive['rgb'])
    assert diff.mean() < 0.3 and np.percentile(diff, 99) <= 3, (diff.mean(), np.percentile(diff, 99))
    assert np.abs(plain['rgb'].astype(np.float32) - exhaustive['rgb']).mean() > 2 * diff.mean()
