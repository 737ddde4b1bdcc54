"""Procedural street scene from a seed: facades, side streets, poles and other vehicles.

World frame as in :mod:`selfdepth_ros.sim.trajectory` (x along the street, y left, z up, road plane z = 0).
The street: a four-lane road (|y| <= 7 m, +x traffic at y < 0), sidewalks up to the facades at |y| =
``FACADE_Y``, interrupted by side streets (gaps) through which a second row of facades at |y| = ``BACK_Y``
is seen. Everything is drawn from ``np.random.default_rng(seed)``, so one seed gives one world.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.textures import ROAD_HALF_WIDTH, NoiseBank
from selfdepth_ros.sim.trajectory import EGO_LANE_Y, EgoPath, make_pose, rot_z

FACADE_Y = 10.0
"""Distance of the street facades from the centre line, metres (7 m road + 3 m sidewalk)."""
BACK_Y = 34.0
"""Distance of the facades seen through side streets, metres."""
POLE_Y = ROAD_HALF_WIDTH + 0.8
"""Distance of the poles from the centre line, metres."""

# Semantic labels (docs/CONVENTIONS.md).
SKY, ROAD, BUILDING, POLE, VEHICLE, SIDEWALK = 0, 1, 2, 3, 4, 5
LABEL_NAMES = {SKY: 'sky', ROAD: 'road', BUILDING: 'building', POLE: 'pole', VEHICLE: 'vehicle',
               SIDEWALK: 'sidewalk'}

VEHICLE_KINDS = ('ego_locked', 'oncoming', 'same_direction', 'crossing')


@dataclass(frozen=True)
class Wall:
    """A row of facades in the plane ``y = side·offset``: building i spans ``x0[i] <= x < x1[i]`` and
    ``0 <= z < height[i]``; x outside every building is a gap (side street)."""

    side: int
    """+1 left of the street, -1 right."""
    offset: float
    """|y| of the plane, metres."""
    x0: np.ndarray
    x1: np.ndarray
    height: np.ndarray
    colour: np.ndarray
    """n×3 base colour."""
    window: np.ndarray
    """n×4 (spacing along, spacing up, width, height) metres."""
    brick: np.ndarray
    """n bool."""

    def building_at(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the building at each x and whether x is on a building (False in gaps)."""
        i = np.clip(np.searchsorted(self.x0, x, side='right') - 1, 0, len(self.x0) - 1)
        return i, (x >= self.x0[i]) & (x < self.x1[i])


@dataclass(frozen=True)
class Vehicle:
    """A textured box, ``size = (length, width, height)`` metres, in object coordinates
    ``[-l/2, l/2] × [-w/2, w/2] × [0, h]`` (x forward, y left, z up), posed by ``pose(t)``."""

    kind: str
    """'parked' or one of VEHICLE_KINDS."""
    size: tuple[float, float, float]
    colour: np.ndarray
    start: np.ndarray
    """World position of the object origin at time ``t_ref`` (for 'ego_locked': offset in the ego base frame)."""
    velocity: np.ndarray
    """World velocity, m/s (zero for 'parked' and 'ego_locked')."""
    yaw: float
    t_ref: float = 0.0
    ego: EgoPath | None = None

    def pose(self, t: float) -> np.ndarray:
        """4×4 ``T_world_object`` at time ``t`` seconds."""
        local = make_pose(rot_z(self.yaw), self.start + self.velocity * (t - self.t_ref))
        return self.ego.base_pose(t) @ local if self.kind == 'ego_locked' else local

    def is_moving(self, t0: float, t1: float) -> bool:
        """Whether the vehicle's world pose differs between t0 and t1."""
        return not np.allclose(self.pose(t0), self.pose(t1), rtol=0.0, atol=1e-9)


@dataclass(frozen=True)
class Scene:
    """The whole world for one drive."""

    ego: EgoPath
    walls: tuple[Wall, ...]
    poles: np.ndarray
    """n×4 (x, y, radius, height) of vertical cylinders standing on the road plane."""
    vehicles: tuple[Vehicle, ...]
    noise: NoiseBank = field(repr=False)


def _wall(rng: np.random.Generator, side: int, offset: float, x_start: float, x_end: float,
          gaps: bool) -> Wall:
    x0, x1, rows = [], [], []
    x = x_start
    while x < x_end:
        length = rng.uniform(8.0, 25.0)
        if gaps and rng.uniform() < 0.18 and x > x_start + 20:
            x += rng.uniform(10.0, 16.0)  # a side street
            continue
        x0.append(x)
        x1.append(x + length)
        colour = rng.uniform(0.35, 0.85, 3) * rng.uniform(0.8, 1.0)
        window = (rng.uniform(2.4, 3.6), rng.uniform(3.0, 3.6), rng.uniform(1.0, 1.6), rng.uniform(1.3, 1.9))
        rows.append((rng.uniform(7.0, 28.0), *colour, *window, rng.uniform() < 0.4))
        x += length
    r = np.array(rows, dtype=np.float64)
    return Wall(side=side, offset=offset, x0=np.array(x0), x1=np.array(x1), height=r[:, 0],
                colour=r[:, 1:4].astype(np.float32), window=r[:, 4:8], brick=r[:, 8] > 0.5)


