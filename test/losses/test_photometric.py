"""SSIM, the occlusion-aware photometric loss (001 eq. 7) and the monodepth2 reprojection error."""
import pytest
import torch
import torch.nn.functional as F

from selfdepth_ros_training.losses import (OcclusionAwarePhotometricLoss, depth_proximity_weight, occlusion_aware_photometric_loss,
                             occlusion_mask, reprojection_error, weighted_ssim)


def _img(seed, shape=(2, 3, 10, 12), dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _ssim_by_hand(x, y, c1, c2):
    """Textbook SSIM of one 3×3 window (population moments)."""
    mx, my = x.mean(), y.mean()
    sx, sy = ((x - mx) ** 2).mean(), ((y - my) ** 2).mean()
    sxy = ((x - mx) * (y - my)).mean()
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sx + sy + c2))


@pytest.mark.parametrize('padding,size', [('reflect', (10, 12)), ('valid', (8, 10))])
def test_ssim_of_identical_images_is_zero_and_shapes(padding, size):
    x = _img(0)
    dssim, pooled = weighted_ssim(x, x, padding=padding)
    assert dssim.shape == (2, 3, *size) and pooled.shape == (2, 1, *size)
    assert dssim.abs().max() < 1e-12


def test_ssim_matches_textbook_formula_on_one_window():
    x, y = _img(1, (1, 1, 3, 3)), _img(2, (1, 1, 3, 3))
    dssim, _ = weighted_ssim(x, y, padding='valid')
    expected = (1 - _ssim_by_hand(x, y, 0.01 ** 2, 0.03 ** 2)) / 2
    assert dssim.item() == pytest.approx(expected.item(), rel=1e-12)
    # c1 = inf drops the luminance factor (the 001 reference's choice).
    dssim, _ = weighted_ssim(x, y, c1=float('inf'), c2=9e-6, padding='valid')
    mx, my = x.mean(), y.mean()
    cs = (2 * ((x - mx) * (y - my)).mean() + 9e-6) / (((x - mx) ** 2).mean() + ((y - my) ** 2).mean() + 9e-6)
    assert dssim.item() == pytest.approx(((1 - cs) / 2).item(), rel=1e-12)


def test_uniform_weight_equals_unweighted_ssim():
    x, y = _img(3), _img(4)
    plain, _ = weighted_ssim(x, y, padding='valid')
    weighted, pooled = weighted_ssim(x, y, torch.full((2, 1, 10, 12), 0.7, dtype=torch.float64), padding='valid')
    assert torch.allclose(plain, weighted, atol=1e-12) and torch.allclose(pooled, torch.full_like(pooled, 0.7))


def test_ssim_weight_ignores_zero_weight_pixels():
    """A corrupted pixel with zero weight barely changes the weighted SSIM (only through weight_epsilon)."""
    x, y = _img(5, (1, 1, 3, 3)), _img(6, (1, 1, 3, 3))
    w = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    w[..., 1, 1] = 0
    y_bad = y.clone()
    y_bad[..., 1, 1] = 50.0
    a, _ = weighted_ssim(x, y, w, weight_epsilon=1e-9, padding='valid')
    b, _ = weighted_ssim(x, y_bad, w, weight_epsilon=1e-9, padding='valid')
    assert a.item() == pytest.approx(b.item(), abs=1e-6)


def test_occlusion_mask_is_strict_and_respects_validity():
    z = torch.tensor([1.0, 2.0, 3.0, 1.0]).view(1, 1, 1, 4)
    d2 = torch.tensor([2.0, 2.0, 2.0, 5.0]).view(1, 1, 1, 4)
    valid = torch.tensor([True, True, True, False]).view(1, 1, 1, 4)
    assert occlusion_mask(z, d2, valid).flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_depth_proximity_weight_formula():
    z = torch.tensor([1.0, 2.0, 4.0]).view(1, 1, 1, 3).double()
    d2 = torch.tensor([2.0, 2.0, 5.0]).view(1, 1, 1, 3).double()
    mask = torch.tensor([1.0, 0.0, 1.0]).view(1, 1, 1, 3).double()
    valid = torch.ones(1, 1, 1, 3, dtype=torch.bool)
    sigma2 = (1.0 + 1.0) / (2 + 1) + 1e-4
    expected = torch.tensor([sigma2 / (1 + sigma2), 1.0, sigma2 / (1 + sigma2)], dtype=torch.float64)
    assert torch.allclose(depth_proximity_weight(z, d2, mask, valid).flatten(), expected)


