"""The ego vehicle's path: smooth speed and yaw changes along a straight street, and the camera on it.

World frame (= ``odom``): x along the street, y to the left, z up (REP 103), origin on the road centre line
at the ego vehicle's start, road plane z = 0. The ego vehicle drives in the +x direction in the lane centred
at ``EGO_LANE_Y`` and sways smoothly inside it, which yaws the vehicle by a few degrees.

The camera optical frame (x right, y down, z forward) sits ``camera_height`` above the base frame origin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

EGO_LANE_Y = -1.75
"""Centre of the ego lane (right-hand traffic: +x lanes are at y < 0), metres."""

R_BASE_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
"""Rotation base (x forward, y left, z up) <- camera optical (x right, y down, z forward)."""


def rot_z(yaw: float) -> np.ndarray:
    """3×3 rotation about +z by ``yaw`` radians."""
    return Rotation.from_euler('z', yaw).as_matrix()


def make_pose(rotation: np.ndarray, translation) -> np.ndarray:
    """4×4 homogeneous transform from a 3×3 rotation and a 3-vector translation."""
    pose = np.eye(4)
    pose[:3, :3] = rotation
    pose[:3, 3] = translation
    return pose


@dataclass(frozen=True)
class EgoPath:
    """Smooth ego motion: speed ``v(t) = v̄ (1 + a sin(2πt/P + φ))``, lateral sway
    ``y(x) = EGO_LANE_Y + A sin(2πx/L + ψ)``, yaw = the path's tangent direction."""

    mean_speed: float
    """v̄, m/s."""
    speed_amp: float
    """a, relative speed oscillation (0.3 = ±30 %)."""
    speed_period: float
    """P, seconds."""
    speed_phase: float
    """φ, radians."""
    sway_amp: float
    """A, metres."""
    sway_length: float
    """L, metres."""
    sway_phase: float
    """ψ, radians."""
    camera_height: float
    """Height of the optical centre above the road, metres."""

    @classmethod
    def from_seed(cls, rng: np.random.Generator, mean_speed: float, camera_height: float) -> 'EgoPath':
        """Draw the path parameters from ``rng``."""
        return cls(mean_speed=mean_speed, speed_amp=0.3, speed_period=float(rng.uniform(8.0, 15.0)),
                   speed_phase=float(rng.uniform(0, 2 * np.pi)), sway_amp=float(rng.uniform(0.2, 0.45)),
                   sway_length=float(rng.uniform(35.0, 60.0)), sway_phase=float(rng.uniform(0, 2 * np.pi)),
                   camera_height=camera_height)

    def x(self, t):
        """Distance along the street at time(s) ``t`` seconds (closed-form integral of the speed), metres."""
        w = 2 * np.pi / self.speed_period
        return self.mean_speed * (t - self.speed_amp / w * (np.cos(w * np.asarray(t) + self.speed_phase)
                                                            - np.cos(self.speed_phase)))

    def speed(self, t: float) -> float:
        """Speed along x at time ``t``, m/s."""
        w = 2 * np.pi / self.speed_period
        return float(self.mean_speed * (1 + self.speed_amp * np.sin(w * t + self.speed_phase)))

    def base_pose(self, t: float) -> np.ndarray:
        """4×4 ``T_world_base`` at time ``t`` seconds."""
        x = float(self.x(t))
        k = 2 * np.pi / self.sway_length
        y = EGO_LANE_Y + self.sway_amp * np.sin(k * x + self.sway_phase)
        yaw = np.arctan(self.sway_amp * k * np.cos(k * x + self.sway_phase))
        return make_pose(rot_z(yaw), (x, y, 0.0))

    def camera_pose(self, t: float) -> np.ndarray:
        """4×4 ``T_odom_cam`` of the camera optical frame at time ``t`` seconds (odom = world)."""
        return self.base_pose(t) @ make_pose(R_BASE_OPTICAL, (0.0, 0.0, self.camera_height))
