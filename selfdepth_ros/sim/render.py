"""Render one frame of a :class:`~selfdepth_ros.sim.scene.Scene`: colour plus exact ground truth.

One ray per pixel centre (the primary samples), nearest hit among the road plane, the facade planes, the pole
cylinders and the vehicle boxes (the last two only for rays inside their projected screen box). The ground
truth (depth, labels, motion) comes from the primary rays, so it is exact at pixel centres. With
``supersample`` colour is anti-aliased by :mod:`selfdepth_ros.sim.antialias` (a 5×5 binomial filter over
half-pixel samples, cast only where the primary image changes). Per-frame work is vectorised over rays; the
culling boxes of all poles/vehicles are projected at once. Conventions: docs/CONVENTIONS.md (z-depth, T_obj of
(t → t+1) in frame-(t+1) axes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from selfdepth_ros.sim import raycast, textures
from selfdepth_ros.sim.antialias import antialias
from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.scene import BUILDING, POLE, ROAD, SIDEWALK, SKY, VEHICLE, Scene

# Hit kinds stored per sample (semantic labels are derived from them at pixel centres).
_SKY, _GROUND, _WALL, _POLE, _VEHICLE = 0, 1, 2, 3, 4
_CULL_BEHIND, _CULL_AHEAD = 10.0, 200.0  # x-range (metres from the camera) where poles/vehicles are tested
_CULL_MID, _CULL_HALF = (_CULL_AHEAD - _CULL_BEHIND) / 2, (_CULL_AHEAD + _CULL_BEHIND) / 2


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


@dataclass
class _View:
    """The camera and the vehicles at the time of one frame (world frame)."""

    o: np.ndarray
    """(3,) float64 camera centre."""
    R: np.ndarray
    """3×3 float32 camera-to-world rotation."""
    T_cam_world: np.ndarray
    """4×4 float64 world-to-camera transform."""
    vehicle_poses: list[np.ndarray]
    """4×4 float64 ``T_world_object`` of every scene vehicle."""
    poles: list[tuple[int, np.ndarray]]
    """(index, pixel box ``[u_min, u_max, v_min, v_max]``) of the poles that can be in view."""
    vehicles: list[tuple[int, np.ndarray]]
    """(index, pixel box) of the vehicles that can be in view."""


class Renderer:
    """Renders frames of one scene with one camera; build once per drive."""

    def __init__(self, cfg: SimConfig, scene: Scene) -> None:
        self.cfg, self.scene, self.K = cfg, scene, cfg.K
        # Primary samples: one ray per pixel centre; with supersample a ring of one pixel around the image too
        # (support of the anti-aliasing filter at the border).
        self.pad = 1 if cfg.supersample else 0
        self.grid_u = np.arange(-self.pad, cfg.width + self.pad, dtype=np.float64)
        self.grid_v = np.arange(-self.pad, cfg.height + self.pad, dtype=np.float64)
        uu, vv = np.meshgrid(self.grid_u, self.grid_v)
        self.primary = (uu.ravel(), vv.ravel()) + self._camera_rays(uu.ravel(), vv.ravel())
        # Corners of the bounding boxes of the poles (world) and vehicles (object frame), n×8×3, for culling.
        signs = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (0, 1)], np.float64)
        p = scene.poles.reshape(-1, 4)  # x, y, radius, height
        self.pole_corners = np.concatenate([p[:, None, :2] + signs[None, :, :2] * p[:, None, 2:3],
                                            signs[None, :, 2:] * p[:, None, 3:4]], axis=2)
        self.vehicle_corners = np.array([signs * (v.size[0] / 2, v.size[1] / 2, v.size[2])
                                         for v in scene.vehicles]).reshape(-1, 8, 3)
        # Facade attributes of every building of every wall, indexed by a global building id (the hit's `which`).
        self.building_offset = np.cumsum([0] + [len(w.x0) for w in scene.walls])
        self.facades = (np.concatenate([w.colour for w in scene.walls]).astype(np.float32),
                        np.concatenate([w.window for w in scene.walls]).astype(np.float32),
                        np.concatenate([w.brick for w in scene.walls]))
        self.vehicle_colour = np.array([v.colour for v in scene.vehicles], np.float32).reshape(-1, 3)
        self.vehicle_height = np.array([v.size[2] for v in scene.vehicles], np.float32)
        self.extra_rays = 0
        """Half-pixel rays cast by the anti-aliasing of the last rendered frame (diagnostics)."""

    def _camera_rays(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camera-frame directions (x, y; z = 1) and their lengths for pixel coordinates u, v, float32."""
        fx, fy, cx, cy = self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2]
        dx, dy = ((u - cx) / fx).astype(np.float32), ((v - cy) / fy).astype(np.float32)
        return dx, dy, np.sqrt(1 + dx ** 2 + dy ** 2).astype(np.float32)

    def time(self, index: int) -> float:
        """Time of frame ``index`` in seconds from the start of the drive."""
        return index / self.cfg.fps

    def render(self, index: int) -> RenderedFrame:
        """Render frame ``index`` (any integer; frame index+1 need not be rendered for the motion field)."""
        cfg = self.cfg
        t0, t1 = self.time(index), self.time(index + 1)
        pose = self.scene.ego.camera_pose(t0)
        view = self._view(pose, t0)
        u, v, dx, dy, norm = self.primary
        d, t_best, kind, which = self._trace(view, u, v, dx, dy)
        rgb = self._shade(view, d, t_best, kind, which, norm)
        shape = (len(self.grid_v), len(self.grid_u))
        if cfg.supersample:
            def shade_at(su: np.ndarray, sv: np.ndarray) -> np.ndarray:
                sdx, sdy, snorm = self._camera_rays(su, sv)
                return self._shade(view, *self._trace(view, su, sv, sdx, sdy), snorm)

            surface = (kind.astype(np.int64) << 32) | which
            thin = [box for _, box in view.poles if box[1] - box[0] < 4.0]  # poles under 4 px wide
            rgb, self.extra_rays = antialias(rgb.reshape(shape + (3,)), surface.reshape(shape), shade_at,
                                             cfg.supersample_threshold, thin)
        else:
            rgb = rgb.reshape(shape + (3,))
        c = (slice(self.pad, self.pad + cfg.height), slice(self.pad, self.pad + cfg.width))
        t_best, kind, which = (x.reshape(shape)[c] for x in (t_best, kind, which))
        return self._ground_truth(view, tuple(x.reshape(shape)[c] for x in d), t_best, kind, which, rgb, pose,
                                  self.scene.ego.camera_pose(t1), t1)

    def _view(self, pose: np.ndarray, t: float) -> _View:
        """Camera, vehicle poses and the screen boxes of the poles and vehicles in view at time t."""
        o, T_cam_world = pose[:3, 3].copy(), np.linalg.inv(pose)
        vehicle_poses = [v.pose(t) for v in self.scene.vehicles]
        near = np.flatnonzero(np.abs(self.scene.poles.reshape(-1, 4)[:, 0] - o[0] - _CULL_MID) < _CULL_HALF)
        pole_boxes = raycast.screen_boxes(self.pole_corners[near], T_cam_world, self.K)
        M = np.array(vehicle_poses).reshape(-1, 4, 4)
        near_v = np.flatnonzero(np.abs(M[:, 0, 3] - o[0] - _CULL_MID) < _CULL_HALF)
        corners = np.einsum('nij,nkj->nki', M[near_v, :3, :3], self.vehicle_corners[near_v]) + M[near_v, None, :3, 3]
        vehicle_boxes = raycast.screen_boxes(corners, T_cam_world, self.K)
        return _View(o=o, R=pose[:3, :3].astype(np.float32), T_cam_world=T_cam_world, vehicle_poses=vehicle_poses,
                     poles=[(int(i), b) for i, b in zip(near, pole_boxes) if not np.isnan(b[0])],
                     vehicles=[(int(i), b) for i, b in zip(near_v, vehicle_boxes) if not np.isnan(b[0])])

    def _trace(self, view: _View, u, v, dx, dy):
        """Nearest hit of the rays through pixels (u, v) (flat, row-major so ``v`` is non-decreasing) with
        camera directions (dx, dy, 1). Returns the world directions d (3 flat arrays, camera z = 1), the hit
        t (= z-depth, inf on sky), its kind and object index."""
        o, R, scene = view.o, view.R, self.scene
        d = tuple(R[k, 0] * dx + R[k, 1] * dy + R[k, 2] for k in range(3))  # world directions, camera z = 1
        t_best = raycast.plane(o[2], d[2], 0.0)
        kind = np.where(t_best < np.inf, _GROUND, _SKY).astype(np.int8)
        which = np.zeros(dx.shape, np.int32)  # wall hits: global building id; poles, vehicles: their index
        for i, wall in enumerate(scene.walls):
            tt = raycast.plane(o[1], d[1], wall.side * wall.offset)
            near = np.flatnonzero(tt < t_best)  # only rays that could still hit this wall first
            tn = tt[near]
            x = np.float32(o[0]) + tn * d[0][near]
            z = np.float32(o[2]) + tn * d[2][near]
            b, on = wall.building_at(x)
            on &= z < wall.height[b]
            hit = near[on]
            t_best[hit], kind[hit], which[hit] = tn[on], _WALL, self.building_offset[i] + b[on]

        def take(tt: np.ndarray, sub: np.ndarray, k: int, i: int) -> None:
            closer = tt < t_best[sub]
            s = sub[closer]
            t_best[s], kind[s], which[s] = tt[closer], k, i

        for i, box in view.poles:
            sub = raycast.rays_in_box(box, u, v)
            if sub.size:
                px, py, radius, height = scene.poles[i]
                take(raycast.vertical_cylinder(o, tuple(c[sub] for c in d), (px, py), radius, height), sub, _POLE, i)
        for i, box in view.vehicles:
            sub = raycast.rays_in_box(box, u, v)
            if sub.size:
                M = view.vehicle_poses[i]
                lo, hi = _box_bounds(scene.vehicles[i].size)
                Rm = M[:3, :3].astype(np.float32)
                o_obj = M[:3, :3].T @ (o - M[:3, 3])
                d_obj = tuple(sum(Rm[j, k] * d[j][sub] for j in range(3)) for k in range(3))  # Rmᵀ d
                take(raycast.box(o_obj, d_obj, lo, hi), sub, _VEHICLE, i)
        return d, t_best, kind, which

    def _shade(self, view: _View, d, t_best, kind, which, norm) -> np.ndarray:
        """Colour of N rays (flat arrays from :meth:`_trace`; ``norm`` the lengths of the camera directions),
        N×3 float32 (flat index gathers: cheaper than boolean masks)."""
        scene, noise, fx, o = self.scene, self.scene.noise, float(self.K[0, 0]), view.o
        rgb = np.empty((t_best.size, 3), np.float32)

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
            colour, window, brick = (np.take(table, which[idx], axis=0) for table in self.facades)
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
            for i, _ in view.vehicles:
                sel = np.flatnonzero(ids == i)
                M = view.vehicle_poses[i]
                obj[sel] = (Xw[sel] - M[:3, 3]) @ M[:3, :3]  # object coordinates: Mᵀ (X - c)
            rgb[idx] = textures.vehicle(noise, obj[:, 0], obj[:, 1], obj[:, 2], fp, self.vehicle_colour[ids],
                                        self.vehicle_height[ids])
        return rgb

    def _ground_truth(self, view: _View, d, t, kind, which, rgb, pose, pose_next, t1) -> RenderedFrame:
        cfg, scene, o, vehicle_poses = self.cfg, self.scene, view.o, view.vehicle_poses
        depth = np.where(kind == _SKY, np.float32(cfg.sky_depth), t).astype(np.float32)
        semantic = np.full(t.shape, SKY, np.uint8)
        ground = kind == _GROUND
        y = np.float32(o[1]) + np.where(ground, t, 0) * d[1]
        semantic[ground] = np.where(np.abs(y[ground]) <= textures.ROAD_HALF_WIDTH, ROAD, SIDEWALK)
        semantic[kind == _WALL] = BUILDING
        semantic[kind == _POLE] = POLE
        on_vehicle = kind == _VEHICLE
        semantic[on_vehicle] = VEHICLE
        moving = np.zeros(t.shape, np.uint8)
        motion = np.zeros(t.shape + (3,), np.float32)
        R_next_world = pose_next[:3, :3].T
        for i, _ in view.vehicles:  # only vehicles in view can own pixels
            sel = on_vehicle & (which == i)
            if not sel.any():
                continue
            A = scene.vehicles[i].pose(t1) @ np.linalg.inv(vehicle_poses[i])  # world motion of the body, t -> t+1
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
