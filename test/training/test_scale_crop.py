"""003's depth-cue-preserving resize and crop (selfdepth_ros_training.scale_crop): analytic checks."""
from __future__ import annotations

import pytest
import torch

from selfdepth_ros.geometry import euler_to_matrix, intrinsics_matrix, inverse_warp, warp_coordinates
from selfdepth_ros.models.positional import normalised_positions
from selfdepth_ros_training.augment import FlipAugmented
from selfdepth_ros_training.config.validate import ConfigError
from selfdepth_ros_training.scale_crop import (crop_K, draw_box, field_to_crop, full_frame_pixels, resize_factor,
                                 scale_crop_images, window)

H, W = 64, 96
DT = torch.float64


def _scene() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    K = intrinsics_matrix(80.0, 75.0, 47.3, 31.1).to(DT)
    R = euler_to_matrix(torch.tensor([[0.01, -0.02, 0.005]], dtype=DT))
    T = torch.tensor([[0.1, -0.05, 0.8]], dtype=DT)
    box = torch.tensor([[13.0, 7.0, 120 / 96, 80 / 64]], dtype=DT)  # r = 1.25, a 80×120 frame cropped at (13, 7)
    return K, R, T, box


def depth_at(uv: torch.Tensor) -> torch.Tensor:
    """An analytic, slanted depth map of the full frame at continuous pixel positions uv (B×2×h×w)."""
    return 6.0 + 0.03 * uv[:, :1] + 0.08 * uv[:, 1:]


def ramp(uv: torch.Tensor) -> torch.Tensor:
    """A 3-channel image linear in the full frame's pixel coordinates (bilinear sampling reproduces it)."""
    u, v = uv[:, :1], uv[:, 1:]
    return torch.cat([0.2 + 0.004 * u, 0.1 + 0.006 * v, 0.5 + 0.002 * u - 0.003 * v], 1)


def moved_in_full_frame(full: torch.Tensor, K: torch.Tensor, R: torch.Tensor, T: torch.Tensor,
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """The rigid motion of the full frame's (continuous) pixels ``full``: X = z K⁻¹ p, X' = R X + T, q ~ K X'.
    Returns (q B×2×N, X' B×3×N)."""
    rays = torch.linalg.inv(K) @ torch.cat([full, torch.ones_like(full[:, :1])], 1).reshape(1, 3, -1)
    moved = R @ (rays * depth_at(full).reshape(1, 1, -1)) + T[..., None]
    return (K @ moved)[:, :2] / (K @ moved)[:, 2:], moved


def test_known_rigid_motion_reprojects_the_crop_exactly_with_the_updated_K() -> None:
    K, R, T, box = _scene()
    full = full_frame_pixels(box, H, W)  # where the crop's pixels lie in the full frame
    q_full, moved = moved_in_full_frame(full, K, R, T)
    sx, sy, x0, y0 = box[0, 2], box[0, 3], box[0, 0], box[0, 1]
    q_expected = torch.stack([(q_full[:, 0] + 0.5) * sx - 0.5 - x0, (q_full[:, 1] + 0.5) * sy - 0.5 - y0], 1)
    # the crop: its K, depth divided by the factor, translation divided by the factor (003, proportional)
    s = resize_factor(box)
    uv, z, _ = warp_coordinates(depth_at(full) / s, crop_K(K, box), R, T / s[:, None])
    torch.testing.assert_close(uv.reshape(1, 2, -1), q_expected, atol=1e-9, rtol=0)
    torch.testing.assert_close(z.reshape(1, 1, -1) * s, moved[:, 2:], atol=1e-9, rtol=0)


def test_the_crop_reconstructs_frame_one_as_the_full_frame_does() -> None:
    K, R, T, box = _scene()
    s = resize_factor(box)
    grid = full_frame_pixels(torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=DT), H, W)
    frame2 = ramp(grid)  # frame 2 of the full frames; its crop is what the depth branch sees
    crop2 = scale_crop_images(frame2, box[0])
    full = full_frame_pixels(box, H, W)
    interior = ((full[:, :1] >= 0) & (full[:, :1] <= W - 1) & (full[:, 1:] >= 0) & (full[:, 1:] <= H - 1))
    torch.testing.assert_close(crop2[interior.expand_as(crop2)], ramp(full)[interior.expand_as(crop2)],
                               atol=1e-9, rtol=0)
    torch.testing.assert_close(field_to_crop(frame2, box)[interior.expand_as(crop2)],
                               ramp(full)[interior.expand_as(crop2)], atol=1e-9, rtol=0)
    by_crop = inverse_warp(crop2, depth_at(full) / s, crop_K(K, box), R, T / s[:, None])
    q_full, _ = moved_in_full_frame(full, K, R, T)
    ok = by_crop.valid & (by_crop.uv >= 0).all(1, keepdim=True)
    ok &= (by_crop.uv[:, :1] <= W - 1) & (by_crop.uv[:, 1:] <= H - 1) & interior
    assert ok.float().mean() > 0.5
    # the crop's reconstruction is frame 2 where the full-frame motion sends the crop's pixels
    expected = ramp(q_full.reshape(1, 2, H, W))
    torch.testing.assert_close(by_crop.image[ok.expand_as(crop2)], expected[ok.expand_as(crop2)],
                               atol=1e-6, rtol=0)


