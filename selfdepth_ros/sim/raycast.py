"""Vectorised ray intersections (numpy) and screen-space culling.

Rays are ``X(t) = o + t·d`` in world coordinates with the camera-frame direction ``K⁻¹ [u, v, 1]ᵀ``
rotated into the world, so its camera z component is 1 and the ray parameter ``t`` *is* the z-depth.
Functions return ``t`` with ``inf`` where a ray misses. Hand-written rather than a ray-tracing library:
the scene is a handful of planes, boxes and cylinders, and numpy keeps the renderer dependency-free.
"""
from __future__ import annotations

import numpy as np

NEAR = 0.05
"""Hits closer than this (metres of z-depth) are ignored."""


def plane(o_axis: float, d_axis: np.ndarray, level: float) -> np.ndarray:
    """t where the ray crosses the axis-aligned plane ``X_axis = level``; ``o_axis`` is the origin's
    coordinate along that axis and ``d_axis`` the directions' component."""
    with np.errstate(divide='ignore', invalid='ignore'):
        t = np.float32(level - o_axis) / d_axis.astype(np.float32, copy=False)
        t[~(t > NEAR)] = np.inf  # behind, too near, parallel (inf or NaN)
    return t


def box(o: np.ndarray, d: tuple[np.ndarray, np.ndarray, np.ndarray], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Slab test against the axis-aligned box ``lo <= X <= hi`` for origin ``o`` (3,) and directions
    ``d = (dx, dy, dz)`` given in the box's own frame; t of the entry point (``inf`` on a miss or when the
    origin is inside)."""
    t_near = np.full(d[0].shape, -np.inf, np.float32)
    t_far = np.full(d[0].shape, np.inf, np.float32)
    with np.errstate(divide='ignore', invalid='ignore'):
        for k in range(3):
            inv = np.float32(1.0) / d[k]
            t0 = np.float32(lo[k] - o[k]) * inv
            t1 = np.float32(hi[k] - o[k]) * inv
            np.maximum(t_near, np.minimum(t0, t1), out=t_near)
            np.minimum(t_far, np.maximum(t0, t1), out=t_far)
    hit = (t_near <= t_far) & (t_near > NEAR)
    return np.where(hit, t_near, np.inf).astype(np.float32)


def vertical_cylinder(o: np.ndarray, d: tuple[np.ndarray, np.ndarray, np.ndarray], centre_xy, radius: float,
                      height: float) -> np.ndarray:
    """Outer surface of the cylinder ``(x-cx)² + (y-cy)² = r²``, ``0 <= z <= height`` (no caps)."""
    px, py = np.float32(o[0] - centre_xy[0]), np.float32(o[1] - centre_xy[1])
    a = d[0] * d[0] + d[1] * d[1]
    b = 2 * (d[0] * px + d[1] * py)
    c = np.float32(px * px + py * py - radius * radius)
    disc = b * b - 4 * a * c
    with np.errstate(divide='ignore', invalid='ignore'):
        t = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
    z = np.float32(o[2]) + t * d[2]
    hit = (disc >= 0) & (t > NEAR) & (z >= 0) & (z <= height)
    return np.where(hit, t, np.inf).astype(np.float32)


def screen_boxes(points_world: np.ndarray, T_cam_world: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixel bounding boxes ``[u_min, u_max, v_min, v_max]`` (n×4) of the projections of the convex hulls of
    n point sets ``points_world`` (n×m×3): a NaN row where a hull is entirely behind the camera, an unbounded
    (±inf) row where it straddles the camera plane (its projection is unbounded: every ray must be tested)."""
    pc = points_world @ T_cam_world[:3, :3].T + T_cam_world[:3, 3]
    z = pc[..., 2]
    with np.errstate(divide='ignore', invalid='ignore'):
        uv = (pc[..., :2] / z[..., None]) * np.diag(K)[:2] + K[:2, 2]
    boxes = np.stack([uv[..., 0].min(1), uv[..., 0].max(1), uv[..., 1].min(1), uv[..., 1].max(1)], axis=1)
    boxes[np.any(z <= NEAR, axis=1)] = (-np.inf, np.inf, -np.inf, np.inf)
    boxes[np.all(z <= NEAR, axis=1)] = np.nan
    return boxes


def rays_in_box(box: np.ndarray, u: np.ndarray, v: np.ndarray, margin: float = 1.0) -> np.ndarray:
    """Indices of the samples at pixel coordinates (u, v) (flat arrays, ``v`` non-decreasing) inside ``box``
    ``[u_min, u_max, v_min, v_max]`` grown by ``margin`` pixels (a conservative cull: rounding never loses a hit)."""
    lo, hi = np.searchsorted(v, [box[2] - margin, box[3] + margin], side='left')
    uu = u[lo:hi]
    return lo + np.flatnonzero((uu >= box[0] - margin) & (uu <= box[1] + margin))
