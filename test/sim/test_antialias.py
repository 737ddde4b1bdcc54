"""Adaptive anti-aliasing against exhaustive supersampling on images with known answers."""
import numpy as np
import pytest

from selfdepth_ros.sim.antialias import antialias, binomial_downsample, refine_flags

H, W = 6, 10  # image size; the primary grid has a one-pixel ring: (H+2)×(W+2) at u = -1…W, v = -1…H


def _primaries(f):
    v, u = np.meshgrid(np.arange(-1.0, H + 1), np.arange(-1.0, W + 1), indexing='ij')
    return f(u.ravel(), v.ravel()).reshape(H + 2, W + 2, 3).astype(np.float32)


def _exhaustive(f):
    """Binomial filter of every half-pixel sample, straight from the definition."""
    v, u = np.meshgrid(np.arange(-1.0, H + 0.25, 0.5), np.arange(-1.0, W + 0.25, 0.5), indexing='ij')
    grid = f(u.ravel(), v.ravel()).reshape(2 * H + 3, 2 * W + 3, 3).astype(np.float32)
    weights = np.array([1, 4, 6, 4, 1]) / 16
    out = np.zeros((H, W, 3))
    for r in range(H):
        for c in range(W):
            patch = grid[2 * r:2 * r + 5, 2 * c:2 * c + 5]  # pixel (c, r) sits at grid index 2(p + 1)
            out[r, c] = np.einsum('i,j,ijk->k', weights, weights, patch)
    return out


class Counter:
    """shade_at that evaluates f and records the rays it was asked for."""

    def __init__(self, f):
        self.f, self.rays = f, 0

    def __call__(self, u, v):
        assert np.all(np.diff(v) >= 0), 'rays must come in row-major order'
        self.rays += len(u)
        return self.f(u, v).astype(np.float32)


def _linear(u, v):
    return np.stack([0.1 + 0.02 * u, 0.5 - 0.03 * v, 0.2 + 0.01 * u + 0.02 * v], axis=1)


def _checker(u, v):
    return np.stack([np.sin(2.1 * u) * np.cos(1.7 * v)] * 3, axis=1) * 0.5 + 0.5


def _step_surface(u, v):
    return (u > 3.3 + 0.4 * v).astype(np.int64)  # a slanted edge between surfaces 0 and 1


def _step(u, v):
    return np.where(_step_surface(u, v)[:, None] == 1, [0.9, 0.2, 0.1], [0.1, 0.3, 0.8])


def test_threshold_zero_is_exhaustive_supersampling():
    shade = Counter(_checker)
    img, extra = antialias(_primaries(_checker), np.zeros((H + 2, W + 2), np.int64), shade, 0.0)
    np.testing.assert_allclose(img, _exhaustive(_checker), atol=1e-6)
    assert extra == shade.rays == (2 * H + 3) * (2 * W + 3) - (H + 2) * (W + 2)


def test_smooth_image_casts_nothing_and_is_exact():
    shade = Counter(_linear)
    img, extra = antialias(_primaries(_linear), np.zeros((H + 2, W + 2), np.int64), shade, 0.1)
    assert extra == shade.rays == 0
    np.testing.assert_allclose(img, _exhaustive(_linear), atol=1e-6)


def test_surface_edge_is_refined_and_matches_exhaustive():
    v, u = np.meshgrid(np.arange(-1.0, H + 1), np.arange(-1.0, W + 1), indexing='ij')
    surface = _step_surface(u.ravel(), v.ravel()).reshape(H + 2, W + 2)
    shade = Counter(_step)
    img, extra = antialias(_primaries(_step), surface, shade, 1.0)  # colour threshold off: surfaces only
    assert 0 < extra < 0.5 * (2 * H + 3) * (2 * W + 3)
    np.testing.assert_allclose(img, _exhaustive(_step), atol=1e-6)


def test_colour_threshold_refines_a_texture_edge_on_one_surface():
    flags = refine_flags(_primaries(_step), np.zeros((H + 2, W + 2), np.int64), 0.5)
    assert flags.any() and not flags[0::2, 0::2].any()
    assert not refine_flags(_primaries(_step), np.zeros((H + 2, W + 2), np.int64), 0.9).any()


def test_thin_object_inside_a_force_box_is_not_missed():
    def line(u, v):  # 0.3 px wide, between the primaries at u = 4 and 5, covering the half-pixel sample 4.5
        return np.where((np.abs(u - 4.5) < 0.15)[:, None], 1.0, 0.0) * np.ones(3)

    surface = np.zeros((H + 2, W + 2), np.int64)
    missed, _ = antialias(_primaries(line), surface, Counter(line), 0.1)
    assert missed.max() == 0.0  # no primary sees it
    box = np.array([4.35, 4.65, -1.0, H + 0.0])
    img, extra = antialias(_primaries(line), surface, Counter(line), 0.1, [box])
    assert extra > 0
    np.testing.assert_allclose(img, _exhaustive(line), atol=1e-6)


def test_binomial_downsample_keeps_constants_and_pixel_count():
    out = binomial_downsample(np.full((2 * H + 3, 2 * W + 3, 3), 0.25, np.float32))
    assert out.shape == (H, W, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-7)


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match='colour must be 8×12×3 like surface'):
        refine_flags(np.zeros((8, 12)), np.zeros((8, 12), np.int64), 0.1)
