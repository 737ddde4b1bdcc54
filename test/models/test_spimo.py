"""003's SPIMO masks (selfdepth_ros.models.spimo): analytic cases."""
import pytest
import torch

from selfdepth_ros.models import DepthNet, ModelConfig
from selfdepth_ros.models.positional import normalised_positions
from selfdepth_ros.models.spimo import SPIMO_OFFSETS, normalised_variance, shifted_depths, spimo_mask

NPE = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8,
                        positional_encoding=True)


def test_normalised_variance_of_known_values():
    d = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(4, 1, 1, 1, 1)  # mean 2.5, Σ(d − mean)² = 5
    torch.testing.assert_close(normalised_variance(d), torch.tensor(5 / (2.5 ** 2 * 3)).view(1, 1, 1, 1))
    assert float(normalised_variance(torch.full((4, 1, 1, 2, 2), 7.0)).abs().max()) == 0.0
    # scale-free: the same relative spread far away gives the same value
    torch.testing.assert_close(normalised_variance(50 * d), normalised_variance(d))


def test_normalised_variance_gradcheck():
    d = (1 + torch.rand(3, 2, 1, 2, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(normalised_variance, (d,))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match='N×B×1×H×W with N >= 2'):
        normalised_variance(torch.ones(1, 1, 1, 2, 2))
    with pytest.raises(ValueError, match='positive mean'):
        normalised_variance(torch.zeros(2, 1, 1, 2, 2))
    rgb = torch.rand(1, 3, 64, 64)
    with pytest.raises(ValueError, match='need a depth net with positional_encoding'):
        spimo_mask(DepthNet(NPE.replace(positional_encoding=False)), rgb)
    with pytest.raises(ValueError, match='at least 2 positional offsets'):
        spimo_mask(DepthNet(NPE), rgb, offsets=[(0.0, 0.0)])
    with pytest.raises(ValueError, match='gamma must be > 0'):
        spimo_mask(DepthNet(NPE), rgb, gamma=0.0)


class PositionSensitive(torch.nn.Module):
    """A stand-in depth net: 10 m everywhere; inside a box (the "car") depth follows the u position, 10·(1 + k·u)."""

    config = NPE

    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = k

    def forward(self, rgb: torch.Tensor, positions: torch.Tensor) -> list[torch.Tensor]:
        depth = torch.full_like(rgb[:, :1], 10.0)
        car = torch.zeros_like(depth, dtype=torch.bool)
        car[..., 20:40, 10:30] = True
        return [torch.where(car, 10.0 * (1 + self.k * positions[:, :1]), depth)]


def test_the_mask_is_the_position_sensitive_region():
    rgb = torch.rand(2, 3, 64, 64)
    moving, variance = spimo_mask(PositionSensitive(k=0.5), rgb)
    expected = torch.zeros_like(moving)
    expected[..., 20:40, 10:30] = True
    assert torch.equal(moving, expected) and float(variance[~expected].abs().max()) == 0.0
    # at a car pixel with position u the offsets' depths are 10(1 + k(u + Δu)), Δu = 0, .5, −.5, 0: their mean is
    # 10(1 + ku) and Σ(Dᵢ − D̄)² = 2·(10·k·0.5)², so var = 50k² / (100(1 + ku)²·3)
    k, u = 0.5, normalised_positions(64, 64)[0, 0, 30, 20]
    torch.testing.assert_close(variance[0, 0, 30, 20], 50 * k ** 2 / (100 * (1 + k * u) ** 2 * 3))
    # below γ the car is static: a weak sensitivity
    assert not spimo_mask(PositionSensitive(k=0.01), rgb)[0].any()


def test_a_real_positional_depth_net_gives_one_depth_per_offset():
    torch.manual_seed(0)
    net = DepthNet(NPE).eval()
    rgb = torch.rand(2, 3, 64, 64)
    depths = shifted_depths(net, rgb)
    assert depths.shape == (len(SPIMO_OFFSETS), 2, 1, 64, 64)
    torch.testing.assert_close(depths[0], net(rgb)[0].detach())  # offset (0, 0) is the plain full frame
    assert not torch.allclose(depths[1], depths[0])
    moving, variance = spimo_mask(net, rgb)
    assert moving.shape == variance.shape == (2, 1, 64, 64) and moving.dtype == torch.bool
