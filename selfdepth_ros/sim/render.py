"""Render one frame of a :class:`~selfdepth_ros.sim.scene.Scene`: colour plus exact ground truth.

One ray per sample, nearest hit among the road plane, the facade planes, the pole cylinders and the vehicle
boxes (the last two only inside their projected screen rectangle). With ``supersample`` the samples lie on
a half-pixel grid ``u = -1, -0.5, 0, …, W`` (likewise v) and colour is a 5×5 binomial filter of it, so every
pixel centre is itself a sample: the ground truth (depth, labels, motion) is exact at pixel centres while
colour is anti-aliased. Conventions: docs/CONVENTIONS.md (z-depth, T_obj of (t → t+1) in frame-(t+1) axes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfdepth_ros.sim import raycast, textures
from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.scene import BUILDING, POLE, ROAD, SIDEWALK, SKY, VEHICLE, Scene

# Hit kinds stored per sample (semantic labels are derived from them at pixel centres).
_SKY, _GROUND, _WALL, _POLE, _VEHICLE = 0, 1, 2, 3, 4
_CULL_BEHIND, _CULL_AHEAD = 10.0, 200.0  # x-range (metres from the camera) where poles/vehicles are tested


@dataclass
class RenderedFrame:
    """Output of :meth:`Renderer.render` (before photometric nuisances)."""

    rgb: np.ndarray
    """H×W×3 float32 linear colour in [0, 1]."""
    depth: np.ndarray
    """H×W float32 z-depth, metres (``sky_depth`` on sky)."""
    semantic: np.ndarray
    """H×W uint8 labels (scene.SKY, ROAD, …)."""
    moving_mask: np.ndarray
    """H×W uint8, 255 on vehicles whose world pose changes between t and t+1."""
    motion: np.ndarray
    """H×W×3 float32 T_obj of (t → t+1) in camera-(t+1) axes, metres."""
    pose: np.ndarray
    """4×4 float64 T_odom_cam at t."""


class Renderer:
    """Renders frames of one scene with one camera; build once per drive."""

    def __init__(self, cfg: SimConfig, scene: Scene) -> None:
        self.cfg, self.scene, self.K = cfg, scene, cfg.K
        if cfg.supersample:  # half-pixel grid -1, -0.5, 0, ..., W: 2W+3 samples, pixel centres at even indices >= 2
            self.grid_u = -1.0 + 0.5 * np.arange(2 * cfg.width + 3)
            self.grid_v = -1.0 + 0.5 * np.arange(2 * cfg.height + 3)
        else:
            self.grid_u, self.grid_v = np.arange(cfg.width, dtype=np.float64), np.arange(cfg.height, dtype=np.float64)
        fx, fy, cx, cy = self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2]
        uu, vv = np.meshgrid(self.grid_u, self.grid_v)
        self.dcam = (((uu - cx) / fx).astype(np.float32), ((vv - cy) / fy).astype(np.float32))
        self.ray_norm = np.sqrt(1 + self.dcam[0] ** 2 + self.dcam[1] ** 2).astype(np.float32)
        # Pixel centres inside the sample grid.
        self.centre = (slice(2, -1, 2), slice(2, -1, 2)) if cfg.supersample else (slice(None), slice(None))

    def time(self, index: int) -> float:
        """Time of frame ``index`` in seconds from the start of the drive."""
        return index / self.cfg.fps

    def render(self, index: int) -> RenderedFrame:
        """Render frame ``index`` (any integer; frame index+1 need not be rendered for the motion field)."""
        t0, t1 = self.time(index), self.time(index + 1)
        pose = self.scene.ego.camera_pose(t0)
        pose_next = self.scene.ego.camera_pose(t1)
        o = pose[:3, 3].copy()
        R = pose[:3, :3].astype(np.float32)
        dx, dy = self.dcam
        d = tuple(R[k, 0] * dx + R[k, 1] * dy + R[k, 2] for k in range(3))  # world directions, camera z = 1
        t_best = np.full(dx.shape, np.inf, np.float32)
        kind = np.zeros(dx.shape, np.int8)
        which = np.zeros(dx.shape, np.int16)

        def take(tt: np.ndarray, k: int, i: int, where: tuple = (slice(None), slice(None))) -> None:
            closer = tt < t_best[where]
            t_best[where][closer] = tt[closer]
            kind[where][closer] = k
            which[where][closer] = i

        take(raycast.plane(o[2], d[2], 0.0), _GROUND, 0)
        for i, wall in enumerate(self.scene.walls):
            tt = raycast.plane(o[1], d[1], wall.side * wall.offset)
            near = np.flatnonzero(tt < t_best)  # only rays that could still hit this wall first
            tn = tt.ravel()[near]
            x = np.float32(o[0]) + tn * d[0].ravel()[near]
            z = np.float32(o[2]) + tn * d[2].ravel()[near]
            b, on = wall.building_at(x)
            on &= z < wall.height[b]
            hit = near[on]
            t_best.ravel()[hit], kind.ravel()[hit], which.ravel()[hit] = tn[on], _WALL, i
        T_cam_world = np.linalg.inv(pose)
        for i, (px, py, radius, height) in enumerate(self.scene.poles):
            if not -_CULL_BEHIND < px - o[0] < _CULL_AHEAD:
                continue
            corners = np.array([[px + a, py + b, c] for a in (-radius, radius) for b in (-radius, radius)
                                for c in (0.0, height)])
            rect = raycast.screen_rect(corners, T_cam_world, self.K, self.grid_u, self.grid_v)
            if rect is not None:
                take(raycast.vertical_cylinder(o, tuple(c[rect] for c in d), (px, py), radius, height),
                     _POLE, i, rect)
        vehicle_poses = [v.pose(t0) for v in self.scene.vehicles]
        for i, (vehicle, M) in enumerate(zip(self.scene.vehicles, vehicle_poses)):
            if not -_CULL_BEHIND < M[0, 3] - o[0] < _CULL_AHEAD:
                continue
            lo, hi = _box_bounds(vehicle.size)
            corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (0.0, hi[2])])
            rect = raycast.screen_rect(corners @ M[:3, :3].T + M[:3, 3], T_cam_world, self.K,
                                       self.grid_u, self.grid_v)
            if rect is None:
                continue
            Rm = M[:3, :3].astype(np.float32)
            o_obj = M[:3, :3].T @ (o - M[:3, 3])
            d_obj = tuple(sum(Rm[j, k] * d[j][rect] for j in range(3)) for k in range(3))  # Rmᵀ d
            take(raycast.box(o_obj, d_obj, lo, hi), _VEHICLE, i, rect)

        rgb = self._shade(o, d, t_best, kind, which, vehicle_poses)
        if self.cfg.supersample:
            rgb = _binomial_downsample(_binomial_downsample(rgb, 0), 1)
        c = self.centre
        return self._ground_truth(o, tuple(x[c] for x in d), t_best[c], kind[c], which[c], rgb, pose, pose_next,
                                  vehicle_poses, t1)

    def _shade(self, o, d, t_best, kind, which, vehicle_poses) -> np.ndarray:
        """Colour of every sample, H_s×W_s×3 float32 (flat index gathers: cheaper than boolean masks)."""
        scene, noise, fx = self.scene, self.scene.noise, float(self.K[0, 0])
        shape = t_best.shape
        rgb = np.empty((t_best.size, 3), np.float32)
        d = [x.ravel() for x in d]
        norm, t_best, kind, which = self.ray_norm.ravel(), t_best.ravel(), kind.ravel(), which.ravel()

        def hits(k: int):
            idx = np.flatnonzero(kind == k)
            t = t_best[idx]
            return idx, [np.float32(o[j]) + t * d[j][idx] for j in range(3)], t * norm[idx] / fx

        def plane_footprints(idx, fp, normal: int, axes: tuple[int, int]):
            """Pixel footprint along two in-plane axes: the footprint disc is stretched by 1/cos along the
            ray's projection ŝ onto the plane, so along axis e it spans fp·sqrt((e·ŝ)²/cos² + 1 − (e·ŝ)²)."""
            a, b = d[axes[0]][idx], d[axes[1]][idx]
            cos2 = np.maximum(d[normal][idx] ** 2 / norm[idx] ** 2, 1e-4)
            inplane2 = np.maximum(a * a + b * b, 1e-12)
            return tuple(fp * np.sqrt(e * e / inplane2 * (1 / cos2 - 1) + 1) for e in (a, b))

        idx = np.flatnonzero(kind == _SKY)
        rgb[idx] = textures.sky(noise, np.stack([d[j][idx] for j in range(3)], axis=1))
        idx, X, fp = hits(_GROUND)
        rgb[idx] = textures.ground(noise, X[0], X[1], *plane_footprints(idx, fp, 2, (0, 1)))
        idx, X, fp = hits(_WALL)
        if idx.size:
            colour, window, brick = (np.empty((idx.size, 3), np.float32), np.empty((idx.size, 4)),
                                     np.empty(idx.size, bool))
            wall_id = which[idx]
            for i, wall in enumerate(scene.walls):
                sel = np.flatnonzero(wall_id == i)
                b, _ = wall.building_at(X[0][sel])
                colour[sel], window[sel], brick[sel] = wall.colour[b], wall.window[b], wall.brick[b]
            rgb[idx] = textures.facade(noise, X[0], X[2], *plane_footprints(idx, fp, 1, (0, 2)), colour, window, brick)
        idx, X, fp = hits(_POLE)
        if idx.size:
            centres = scene.poles[which[idx]]
            angle = np.arctan2(X[1] - centres[:, 1], X[0] - centres[:, 0])
            rgb[idx] = textures.pole(noise, angle, X[2], fp)
        idx, X, fp = hits(_VEHICLE)
        if idx.size:
            ids = which[idx]
            obj = np.empty((idx.size, 3), np.float32)
            Xw = np.stack(X, axis=1)
            for i in np.unique(ids):
                sel = np.flatnonzero(ids == i)
                M = vehicle_poses[i]
                obj[sel] = (Xw[sel] - M[:3, 3]) @ M[:3, :3]  # object coordinates: Mᵀ (X - c)
            colour = np.stack([v.colour for v in scene.vehicles])[ids]
            height = np.array([v.size[2] for v in scene.vehicles], np.float32)[ids]
            rgb[idx] = textures.vehicle(noise, obj[:, 0], obj[:, 1], obj[:, 2], fp, colour, height)
        return rgb.reshape(shape + (3,))

    def _ground_truth(self, o, d, t, kind, which, rgb, pose, pose_next, vehicle_poses, t1) -> RenderedFrame:
        cfg, scene = self.cfg, self.scene
        depth = np.where(kind == _SKY, np.float32(cfg.sky_depth), t).astype(np.float32)
        semantic = np.full(t.shape, SKY, np.uint8)
        ground = kind == _GROUND
        y = np.float32(o[1]) + np.where(ground, t, 0) * d[1]
        semantic[ground] = np.where(np.abs(y[ground]) <= textures.ROAD_HALF_WIDTH, ROAD, SIDEWALK)
        semantic[kind == _WALL] = BUILDING
        semantic[kind == _POLE] = POLE
        semantic[kind == _VEHICLE] = VEHICLE
        moving = np.zeros(t.shape, np.uint8)
        motion = np.zeros(t.shape + (3,), np.float32)
        R_next_world = pose_next[:3, :3].T
        for i, vehicle in enumerate(scene.vehicles):
            sel = (kind == _VEHICLE) & (which == i)
            if not sel.any():
                continue
            A = vehicle.pose(t1) @ np.linalg.inv(vehicle_poses[i])  # world motion of the body, t -> t+1
            if np.allclose(A, np.eye(4), rtol=0.0, atol=1e-9):
                continue
            tt = t[sel].astype(np.float64)
            Xw = o[None, :] + tt[:, None] * np.stack([d[j][sel] for j in range(3)], axis=1).astype(np.float64)
            dX = Xw @ A[:3, :3].T + A[:3, 3] - Xw
            motion[sel] = (dX @ R_next_world.T).astype(np.float32)  # T_obj in camera-(t+1) axes
            moving[sel] = 255
        return RenderedFrame(rgb=rgb, depth=depth, semantic=semantic, moving_mask=moving, motion=motion, pose=pose)


def _box_bounds(size: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    length, width, height = size
    return np.array([-length / 2, -width / 2, 0.0]), np.array([length / 2, width / 2, height])


def _binomial_downsample(samples: np.ndarray, axis: int) -> np.ndarray:
    """Filter half-pixel samples with the binomial kernel [1 4 6 4 1]/16 (≈ Gaussian, σ = 0.5 px: a mild
    optical blur that keeps bilinear resampling of the image accurate) and keep the pixel centres."""
    n = (samples.shape[axis] - 3) // 2
    out = 0.0
    for a, w in enumerate((1.0, 4.0, 6.0, 4.0, 1.0)):
        index = [slice(None)] * samples.ndim
        index[axis] = slice(a, a + 2 * n - 1, 2)
        out = out + np.float32(w / 16.0) * samples[tuple(index)]
    return out
