"""Screen-space culling of the ray caster: projected boxes and the rays inside them."""
import numpy as np

from selfdepth_ros.sim.raycast import NEAR, rays_in_box, screen_boxes

K = np.array([[100.0, 0, 50.0], [0, 100.0, 20.0], [0, 0, 1]])


def _cube(centre, half=0.5):
    signs = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], float)
    return np.asarray(centre, float) + half * signs


def test_screen_boxes_in_front_behind_and_straddling():
    points = np.stack([_cube([0, 0, 10]), _cube([0, 0, -10]), _cube([2, 0, 0.2])])
    boxes = screen_boxes(points, np.eye(4), K)
    # In front: the extreme corners are the near face (z = 9.5): u = 50 ± 100·0.5/9.5.
    np.testing.assert_allclose(boxes[0], [50 - 50 / 9.5, 50 + 50 / 9.5, 20 - 50 / 9.5, 20 + 50 / 9.5])
    assert np.isnan(boxes[1]).all()  # entirely behind the camera
    assert np.isinf(boxes[2]).all()  # straddles z = NEAR: unbounded
    assert NEAR > 0


def test_screen_boxes_use_the_world_to_camera_transform():
    T = np.eye(4)
    T[:3, 3] = [1.0, 0, 0]  # camera-frame x = world x + 1
    box = screen_boxes(_cube([0, 0, 10], 0.0)[None], T, K)[0]
    np.testing.assert_allclose(box, [60, 60, 20, 20])


def test_rays_in_box_matches_a_brute_force_mask():
    v, u = np.meshgrid(np.arange(-1.0, 12, 0.5), np.arange(-1.0, 30), indexing='ij')
    u, v = u.ravel(), v.ravel()  # row-major: v non-decreasing
    box = np.array([3.2, 17.9, 2.5, 6.1])
    expected = np.flatnonzero((u >= 2.2) & (u <= 18.9) & (v >= 1.5) & (v <= 7.1))
    np.testing.assert_array_equal(rays_in_box(box, u, v), expected)
    np.testing.assert_array_equal(rays_in_box(np.array([-np.inf, np.inf, -np.inf, np.inf]), u, v), np.arange(u.size))
