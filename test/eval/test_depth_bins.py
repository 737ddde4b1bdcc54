"""000's per-image quantile bins of depth and the bins accuracy, against analytic cases."""
import pytest
import torch

from selfdepth_ros.eval.depth_bins import INVALID_BIN, bins_accuracy, quantile_bins


def test_a_known_ramp_gives_the_exact_bins():
    depth = torch.arange(1, 101, dtype=torch.float32).view(1, 1, 10, 10)  # 1..100 m, row-major
    bins = quantile_bins(depth)
    assert torch.equal(bins[0, 0], torch.arange(10).view(10, 1).expand(10, 10))  # row k = the k-th tenth
    shuffled = depth.flatten()[torch.randperm(100)].view(1, 1, 10, 10)
    b = quantile_bins(shuffled)
    assert torch.equal(b, torch.div(shuffled.long() - 1, 10, rounding_mode='floor'))


def test_the_bins_are_per_image_and_free_of_scale():
    depth = torch.rand(1, 1, 8, 10) + 0.1
    both = torch.cat([depth, 50 * depth])  # a second image, same order, another scale
    bins = quantile_bins(both)
    assert torch.equal(bins[0], bins[1])
    assert torch.equal(torch.bincount(bins[0].flatten(), minlength=10), torch.full((10,), 8))


def test_invalid_pixels_are_excluded():
    depth = torch.arange(1, 21, dtype=torch.float32).view(1, 1, 4, 5)
    bad = depth.clone()
    bad.view(-1)[[0, 7]] = float('nan')
    bad.view(-1)[3] = 0.0
    bad.view(-1)[5] = float('inf')
    bins = quantile_bins(bad, bins=4)
    invalid = torch.zeros(20, dtype=torch.bool)
    invalid[[0, 3, 5, 7]] = True
    assert torch.all(bins.view(-1)[invalid] == INVALID_BIN)
    assert torch.equal(torch.bincount(bins.view(-1)[~invalid], minlength=4), torch.full((4,), 4))  # 16 valid
    assert torch.all(quantile_bins(torch.zeros(1, 1, 2, 2)) == INVALID_BIN)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match='depth must be'):
        quantile_bins(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match='bins must be'):
        quantile_bins(torch.ones(1, 1, 2, 2), bins=1)
    with pytest.raises(ValueError, match='must match'):
        bins_accuracy(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 3))


def test_accuracy_exact_and_within_one_bin():
    gt = torch.arange(1, 101, dtype=torch.float32).view(1, 1, 10, 10)
    truth = quantile_bins(gt)
    assert bins_accuracy(truth, gt) == {'bins_acc': 1.0, 'bins_acc1': 1.0, 'pixels': 100}
    off = truth.clone()
    off[0, 0, :5] = (off[0, 0, :5] + 1)  # half the pixels one bin off
    off[0, 0, 9] = 0  # a tenth nine bins off
    acc = bins_accuracy(off, gt)
    assert acc['bins_acc'] == pytest.approx(0.4) and acc['bins_acc1'] == pytest.approx(0.9)
    gt[0, 0, 0] = float('nan')  # a row without ground truth is left out
    assert bins_accuracy(quantile_bins(gt), gt)['pixels'] == 90
