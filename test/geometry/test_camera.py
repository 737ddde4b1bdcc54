"""Pinhole intrinsics, pixel grid, back-projection and projection (selfdepth_ros.geometry.camera)."""
import dataclasses

import cv2
import numpy as np
import pytest
import torch

from selfdepth_ros.geometry import (backproject, crop_intrinsics, intrinsics_matrix, pixel_grid, project,
                                    scale_intrinsics)


def _K(fx=50.0, fy=55.0, cx=47.5, cy=31.5, dtype=torch.float64):
    return intrinsics_matrix(torch.tensor([fx], dtype=dtype), fy, cx, cy)


def test_intrinsics_matrix_layout_and_batch():
    K = intrinsics_matrix(torch.tensor([10.0, 20.0]), torch.tensor([11.0, 21.0]), 5.0, 6.0)
    assert K.shape == (2, 3, 3) and K.dtype == torch.float32
    assert torch.equal(K[1], torch.tensor([[20.0, 0, 5], [0, 21, 6], [0, 0, 1]]))
    assert intrinsics_matrix(1.0, 2.0, 3.0, 4.0).shape == (1, 3, 3)


def test_intrinsics_matrix_is_differentiable():
    f = torch.tensor([30.0], dtype=torch.float64, requires_grad=True)
    intrinsics_matrix(f, f, 1.0, 2.0).sum().backward()
    assert f.grad.item() == 2.0


def test_pixel_grid_is_column_row_one():
    g = pixel_grid(2, 3, dtype=torch.float64)
    assert g.shape == (3, 2, 3)
    assert g[0, 1, 2] == 2 and g[1, 1, 2] == 1 and torch.all(g[2] == 1)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_backproject_then_project_round_trips(dtype):
    K = _K(dtype=dtype).repeat(2, 1, 1)
    depth = torch.rand(2, 1, 5, 7, dtype=dtype) * 10 + 0.5
    points = backproject(depth, K)
    assert points.shape == (2, 3, 5, 7) and points.dtype == dtype
    assert torch.allclose(points[:, 2:], depth)
    uv, z = project(points, K)
    assert torch.allclose(uv, pixel_grid(5, 7, dtype=dtype)[:2].expand(2, -1, -1, -1), atol=1e-4)
    assert torch.allclose(z, depth)


def test_backproject_known_point():
    depth = torch.full((1, 1, 4, 6), 2.0, dtype=torch.float64)
    X = backproject(depth, _K(fx=10.0, fy=20.0, cx=1.0, cy=2.0))
    # pixel (u=5, v=0): x = (5 − 1)/10·2, y = (0 − 2)/20·2
    assert torch.allclose(X[0, :, 0, 5], torch.tensor([0.8, -0.2, 2.0], dtype=torch.float64))


@pytest.mark.parametrize('size', [(32, 48), (48, 72), (96, 144), (40, 96)])
def test_scale_intrinsics_matches_cv2_resize(size, plane):
    """Render a plane at 64×96, cv2.resize it, and compare with rendering directly at the scaled intrinsics."""
    scene = dataclasses.replace(plane, wavelength=3.0)  # ≥ 12 px per period even at half size
    H, W = 64, 96
    K = _K()
    eye, zero = np.eye(3), np.zeros(3)
    hi, _ = scene.render(K[0].numpy(), eye, zero, H, W)
    h, w = size
    resized = cv2.resize(hi.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    K_new = scale_intrinsics(K, w / W, h / H)
    direct, _ = scene.render(K_new[0].numpy(), eye, zero, h, w)
    naive = K.clone()
    naive[:, 0] *= w / W
    naive[:, 1] *= h / H  # cx·sx: ignores the half-pixel offset of pixel centres
    wrong, _ = scene.render(naive[0].numpy(), eye, zero, h, w)
    inner = (slice(2, -2), slice(2, -2))
    err = np.abs(resized - direct)[inner].max()
    err_naive = np.abs(resized - wrong)[inner].max()
    assert err < 0.006  # bilinear interpolation error of the texture only
    assert err_naive > 4 * err


def test_scale_intrinsics_formula_and_batch():
    K = _K().repeat(3, 1, 1)
    s = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    Ks = scale_intrinsics(K, s, 0.25)
    assert torch.allclose(Ks[:, 0, 0], 50 * s)
    assert torch.allclose(Ks[:, 0, 2], (47.5 + 0.5) * s - 0.5)
    assert torch.allclose(Ks[:, 1, 2], torch.full((3,), (31.5 + 0.5) * 0.25 - 0.5, dtype=torch.float64))
    assert torch.equal(scale_intrinsics(K, 1.0, 1.0), K)


def test_crop_intrinsics_matches_array_crop(plane):
    K = _K()
    full, _ = plane.render(K[0].numpy(), np.eye(3), np.zeros(3), 64, 96)
    Kc = crop_intrinsics(K, 10, 7)
    crop, _ = plane.render(Kc[0].numpy(), np.eye(3), np.zeros(3), 40, 50)
    assert np.allclose(full[7:47, 10:60], crop, atol=1e-12)
    assert Kc[0, 0, 0] == K[0, 0, 0] and Kc[0, 0, 2] == 37.5 and Kc[0, 1, 2] == 24.5


def test_errors_name_argument_and_shape():
    with pytest.raises(ValueError, match=r'K must have shape B×3×3, got \(3, 3\)'):
        scale_intrinsics(torch.eye(3), 0.5, 0.5)
    with pytest.raises(ValueError, match=r'depth must have shape B×1×H×W, got \(1, 3, 4, 4\)'):
        backproject(torch.ones(1, 3, 4, 4), _K())
    with pytest.raises(ValueError, match='batch sizes differ'):
        backproject(torch.ones(2, 1, 4, 4, dtype=torch.float64), _K())
    with pytest.raises(TypeError, match='K must be a torch.Tensor'):
        crop_intrinsics(np.eye(3)[None], 1, 1)
    with pytest.raises(TypeError, match='depth must be a floating-point tensor'):
        backproject(torch.ones(1, 1, 2, 2, dtype=torch.int64), _K())
