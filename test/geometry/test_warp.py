"""The 001 warp z' p' = K R K⁻¹ z p + K T(u,v) and bilinear resampling (selfdepth_ros.geometry.warp)."""
import numpy as np
import pytest
import torch

from selfdepth_ros.geometry import (euler_to_matrix, intrinsics_matrix, inverse_warp, pixel_grid, resample,
                                    warp_coordinates)
from selfdepth_ros_training.losses.photometric import reprojection_error

H, W = 48, 64


def _K(batch=1, dtype=torch.float64):
    return intrinsics_matrix(torch.full((batch,), 52.0, dtype=dtype), 50.0, 31.5, 23.5)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def _frames(plane, R, T):
    """Frame 1 (camera = world) and frame 2 (X2 = R·X1 + T) of the plane, as NCHW tensors, and depth 1."""
    K = _K()[0].numpy()
    img1, depth1 = plane.render(K, np.eye(3), np.zeros(3), H, W)
    img2, depth2 = plane.render(K, R[0].numpy(), T[0].numpy(), H, W)
    as_nchw = lambda a: _t(a).permute(2, 0, 1)[None]  # noqa: E731
    return as_nchw(img1), as_nchw(img2), _t(depth1)[None, None], _t(depth2)[None, None]


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_identity_motion_warps_image_onto_itself(dtype):
    g = torch.Generator().manual_seed(0)
    image = torch.rand(2, 3, 12, 16, generator=g, dtype=dtype)
    depth = torch.rand(2, 1, 12, 16, generator=g, dtype=dtype) * 20 + 0.5
    R = torch.eye(3, dtype=dtype).expand(2, 3, 3)
    out = inverse_warp(image, depth, _K(2, dtype), R, torch.zeros(2, 3, 12, 16, dtype=dtype))
    assert out.image.dtype == dtype and out.uv.shape == (2, 2, 12, 16) and out.valid.dtype == torch.bool
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(out.uv, pixel_grid(12, 16, dtype=dtype)[:2].expand(2, -1, -1, -1), atol=tol)
    assert torch.allclose(out.z, depth, rtol=tol)
    assert bool(out.valid.all())
    assert torch.allclose(out.image, image, atol=tol)
    assert reprojection_error(image, out.image).max() < 10 * tol


def test_textured_plane_warps_exactly_with_true_depth_and_pose(plane):
    R = euler_to_matrix(torch.tensor([[0.02, -0.06, 0.015]], dtype=torch.float64))
    T = torch.tensor([[0.25, -0.05, -0.5]], dtype=torch.float64)
    img1, img2, depth1, depth2 = _frames(plane, R, T)
    K = _K()

    def error(depth, T_used):
        out = inverse_warp(img2, depth, K, R, T_used)
        return (out.image - img1).abs().mean(1, keepdim=True)[out.valid].mean().item(), out

    err, out = error(depth1, T)
    assert out.valid.float().mean() > 0.7
    assert err < 0.003  # bilinear interpolation of the texture only
    # z' is the depth frame 2 sees at p' (up to interpolating its depth map).
    z2 = resample(depth2, out.uv)
    assert torch.allclose(out.z[out.valid], z2[out.valid], rtol=2e-3)
    assert error(depth1 * 1.15, T)[0] > 5 * err
    assert error(depth1, T + torch.tensor([[0.1, 0.0, 0.0]], dtype=torch.float64))[0] > 5 * err
    assert error(depth1, torch.zeros_like(T))[0] > 5 * err


def test_object_translation_field_moves_only_object_pixels():
    depth = torch.full((1, 1, H, W), 5.0, dtype=torch.float64)
    field = torch.zeros(1, 3, H, W, dtype=torch.float64)
    obj = (slice(10, 20), slice(15, 30))
    field[0, 0][obj] = 0.5  # 0.5 m to the right at 5 m: fx·0.5/5 = 5.2 px
    R = torch.eye(3, dtype=torch.float64)[None]
    uv, z, valid = warp_coordinates(depth, _K(), R, field)
    grid = pixel_grid(H, W, dtype=torch.float64)[:2][None]
    moved = (uv - grid).abs().sum(1) > 1e-9
    expected = torch.zeros(1, H, W, dtype=torch.bool)
    expected[0][obj] = True
    assert torch.equal(moved, expected)
    assert torch.allclose((uv - grid)[0, 0][obj], torch.full((10, 15), 52.0 * 0.5 / 5.0, dtype=torch.float64))
    assert torch.allclose((uv - grid)[0, 1][obj], torch.zeros(10, 15, dtype=torch.float64))
    assert torch.equal(z, depth) and bool(valid.all())


