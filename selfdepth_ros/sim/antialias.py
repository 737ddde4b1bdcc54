"""Adaptive anti-aliasing: half-pixel colour samples cast only where the pixel-centre image changes.

The anti-aliased colour of a pixel is a 5×5 binomial filter ([1 4 6 4 1]/16 per axis, ≈ a Gaussian of
σ = 0.5 px: a mild optical blur that keeps bilinear resampling of the image accurate) over a half-pixel grid
``u = -1, -0.5, 0, …, W`` (likewise v). The integer positions of that grid are the primary samples (one ray per
pixel, plus a one-pixel ring around the image). A half-pixel sample between two primary samples is ray-cast
only when they see different surfaces (hit kind or object id) or their colours differ by at least
``threshold`` in some channel; elsewhere it is the mean of its primary neighbours (bilinear interpolation of a
locally smooth image). Thin objects (given as pixel boxes) have every half-pixel sample cast, so a pole
narrower than a pixel cannot fall between the primary samples. ``threshold = 0`` casts every half-pixel
sample (exhaustive supersampling, about 4 rays per pixel); on piecewise-linear images with their pieces
labelled as surfaces the adaptive result equals the exhaustive one.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

ShadeAt = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``shade_at(u, v)``: N×3 float32 colour of the rays through pixel coordinates (u, v) (flat float64 arrays in
row-major order, so ``v`` is non-decreasing)."""


def refine_flags(colour: np.ndarray, surface: np.ndarray, threshold: float,
                 force_boxes: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Which samples of the half-pixel grid must be ray-cast, (2h-1)×(2w-1) bool for primary samples on an
    h×w integer grid starting at pixel (-1, -1). ``colour`` h×w×3 primary colours, ``surface`` h×w integer
    surface ids (equal ids = same surface), ``force_boxes`` pixel boxes ``[u_min, u_max, v_min, v_max]``
    whose half-pixel samples are all cast. Primary positions are never flagged (they are already cast)."""
    h, w = surface.shape
    if colour.shape != (h, w, 3):
        raise ValueError(f'colour must be {h}×{w}×3 like surface, got {colour.shape}')
    flags = np.zeros((2 * h - 1, 2 * w - 1), bool)
    for axis, out in ((1, flags[0::2, 1::2]), (0, flags[1::2, 0::2])):
        a = [slice(None)] * 2
        b = [slice(None)] * 2
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        a, b = tuple(a), tuple(b)
        change = np.abs(colour[a] - colour[b]) >= threshold
        out[...] = (surface[a] != surface[b]) | change[..., 0] | change[..., 1] | change[..., 2]
    between = flags[0::2, 1::2]  # (h)×(w-1) horizontal mid-points
    below = flags[1::2, 0::2]  # (h-1)×(w) vertical mid-points
    flags[1::2, 1::2] = between[:-1] | between[1:] | below[:, :-1] | below[:, 1:]
    for box in force_boxes:  # grid index of pixel coordinate p is 2(p + 1)
        c0, c1 = np.clip([np.floor(2 * (box[0] + 1)) - 1, np.ceil(2 * (box[1] + 1)) + 2], 0, 2 * w - 1).astype(int)
        r0, r1 = np.clip([np.floor(2 * (box[2] + 1)) - 1, np.ceil(2 * (box[3] + 1)) + 2], 0, 2 * h - 1).astype(int)
        flags[r0:r1, c0:c1] = True
    flags[0::2, 0::2] = False
    return flags


_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0], np.float32) / 16
_BINOMIAL_OF_TENT = np.array([3.0, 10.0, 3.0], np.float32) / 16
"""[1 4 6 4 1]/16 on the half-pixel grid after bilinear (tent) interpolation of the primaries, as one filter on
the primaries: 1/16 + 4/16·½ = 3/16 on each neighbour, 6/16 + 2·4/16·½ = 10/16 on the centre."""


def interpolated_at(colour: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """N×3 bilinear interpolation of h×w×3 primary colours at half-pixel grid positions (rows, cols): the mean
    of the (one,) two or four primaries around each."""
    w = colour.shape[1]
    flat = colour.reshape(-1, 3)
    top, bottom, left, right = (rows // 2) * w, ((rows + 1) // 2) * w, cols // 2, (cols + 1) // 2

    def take(index: np.ndarray) -> np.ndarray:
        return np.take(flat, index, axis=0)  # several times faster than flat[index]

    return 0.25 * (take(top + left) + take(top + right) + take(bottom + left) + take(bottom + right))


def antialias(colour: np.ndarray, surface: np.ndarray, shade_at: ShadeAt, threshold: float,
              force_boxes: Sequence[np.ndarray] = ()) -> tuple[np.ndarray, int]:
    """Anti-aliased (h-2)×(w-2)×3 image from h×w×3 primary samples at pixels u = -1…W, v = -1…H (a ring of one
    pixel around the W×H image), casting the flagged half-pixel samples with ``shade_at``. Returns the image
    and the number of extra rays cast.

    The filter is linear, so it is applied as binomial(interpolated grid) + binomial(cast − interpolated on the
    cast samples); the first term is a 3×3 filter of the primaries (OpenCV's separable filter: several times
    faster than numpy slicing here)."""
    colour = np.ascontiguousarray(colour, np.float32)
    out = cv2.sepFilter2D(colour, -1, _BINOMIAL_OF_TENT, _BINOMIAL_OF_TENT)[1:-1, 1:-1]
    flags = refine_flags(colour, surface, threshold, force_boxes)
    index = np.flatnonzero(flags)  # row-major, as shade_at wants
    if index.size:
        rows, cols = np.divmod(index, flags.shape[1])
        delta = np.zeros(flags.shape + (3,), np.float32)
        delta.reshape(-1, 3)[index] = shade_at(0.5 * cols - 1.0, 0.5 * rows - 1.0) \
            - interpolated_at(colour, rows, cols)
        out += binomial_downsample(delta)
    return out, int(index.size)


def binomial_downsample(samples: np.ndarray) -> np.ndarray:
    """Filter a (2H+3)×(2W+3)×3 half-pixel grid (pixels -1, -0.5, …, W along u, likewise v) with
    [1 4 6 4 1]/16 per axis and keep the H×W pixel centres."""
    out = cv2.sepFilter2D(np.ascontiguousarray(samples, np.float32), -1, _BINOMIAL, _BINOMIAL,
                          borderType=cv2.BORDER_CONSTANT)
    return out[2:-1:2, 2:-1:2]
