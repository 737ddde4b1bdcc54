"""Moving-mask scores (issue 13 item 3): analytic IoU / precision / recall and the photometric-error baseline."""
import pytest
import torch

from selfdepth_ros.eval.mask_scores import mask_scores, photometric_error_mask


def test_known_overlap():
    truth = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    truth[..., :2, :] = True                      # 8 pixels
    pred = torch.zeros_like(truth)
    pred[..., 1:3, :] = True                      # 8 pixels, 4 shared
    s = mask_scores(pred, truth)
    assert s == pytest.approx({'iou': 4 / 12, 'precision': 0.5, 'recall': 0.5})


def test_empty_masks():
    empty = torch.zeros(2, 1, 3, 3, dtype=torch.bool)
    assert mask_scores(empty, empty) == {'iou': 1.0, 'precision': 1.0, 'recall': 1.0}
    truth = empty.clone()
    truth[0, 0, 0, 0] = True
    assert mask_scores(empty, truth) == {'iou': 0.0, 'precision': 0.0, 'recall': 0.0}


def test_photometric_baseline_top_share():
    error = torch.arange(16.0).view(1, 1, 4, 4)
    mask = photometric_error_mask(error, 0.25)
    assert mask.shape == error.shape and int(mask.sum()) == 4 and bool(mask[..., 3, :].all())


def test_bad_input():
    with pytest.raises(ValueError, match='shape'):
        mask_scores(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 3))
    with pytest.raises(ValueError, match='share'):
        photometric_error_mask(torch.zeros(1, 1, 2, 2), 1.0)
    with pytest.raises(ValueError, match='B×1×H×W'):
        photometric_error_mask(torch.zeros(2, 2), 0.5)
