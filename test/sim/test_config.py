"""SimConfig validation and intrinsics."""
import re

import numpy as np
import pytest

from selfdepth_ros.sim.config import SimConfig
from selfdepth_ros.sim.drive import iter_frames


def test_default_camera_is_kitti_like():
    K = SimConfig().K
    np.testing.assert_allclose(K, [[241.28, 0, 207.5], [0, 241.28, 63.5], [0, 0, 1]])
    assert SimConfig(fx=100.0, cy=10.0).K[1, 1] == 100.0 and SimConfig(cy=10.0).K[1, 2] == 10.0


@pytest.mark.parametrize('field, value, words', [
    ('frames', 1, 'frames must be an integer >= 2'),
    ('width', 8, 'width must be an integer >= 16'),
    ('height', 4, 'height must be an integer >= 8'),
    ('moving_objects', -1, 'moving_objects must be an integer in [0, 64]'),
    ('fps', 0.0, 'fps must be a finite number > 0'),
    ('camera_height', 0.1, 'camera_height must be between'),
    ('fx', -3.0, 'fx must be None or a finite number > 0'),
    ('sky_depth', 50.0, 'sky_depth must be >= 100'),
    ('noise_std', -1.0, 'noise_std must be a finite number >= 0'),
    ('supersample_threshold', -0.1, 'supersample_threshold must be a finite number >= 0'),
])
def test_bad_values_name_the_field(field, value, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        SimConfig(**{field: value})


def test_iter_frames_needs_a_config():
    with pytest.raises(TypeError, match='cfg must be a SimConfig'):
        next(iter_frames({'frames': 3}))