def test_a_unit_box_is_the_identity() -> None:
    K, _, _, _ = _scene()
    images = torch.rand(2, 3, H, W, dtype=DT)
    unit = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=DT)
    assert torch.equal(scale_crop_images(images, unit), images)
    torch.testing.assert_close(crop_K(K[0], unit), K[0])
    assert float(resize_factor(unit)) == 1.0
    torch.testing.assert_close(window(unit[None], H, W), torch.tensor([[-1.0, -1.0, 1.0, 1.0]], dtype=DT))


def test_the_crop_window_positions_are_the_resized_frames_positions_sliced() -> None:
    _, _, _, box = _scene()
    x0, y0 = int(box[0, 0]), int(box[0, 1])
    resized = normalised_positions(80, 120, dtype=DT)
    torch.testing.assert_close(normalised_positions(H, W, window(box, H, W)),
                               resized[..., y0:y0 + H, x0:x0 + W], atol=1e-12, rtol=0)


def test_boxes_stay_inside_and_span_the_range() -> None:
    gen = torch.Generator().manual_seed(0)
    factors = []
    for _ in range(200):
        box = draw_box(gen, H, W, (1.0, 3.0))
        x0, y0, sx, sy = box.tolist()
        assert x0 >= 0 and y0 >= 0 and x0 + W <= round(sx * W) and y0 + H <= round(sy * H)
        assert scale_crop_images(torch.zeros(1, 3, H, W), box).shape == (1, 3, H, W)
        factors.append(float(resize_factor(box)))
    assert 1.0 <= min(factors) < 1.1 and 2.9 < max(factors) <= 3.02


def test_bad_ranges_and_boxes_are_refused() -> None:
    gen = torch.Generator()
    for bad in [(0.5, 1.5), (2.0, 1.0), (1.0, 5.0)]:
        with pytest.raises(ValueError, match='random_scale_crop must be'):
            draw_box(gen, H, W, bad)
    with pytest.raises(ValueError, match='leaves the'):
        scale_crop_images(torch.zeros(1, 3, H, W), torch.tensor([40.0, 0.0, 1.25, 1.25]))
    from selfdepth_ros_training.config.data import DataConfig
    with pytest.raises(ConfigError, match='random_scale_crop must be'):
        DataConfig(random_scale_crop=(0.5, 1.5))


class _One(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> dict:
        K = intrinsics_matrix(80.0, 75.0, 47.3, 31.1)[0]
        return {'images': torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(i)), 'K': K}


def test_the_dataset_wrapper_adds_a_reproducible_crop_and_keeps_the_flips() -> None:
    plain = FlipAugmented(_One(), seed=3)
    cropped = FlipAugmented(_One(), seed=3, scale_range=(1.0, 2.0))
    for i in range(4):
        a, b = plain[i], cropped[i]
        assert torch.equal(a['images'], b['images']) and torch.equal(a['K'], b['K'])  # the pose branch's frames
        assert b['crop_images'].shape == a['images'].shape
        assert torch.equal(b['crop_box'], cropped[i]['crop_box'])
        torch.testing.assert_close(b['crop_K'], crop_K(b['K'].double(), b['crop_box']).float())
        torch.testing.assert_close(b['crop_images'], scale_crop_images(b['images'], b['crop_box']))
