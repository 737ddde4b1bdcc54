"""Static/dynamic split (seed 002): one median ratio per image over all valid pixels; small objects dropped."""
import numpy as np
import pytest

from selfdepth_ros.eval.metrics import frame_depth_metrics
from selfdepth_ros.eval.regions import dynamic_region_mask, region_depth_metrics


def _scene():
    gt = np.full((20, 20), 10.0)   # 400 px
    mask = np.zeros((20, 20), np.uint8)
    mask[2:6, 2:6] = 255           # 16 px = 4 % of the image: a dynamic object
    mask[15, 15] = 255             # 1 px = 0.25 %: below the 0.5 % threshold
    return gt, mask


def test_dynamic_region_keeps_only_objects_of_half_a_percent():
    _, mask = _scene()
    dyn = dynamic_region_mask(mask)
    assert dyn.sum() == 16 and dyn[2:6, 2:6].all() and not dyn[15, 15]
    assert dynamic_region_mask(mask, min_area_fraction=0.0).sum() == 17
    two_px = np.zeros((20, 20), np.uint8)
    two_px[0, 0:2] = 1             # 2 px = 0.5 %: kept (threshold inclusive)
    assert dynamic_region_mask(two_px).sum() == 2


def test_one_median_ratio_for_both_regions():
    gt, mask = _scene()
    pred = gt / 2.0                # background at scale 1/2 ...
    pred[mask > 0] = gt[mask > 0]  # ... the moving object at another scale (the scale ambiguity of 002)
    r = region_depth_metrics(pred, gt, mask)
    assert r['all']['scale'] == r['static']['scale'] == r['dynamic']['scale'] == pytest.approx(2.0)
    assert r['static']['abs_rel'] == pytest.approx(0.0)
    assert r['dynamic']['abs_rel'] == pytest.approx(1.0)   # 2·10 vs 10: wrong by 100 %, not re-scaled away
    assert r['static']['pixels'] == 400 - 17 and r['dynamic']['pixels'] == 16
    assert r['all']['abs_rel'] == pytest.approx(frame_depth_metrics(pred, gt)['abs_rel'])


def test_no_moving_object_gives_no_dynamic_metrics():
    gt, _ = _scene()
    r = region_depth_metrics(gt.copy(), gt, np.zeros_like(gt, dtype=np.uint8))
    assert r['dynamic'] is None and r['static']['pixels'] == 400


def test_region_errors():
    gt, mask = _scene()
    with pytest.raises(ValueError, match='moving_mask must be an H×W mask of shape'):
        region_depth_metrics(gt, gt, mask[:5])
    with pytest.raises(ValueError, match='min_area_fraction'):
        dynamic_region_mask(mask, 1.5)