def test_validity_mask_marks_points_behind_camera_and_outside():
    depth = torch.full((1, 1, 6, 8), 2.0, dtype=torch.float64)
    R = torch.eye(3, dtype=torch.float64)[None]
    _, z, valid = warp_coordinates(depth, _K(), R, torch.tensor([[0.0, 0.0, -3.0]], dtype=torch.float64))
    assert bool((z < 0).all()) and not bool(valid.any())
    uv, _, valid = warp_coordinates(depth, _K(), R, torch.tensor([[0.1, 0.0, 0.0]], dtype=torch.float64))
    # shift of 52·0.1/2 = 2.6 px to the right: the last 3 columns leave the 8-pixel-wide image
    assert torch.equal(valid[0, 0].all(0), torch.tensor([True] * 5 + [False] * 3))
    assert torch.isfinite(uv).all()


def test_resample_is_bilinear_and_clamps_at_the_border():
    v, u = torch.meshgrid(torch.arange(5.0, dtype=torch.float64), torch.arange(7.0, dtype=torch.float64),
                          indexing='ij')
    image = (1.0 + 2.0 * u - 3.0 * v)[None, None]  # bilinear interpolation reproduces affine images exactly
    uv = torch.tensor([[2.3, 1.7], [0.0, 0.0], [6.0, 4.0], [-3.0, 2.5], [9.0, 10.0]], dtype=torch.float64)
    out = resample(image, uv.T.reshape(1, 2, 1, 5))[0, 0, 0]
    clamped = torch.stack([uv[:, 0].clamp(0, 6), uv[:, 1].clamp(0, 4)], 1)
    assert torch.allclose(out, 1.0 + 2.0 * clamped[:, 0] - 3.0 * clamped[:, 1], atol=1e-12)


def test_gradcheck_warp():
    g = torch.Generator().manual_seed(3)
    dt = torch.float64
    depth = (torch.rand(2, 1, 4, 5, generator=g, dtype=dt) + 2.0).requires_grad_()
    angles = (0.02 * torch.randn(2, 3, generator=g, dtype=dt)).requires_grad_()
    field = (0.05 * torch.randn(2, 3, 4, 5, generator=g, dtype=dt)).requires_grad_()
    K = intrinsics_matrix(torch.tensor([4.0, 4.5], dtype=dt), 4.2, 2.0, 1.5).requires_grad_()
    source = torch.rand(2, 3, 4, 5, generator=g, dtype=dt).requires_grad_()

    def coords(d, a, t, k):
        uv, z, _ = warp_coordinates(d, k, euler_to_matrix(a), t)
        return uv, z

    assert torch.autograd.gradcheck(coords, (depth, angles, field, K))
    assert torch.autograd.gradcheck(lambda s, d, a, t: inverse_warp(s, d, K.detach(), euler_to_matrix(a), t).image,
                                    (source, depth, angles, field))


def test_warp_errors_name_argument_and_shape():
    depth = torch.ones(1, 1, 4, 5, dtype=torch.float64)
    R = torch.eye(3, dtype=torch.float64)[None]
    with pytest.raises(ValueError, match=r'T must have shape B×3, B×3×1×1 or B×3×4×5'):
        warp_coordinates(depth, _K(), R, torch.zeros(1, 3, 2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r'R must have shape B×3×3, got \(3, 3\)'):
        warp_coordinates(depth, _K(), R[0], torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r'T must have batch size 1'):
        warp_coordinates(depth, _K(), R, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r'uv must have shape B×2×h×w'):
        resample(depth, torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match='at least 2×2'):
        resample(torch.ones(1, 1, 1, 5), torch.zeros(1, 2, 1, 1))