def test_occlusion_aware_loss_counts_only_unoccluded_pixels():
    target = torch.zeros(1, 3, 6, 6, dtype=torch.float64)
    resampled = torch.full_like(target, 0.5)
    z = torch.ones(1, 1, 6, 6, dtype=torch.float64)
    d2 = torch.full_like(z, 2.0)
    d2[..., :3] = 0.5  # left half: the moved point is behind what frame 2 sees → occluded
    valid = torch.ones_like(z, dtype=torch.bool)
    out = occlusion_aware_photometric_loss(target, resampled, z, d2, valid)
    assert out['rgb'].item() == pytest.approx(0.25)  # mean over all pixels, masked ones count as zero
    assert out['mask'][..., :3].sum() == 0 and bool((out['mask'][..., 3:] == 1).all())
    perfect = occlusion_aware_photometric_loss(target, target, z, d2, valid)
    assert perfect['rgb'].item() == 0 and perfect['ssim'].item() == pytest.approx(0, abs=1e-12)


def test_occlusion_aware_loss_module_and_gradcheck():
    target, resampled = _img(7, (1, 3, 5, 6)), _img(8, (1, 3, 5, 6)).requires_grad_()
    z = torch.rand(1, 1, 5, 6, dtype=torch.float64) + 1
    d2 = z + torch.rand(1, 1, 5, 6, dtype=torch.float64) * 0.2 - 0.05
    valid = torch.ones_like(z, dtype=torch.bool)
    out = occlusion_aware_photometric_loss(target, resampled, z, d2, valid)
    module = OcclusionAwarePhotometricLoss(rgb_weight=2.0, ssim_weight=3.0)(target, resampled, z, d2, valid)
    assert module.item() == pytest.approx((2 * out['rgb'] + 3 * out['ssim']).item())
    assert torch.autograd.gradcheck(
        lambda r: occlusion_aware_photometric_loss(target, r, z, d2, valid, ssim_c1=0.01 ** 2)['ssim'],
        (resampled,), fast_mode=True)


def test_reprojection_error_combines_ssim_and_l1():
    x, y = _img(9), _img(10)
    err = reprojection_error(x, y)
    assert err.shape == (2, 1, 10, 12)
    dssim, _ = weighted_ssim(y, x, padding='reflect')
    expected = 0.85 * dssim.mean(1, keepdim=True) + 0.15 * (x - y).abs().mean(1, keepdim=True)
    assert torch.allclose(err, expected)
    # monodepth2's SSIM layer: reflection padding, 3×3 average pooling, c1 = 0.01², c2 = 0.03²
    pool = lambda a: F.avg_pool2d(F.pad(a, (1, 1, 1, 1), mode='reflect'), 3, 1)  # noqa: E731
    mx, my = pool(x), pool(y)
    sx, sy, sxy = pool(x * x) - mx ** 2, pool(y * y) - my ** 2, pool(x * y) - mx * my
    ssim = ((2 * mx * my + 1e-4) * (2 * sxy + 9e-4)) / ((mx ** 2 + my ** 2 + 1e-4) * (sx + sy + 9e-4))
    assert torch.allclose(weighted_ssim(x, y)[0], torch.clamp((1 - ssim) / 2, 0, 1), atol=1e-12)
    assert torch.allclose(reprojection_error(x, x), torch.zeros_like(err), atol=1e-12)


def test_photometric_errors():
    with pytest.raises(ValueError, match='x and y must have the same shape'):
        weighted_ssim(_img(0), _img(0, (2, 3, 10, 11)))
    with pytest.raises(ValueError, match="padding must be 'reflect' or 'valid'"):
        weighted_ssim(_img(0), _img(0), padding='same')
    with pytest.raises(ValueError, match='both infinite'):
        weighted_ssim(_img(0), _img(0), c1=float('inf'), c2=float('inf'))
    with pytest.raises(ValueError, match=r'weight must have shape B×1×10×12'):
        weighted_ssim(_img(0), _img(0), torch.ones(2, 3, 10, 12, dtype=torch.float64))
    with pytest.raises(ValueError, match=r'resampled_depth must have shape 1×1×2×2'):
        occlusion_mask(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3), torch.ones(1, 1, 2, 2, dtype=torch.bool))