def _time_at_x(ego: EgoPath, x: float, duration: float) -> float:
    """Time at which the ego vehicle reaches ``x`` (it only moves forward), extrapolated linearly."""
    ts = np.linspace(0.0, duration + 30.0, 4000)
    xs = ego.x(ts)
    if x >= xs[-1]:
        return float(ts[-1] + (x - xs[-1]) / ego.mean_speed)
    return float(np.interp(x, xs, ts))


def _car(rng: np.random.Generator) -> tuple[tuple[float, float, float], np.ndarray]:
    size = (float(rng.uniform(3.8, 5.0)), float(rng.uniform(1.7, 2.0)), float(rng.uniform(1.4, 2.1)))
    return size, rng.uniform(0.1, 0.95, 3).astype(np.float32)


def _vehicles(rng: np.random.Generator, cfg: SimConfig, ego: EgoPath, walls: tuple[Wall, ...]) -> list[Vehicle]:
    duration = cfg.frames / cfg.fps
    out = []
    for i in range(cfg.moving_objects):
        kind = VEHICLE_KINDS[i % len(VEHICLE_KINDS)]
        size, colour = _car(rng)
        t_i = duration * (i + 0.5) / max(cfg.moving_objects, 1)
        speed = float(rng.uniform(6.0, 11.0))
        if kind == 'ego_locked':  # drives with the ego vehicle: static in the image, moving in the world
            j = i // len(VEHICLE_KINDS)
            lane_dy = 0.0 if j % 2 == 0 else -3.5
            start = np.array([rng.uniform(11.0, 16.0) + 9.0 * (j // 2), lane_dy, 0.0])
            out.append(Vehicle(kind, size, colour, start, np.zeros(3), 0.0, 0.0, ego))
        elif kind == 'oncoming':  # inner oncoming lane (the outer one holds the parked cars)
            lane_y = -EGO_LANE_Y
            t_meet = t_i + 1.5
            start = np.array([ego.x(t_meet), lane_y, 0.0])
            out.append(Vehicle(kind, size, colour, start, np.array([-speed, 0.0, 0.0]), np.pi, t_meet))
        elif kind == 'same_direction':
            v = ego.mean_speed + rng.choice([-1.0, 1.0]) * rng.uniform(2.0, 4.0)
            start = np.array([ego.x(t_i) + 15.0, EGO_LANE_Y - 3.5, 0.0])
            out.append(Vehicle(kind, size, colour, start, np.array([v, 0.0, 0.0]), 0.0, t_i))
        else:  # crossing: through the side street nearest ahead, while the ego vehicle is ~25 m before it
            gaps = np.concatenate([w.x1[:-1][w.x0[1:] > w.x1[:-1] + 1.0] for w in walls if w.offset == FACADE_Y])
            target = ego.x(t_i) + 35.0
            gap_x = float(gaps[np.argmin(np.abs(gaps - target))] + 5.0) if len(gaps) else target
            t_cross = _time_at_x(ego, gap_x - 25.0, duration)
            direction = rng.choice([-1.0, 1.0])
            start = np.array([gap_x, EGO_LANE_Y, 0.0])
            out.append(Vehicle(kind, size, colour, start, np.array([0.0, direction * speed * 0.7, 0.0]),
                               direction * np.pi / 2, t_cross))
    left = next(w for w in walls if w.offset == FACADE_Y and w.side == 1)
    for j in range(cfg.parked_vehicles):  # in the outer oncoming lane, never in a side street's mouth
        size, colour = _car(rng)
        x = ego.x(duration * (j + 0.5) / cfg.parked_vehicles) + 20.0
        i, on_building = left.building_at(np.array([x - 3.0, x + 3.0]))
        if not on_building.all():
            after_gap = i[-1] if on_building[-1] else min(i[-1] + 1, len(left.x0) - 1)
            x = float(left.x0[after_gap] + 4.0)
        start = np.array([x, ROAD_HALF_WIDTH - 1.2, 0.0])
        out.append(Vehicle('parked', size, colour, start, np.zeros(3), np.pi))
    return out


def make_scene(cfg: SimConfig) -> Scene:
    """Build the world of ``cfg.seed`` for a drive of ``cfg.frames`` frames."""
    rng = np.random.default_rng([cfg.seed, 1])
    ego = EgoPath.from_seed(rng, cfg.speed, cfg.camera_height)
    x_end = ego.x(cfg.frames / cfg.fps) + 300.0
    walls = tuple(_wall(rng, side, offset, -60.0, x_end, gaps=offset == FACADE_Y)
                  for offset in (FACADE_Y, BACK_Y) for side in (1, -1))
    poles = []
    for side in (1, -1):
        x = rng.uniform(0.0, 15.0)
        while x < x_end:
            poles.append((x, side * POLE_Y, rng.uniform(0.09, 0.16), rng.uniform(4.5, 8.0)))
            x += rng.uniform(14.0, 30.0)
    vehicles = tuple(_vehicles(rng, cfg, ego, walls))
    return Scene(ego=ego, walls=walls, poles=np.array(poles), vehicles=vehicles, noise=NoiseBank(cfg.seed))
