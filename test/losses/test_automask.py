"""Per-pixel minimum reprojection with (bi-directional) auto-masking, 004 eq. (10), and monodepth_loss."""
import pytest
import torch

from selfdepth_ros.geometry import pixel_grid, resample
from selfdepth_ros_training.losses import (automasked_min_reprojection, bidirectional_automask_loss, edge_aware_smoothness,
                             monodepth_loss)

H, W, SHIFT = 24, 32, 2
PATCH = (slice(6, 16), slice(10, 20))


def _scene(seed=0):
    """Camera pans: the background moves SHIFT columns between frames; a textured patch moves with the camera
    (same pixels in both frames). Returns target, source, and the source warped with the static-scene motion."""
    g = torch.Generator().manual_seed(seed)
    background = torch.rand(1, 3, H, W + SHIFT, generator=g, dtype=torch.float64)
    patch = torch.rand(1, 3, 10, 10, generator=g, dtype=torch.float64)
    target, source = background[..., SHIFT:].clone(), background[..., :W].clone()  # target[u] = source[u + SHIFT]
    target[(..., *PATCH)] = patch
    source[(..., *PATCH)] = patch
    uv = pixel_grid(H, W, dtype=torch.float64)[:2][None].clone()
    uv[:, 0] += SHIFT
    return target, source, resample(source, uv)


def _regions():
    """Boolean H×W maps away from the patch border (3×3 SSIM windows) and the columns that leave the image."""
    patch_core = torch.zeros(H, W, dtype=torch.bool)
    patch_core[7:15, 11:19] = True
    background = torch.ones(H, W, dtype=torch.bool)
    background[4:18, 6:22] = False
    background[:, W - SHIFT - 1:] = False
    return patch_core, background


def test_automask_drops_the_region_moving_with_the_camera():
    target, source, warped = _scene()
    out = automasked_min_reprojection(target, [warped], [source])
    patch_core, background = _regions()
    mask = out['mask'][0, 0]
    assert not bool(mask[patch_core].any())
    assert bool(mask[background].all())
    assert out['min_error'][0, 0][background].max() < 1e-12  # static scene reconstructed exactly
    plain = automasked_min_reprojection(target, [warped], [source], automask=False)
    assert bool((plain['mask'] == 1).all()) and plain['loss'] > out['loss']


