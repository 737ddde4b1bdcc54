"""Procedural surface textures: colour as a function of surface coordinates (metres) and pixel footprint.

Every texture is a sum of band-limited layers. Each layer has a feature size (metres); a layer whose features
are smaller than the pixel footprint on the surface fades to its mean (``detail_weight``), a cheap analytic
prefilter that keeps far surfaces from aliasing into flicker that would break photometric consistency between
frames. Fine layers (a few centimetres) keep a photometric loss informative on near surfaces.

Inputs are flat float32 arrays of N hits; outputs are N×3 float32 linear RGB in [0, 1].
"""
from __future__ import annotations

import numpy as np

TILE = 256
"""Side of a periodic noise tile, texels."""


def _smooth_periodic(field: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (std ``sigma`` texels) with wrap-around, via the FFT."""
    k = np.fft.fftfreq(field.shape[0])
    g = np.exp(-2 * (np.pi * sigma) ** 2 * (k[:, None] ** 2 + k[None, :] ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(field) * g))


class NoiseBank:
    """A few periodic, smooth (σ = 1 texel) zero-mean unit-std noise tiles drawn from ``seed``."""

    def __init__(self, seed: int, count: int = 4) -> None:
        rng = np.random.default_rng([seed, 7919])
        self.tiles, self._packed = [], []
        for _ in range(count):
            tile = _smooth_periodic(rng.standard_normal((TILE, TILE)), sigma=1.0)
            tile = ((tile - tile.mean()) / tile.std()).astype(np.float32)
            self.tiles.append(tile)
            # Each texel with its right, lower and lower-right neighbours: one gather per bilinear lookup.
            quad = [tile, np.roll(tile, -1, 1), np.roll(tile, -1, 0), np.roll(np.roll(tile, -1, 0), -1, 1)]
            self._packed.append(np.stack(quad, axis=-1).reshape(TILE * TILE, 4))

    def sample(self, index: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Bilinear periodic lookup of tile ``index`` at texel coordinates (u, v) (any real numbers)."""
        u = np.asarray(u, np.float32)
        v = np.asarray(v, np.float32)
        u0 = np.floor(u)
        v0 = np.floor(v)
        fu = u - u0
        fv = v - v0
        flat = (v0.astype(np.int32) & (TILE - 1)) * TILE + (u0.astype(np.int32) & (TILE - 1))
        q = np.take(self._packed[index % len(self._packed)], flat, axis=0)  # several times faster than q[flat]
        top = q[..., 0] + fu * (q[..., 1] - q[..., 0])
        bottom = q[..., 2] + fu * (q[..., 3] - q[..., 2])
        return top + fv * (bottom - top)

    def layer(self, index: int, a: np.ndarray, b: np.ndarray, feature: float, footprint: np.ndarray) -> np.ndarray:
        """Noise with features of ``feature`` metres at surface coordinates (a, b) metres, faded where the
        pixel footprint (metres) approaches the feature size (only hits with a non-zero weight are sampled)."""
        w = detail_weight(footprint, feature)
        sel = np.flatnonzero(w)
        if sel.size == w.size:
            return self.sample(index, a / feature, b / feature) * w
        out = np.zeros_like(w)
        out[sel] = self.sample(index, a[sel] / feature, b[sel] / feature) * w[sel]
        return out


def detail_weight(footprint: np.ndarray, feature: float) -> np.ndarray:
    """1 where the feature spans >= 2 pixel footprints, 0 where it spans <= 1, linear between."""
    return np.clip(feature / np.maximum(footprint, 1e-6) - 1.0, 0.0, 1.0).astype(np.float32)


def _mod(t: np.ndarray, period) -> np.ndarray:
    """``t mod period`` in [0, period) (up to rounding at the ends), ~20× faster than ``np.mod`` on float32."""
    return t - np.floor(t / period) * period


def _box_pattern(t: np.ndarray, period, width, footprint: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] of a band of ``width`` repeating every ``period`` (scalars or per-hit arrays) at
    coordinate t, blended to its mean coverage ``width/period`` where the footprint approaches the smaller of
    the band and the gap (both would alias)."""
    line = (_mod(t, period) < width).astype(np.float32)
    w = detail_weight(footprint, np.minimum(width, np.subtract(period, width)))
    return line * w + np.float32(1) * (np.divide(width, period) * (1 - w))


def _line(t: np.ndarray, width: float, footprint: np.ndarray) -> np.ndarray:
    """Coverage of a single line ``|t| < width/2``, box-filtered over the footprint when it is wider."""
    wide = np.maximum(footprint, width)
    return np.where(np.abs(t) < wide / 2, width / wide, 0.0).astype(np.float32)


def _rgb(grey: np.ndarray, tint) -> np.ndarray:
    return np.clip(grey[:, None] * np.asarray(tint, np.float32)[None, :], 0.0, 1.0)


ROAD_HALF_WIDTH = 7.0
"""Four 3.5 m lanes, y in [-7, 7]; sidewalks beyond."""


def ground(noise: NoiseBank, x: np.ndarray, y: np.ndarray, fp_x: np.ndarray, fp_y: np.ndarray) -> np.ndarray:
    """Asphalt with lane markings for |y| <= ROAD_HALF_WIDTH, paving slabs beyond (the sidewalk).
    ``fp_x``/``fp_y``: pixel footprint along x / y, metres."""
    grey = np.empty(x.shape, np.float32)
    road = np.abs(y) <= ROAD_HALF_WIDTH
    for sel, texture in ((np.flatnonzero(road), _asphalt), (np.flatnonzero(~road), _sidewalk)):
        if sel.size:
            grey[sel] = texture(noise, x[sel], y[sel], fp_x[sel], fp_y[sel])
    return _rgb(grey, (1.0, 0.98, 0.95))


def _asphalt(noise: NoiseBank, x, y, fp_x, fp_y) -> np.ndarray:
    fp = np.sqrt(fp_x * fp_y)
    grain = 0.33 + 0.05 * noise.layer(0, x, y, 0.03, fp) + 0.04 * noise.layer(1, x, y, 0.12, fp) \
        + 0.04 * noise.layer(3, y, x, 0.5, fp) + 0.03 * noise.layer(2, x, y, 2.0, fp)
    ay = np.abs(y)
    # Markings: dashed lane lines at |y| = 3.5, solid centre line at y = 0 and edge lines at |y| = 6.8.
    dashes = _box_pattern(x, 9.0, 3.0, fp_x) * _line(ay - 3.5, 0.15, fp_y)
    paint = np.minimum(dashes + _line(y, 0.15, fp_y) + _line(ay - 6.8, 0.15, fp_y), 1.0)
    return grain * (1 - paint) + (0.8 + 0.03 * noise.layer(3, x, y, 0.05, fp)) * paint


def _sidewalk(noise: NoiseBank, x, y, fp_x, fp_y) -> np.ndarray:
    fp = np.sqrt(fp_x * fp_y)
    joints = np.maximum(_box_pattern(x, 0.6, 0.03, fp_x), _box_pattern(y, 0.6, 0.03, fp_y))
    slabs = 0.55 + 0.04 * noise.layer(1, x + 17.0, y, 0.04, fp) + 0.05 * noise.layer(2, x, y, 0.6, fp) \
        - 0.2 * joints
    kerb = np.abs(y) < ROAD_HALF_WIDTH + 0.25
    return np.where(kerb, 0.7 + 0.03 * noise.layer(3, x, y, 0.04, fp), slabs)


def facade(noise: NoiseBank, a: np.ndarray, z: np.ndarray, fp_a: np.ndarray, fp_z: np.ndarray,
           colour: np.ndarray, window: np.ndarray, brick: np.ndarray) -> np.ndarray:
    """Building wall at (a along the wall, z up) metres with footprints ``fp_a``/``fp_z`` (metres). Per hit:
    ``colour`` N×3 base colour, ``window`` N×4 (spacing along, spacing up, width, height) metres, ``brick``
    N bool."""
    fp = np.sqrt(fp_a * fp_z)
    shade = 0.85 + 0.06 * noise.layer(0, a, z, 0.04, fp) + 0.05 * noise.layer(1, z, a, 0.2, fp) \
        + 0.06 * noise.layer(2, a, z, 0.8, fp)
    # Running-bond bricks: 0.25×0.08 m with 1.5 cm mortar; alternate rows shifted by half a brick.
    b = np.flatnonzero(brick)
    if b.size:
        ab, zb = a[b], z[b]
        row = np.floor(zb / 0.08)
        shade[b] -= 0.25 * np.maximum(_box_pattern(zb, 0.08, 0.015, fp_z[b]),
                                      _box_pattern(ab + 0.125 * _mod(row, 2.0), 0.25, 0.015, fp_a[b]))
    # Windows: a grid from 1 m above the street, dark glass inside a 10 cm light frame; coverage fractions
    # (anti-aliased per axis) blend wall, frame and glass.
    sa, sz, wa, wz = (window[:, k].astype(np.float32) for k in range(4))
    above = np.clip((z - 1.0) / np.maximum(fp_z, 1e-3) + 0.5, 0.0, 1.0)
    cover_a, glass_a = _window_pattern(a - (sa - wa) / 2, sa, wa, fp_a)
    cover_z, glass_z = _window_pattern(z - 1.0 - (sz - wz) / 2, sz, wz, fp_z)
    cover, glass_cover = cover_a * cover_z * above, glass_a * glass_z * above
    glass = 0.2 + 0.05 * noise.layer(3, a, z, 0.3, fp) + 0.04 * noise.layer(1, a, z, 0.05, fp)
    frame = 0.65 + 0.03 * noise.layer(2, a, z, 0.05, fp)
    grey = frame * (cover - glass_cover)
    out = colour * (shade * (1 - cover))[:, None] + grey[:, None] \
        + (glass * glass_cover)[:, None] * np.array([0.8, 0.9, 1.0], np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _window_pattern(t: np.ndarray, period: np.ndarray, width: np.ndarray, footprint: np.ndarray):
    """Coverage along one axis of windows ``[0, width)`` repeating every ``period`` at coordinate t and of their
    glass ``[0.1, width - 0.1)`` (inside a 10 cm frame), each blended to its mean like :func:`_box_pattern`
    (one ``mod`` shared by both)."""
    m = _mod(t, period)
    out = []
    for lo, hi in ((0.0, width), (0.1, width - 0.1)):
        inside = ((m >= lo) & (m < hi)).astype(np.float32)
        w = detail_weight(footprint, np.minimum(hi - lo, period - (hi - lo)))
        out.append(inside * w + (hi - lo) / period * (1 - w))
    return out


def pole(noise: NoiseBank, angle: np.ndarray, z: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Metal pole at (angle around the axis in radians, z up in metres)."""
    arc = angle * 0.12
    grey = 0.5 + 0.06 * noise.layer(1, arc, z, 0.03, fp) + 0.08 * noise.layer(3, arc, z, 0.5, fp) \
        - 0.15 * _box_pattern(z, 1.0, 0.08, fp)
    return _rgb(grey, (0.95, 0.97, 1.0))


def vehicle(noise: NoiseBank, ox: np.ndarray, oy: np.ndarray, oz: np.ndarray, fp: np.ndarray,
            colour: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Car body at object coordinates (ox forward, oy left, oz up) metres; ``colour`` N×3, ``height`` N."""
    s = ox + oy
    paint = 0.9 + 0.06 * noise.layer(0, s, oz, 0.03, fp) + 0.05 * noise.layer(2, s, oz, 0.4, fp)
    panel = _box_pattern(s, 1.1, 0.03, fp)
    body = colour * (paint - 0.25 * panel)[:, None]
    rel = oz / height
    glass = (rel > 0.55) & (rel < 0.9)
    tyres = rel < 0.22
    glass_c = _rgb(0.12 + 0.05 * noise.layer(3, s, oz, 0.2, fp), (0.8, 0.9, 1.0))
    tyre_c = _rgb(0.08 + 0.03 * noise.layer(1, s, oz, 0.05, fp), (1.0, 1.0, 1.0))
    out = np.where(glass[:, None], glass_c, np.where(tyres[:, None], tyre_c, body))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def sky(noise: NoiseBank, direction: np.ndarray) -> np.ndarray:
    """Sky colour for world ray directions N×3 (not necessarily unit): a horizon-to-zenith gradient with soft
    clouds. It depends on the direction only, so it is consistent with a sky infinitely far away."""
    d = direction / np.linalg.norm(direction, axis=1, keepdims=True)
    elev = np.clip(d[:, 2], 0.0, 1.0)
    azim = np.arctan2(d[:, 1], d[:, 0])
    horizon = np.array([0.78, 0.84, 0.9], np.float32)
    zenith = np.array([0.35, 0.55, 0.85], np.float32)
    t = np.sqrt(elev)[:, None]
    base = horizon * (1 - t) + zenith * t
    cloud = noise.sample(2, azim * 40.0 / np.pi, elev * 60.0) + 0.5 * noise.sample(3, azim * 80 / np.pi, elev * 120)
    cover = np.clip(cloud - 0.3, 0.0, 1.0)[:, None]
    return np.clip(base * (1 - 0.6 * cover) + 0.95 * 0.6 * cover, 0.0, 1.0).astype(np.float32)
