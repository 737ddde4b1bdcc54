"""model.square_pixels: learned intrinsics with fx = fy in the bag's own image, whatever the resize's aspect."""
import pytest
import torch

from selfdepth_ros.models import ModelConfig, MotionNet
from selfdepth_ros_training.methods.common import square_in_source


def _placeholder(w0, h0, W, H):  # the dataset's K for a sample without CameraInfo (square in the bag's image)
    return torch.tensor([[[W, 0, (W - 1) / 2], [0, w0 * H / h0, (H - 1) / 2], [0, 0, 1]]], dtype=torch.float64)


def test_square_in_the_source_image_after_a_non_uniform_resize():
    net = MotionNet(ModelConfig.small(learn_intrinsics=True, square_pixels=True))
    learned = torch.tensor([[[150.0, 0, 90], [0, 40.0, 30], [0, 0, 1]]], dtype=torch.float64)
    out = square_in_source(learned, _placeholder(960, 540, 192, 64), net)
    sx, sy = 192 / 960, 64 / 540
    assert out[0, 0, 0] / sx == pytest.approx(out[0, 1, 1] / sy)              # fx = fy in the 960×540 image
    assert out[0, 0, 0] * out[0, 1, 1] == pytest.approx(150.0 * 40.0)          # geometric mean kept
    torch.testing.assert_close(out[0, :, 2], learned[0, :, 2])                 # principal point untouched
    assert learned[0, 1, 1] == 40.0                                            # the input is not modified


def test_off_by_default_and_differentiable():
    learned = torch.tensor([[[150.0, 0, 90], [0, 40.0, 30], [0, 0, 1]]], dtype=torch.float64, requires_grad=True)
    off = MotionNet(ModelConfig.small(learn_intrinsics=True))
    assert square_in_source(learned, _placeholder(960, 540, 192, 64), off) is learned
    on = MotionNet(ModelConfig.small(learn_intrinsics=True, square_pixels=True))
    torch.autograd.gradcheck(lambda k: square_in_source(k, _placeholder(960, 540, 192, 64), on), (learned,))
    assert square_in_source(None, _placeholder(960, 540, 192, 64), on) is None


def test_square_pixels_must_be_a_bool():
    with pytest.raises(ValueError, match='square_pixels'):
        ModelConfig(square_pixels='yes')