def test_per_pixel_minimum_picks_the_best_source():
    g = torch.Generator().manual_seed(1)
    target = torch.rand(1, 3, H, W, generator=g, dtype=torch.float64)
    noise = torch.rand(1, 3, H, W, generator=g, dtype=torch.float64)
    left_good, right_good = target.clone(), target.clone()
    left_good[..., W // 2:] = noise[..., W // 2:]
    right_good[..., :W // 2] = noise[..., :W // 2]
    out = automasked_min_reprojection(target, [left_good, right_good], [noise, noise], automask=False)
    inner = (slice(None), slice(None), slice(None), slice(2, W // 2 - 2))
    assert out['min_error'][inner].max() < 1e-12
    assert bool((out['argmin'][..., :W // 2 - 1] == 0).all()) and bool((out['argmin'][..., W // 2 + 1:] == 1).all())


def test_bidirectional_masks_both_directions_and_sums_them():
    target, source, warped = _scene(2)
    uv = pixel_grid(H, W, dtype=torch.float64)[:2][None].clone()
    uv[:, 0] -= SHIFT
    warped_target = resample(target, uv)  # target warped onto the source grid (t → t')
    out = bidirectional_automask_loss(target, [warped], [source], [warped_target], tie_break=0.0)
    patch_core, _ = _regions()
    assert not bool(out['forward_mask'][0, 0][patch_core].any())
    assert not bool(out['backward_mask'][0, 0][patch_core].any())
    assert out['loss'].item() == pytest.approx(out['forward'].item() + out['backward'].item())


def test_tie_break_is_reproducible_with_a_generator():
    target, source, warped = _scene(3)
    a = automasked_min_reprojection(target, [warped], [source], generator=torch.Generator().manual_seed(5))
    b = automasked_min_reprojection(target, [warped], [source], generator=torch.Generator().manual_seed(5))
    assert torch.equal(a['mask'], b['mask'])


def test_monodepth_loss_terms_and_gradient():
    target, source, warped = _scene(4)
    warped = warped.clone().requires_grad_()
    disparity = torch.rand(1, 1, H, W, dtype=torch.float64) + 0.1
    out = monodepth_loss(target, [warped], [source], disparity, smoothness_weight=1e-3)
    assert out['smoothness'].item() == pytest.approx(1e-3 * edge_aware_smoothness(disparity, target).item())
    assert out['total'].item() == pytest.approx(out['photometric'].item() + out['smoothness'].item())
    out['total'].backward()
    # pixels whose whole 3×3 SSIM neighbourhood is masked out get no gradient
    masked_out = torch.nn.functional.max_pool2d(out['mask'], 3, stride=1, padding=1)[0, 0] == 0
    assert masked_out.sum() > 20
    assert warped.grad[0][:, masked_out].abs().max() == 0
    both = monodepth_loss(target, [warped], [source], disparity, warped_targets=[target])
    assert both['photometric'] > out['photometric']


def test_automask_errors():
    target, source, warped = _scene()
    with pytest.raises(ValueError, match=r'identity_reconstructions must hold 2 frames \(one per source\), got 3'):
        automasked_min_reprojection(target, [warped, warped], [source] * 3)
    with pytest.raises(ValueError, match=r'reconstructions\[0\] must have shape B×C×H×W'):
        automasked_min_reprojection(target, [warped[0]], [source])
    with pytest.raises(ValueError, match=r'targets\[0\] must have the shape of reconstructions\[0\]'):
        automasked_min_reprojection(target[..., :8], [warped], [source])


def test_bidirectional_mask_keeps_exactly_the_pixels_where_warping_helps():
    """Per-pixel L1 (alpha 0) on constant regions. Identity error |x_t − x_t'| is 0.4 except in B (an object
    moving with the camera, 0). Forward (t' → t): the warp reconstructs t exactly, except in Fm (error 0.2, still
    better than 0.4: kept) and Fb (error 0.5: warping hurts, dropped). Backward (t → t'): exact except in Bb
    (error 0.9, dropped). B is a tie (0 vs 0): dropped in both directions."""
    def region(rows, cols):
        m = torch.zeros(H, W, dtype=torch.bool)
        m[rows, cols] = True
        return m
    B, Fm, Fb, Bb = region(slice(2, 6), slice(2, 8)), region(slice(8, 12), slice(2, 8)), \
        region(slice(8, 12), slice(12, 20)), region(slice(14, 20), slice(12, 20))
    full = lambda value: torch.full((1, 3, H, W), value, dtype=torch.float64)  # noqa: E731
    x_t, x_s = full(0.5), full(0.9)
    x_s[..., B] = 0.5
    warped_s = x_t.clone()  # W(x_t') on t's grid
    warped_s[..., Fm], warped_s[..., Fb] = 0.7, 1.0
    warped_t = x_s.clone()  # W(x_t) on t''s grid
    warped_t[..., Bb] = 0.0
    out = bidirectional_automask_loss(x_t, [warped_s], [x_s], [warped_t], alpha=0.0, tie_break=0.0)
    assert torch.equal(out['forward_mask'][0, 0].bool(), ~B & ~Fb)
    assert torch.equal(out['backward_mask'][0, 0].bool(), ~B & ~Bb)
    assert out['forward'].item() == pytest.approx(0.2 * int(Fm.sum()) / (H * W), rel=1e-12)  # only Fm errs
    assert out['backward'].item() == 0.0  # exact wherever kept
    assert out['loss'].item() == pytest.approx(out['forward'].item())
