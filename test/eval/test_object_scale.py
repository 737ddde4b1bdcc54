"""002's object depth scale alignment at the ground contact: a synthetic object with a known wrong scale."""
import pytest
import torch

from selfdepth_ros.eval.object_scale import align_objects, contact_scale, label_objects


def _scene(wrong=3.0):
    """A ground plane whose depth falls with the row (far at the top), and a box object standing on it at
    rows 4..9, columns 5..12 whose depth (its own, constant 20 m at the contact row) was predicted ×``wrong``."""
    H, W = 16, 20
    rows = torch.arange(H, dtype=torch.float32).view(H, 1).expand(H, W)
    ground = 200.0 / (rows + 1.0)  # 20 m at row 9, 18.2 m at row 10
    true = ground.clone()
    obj = torch.zeros(H, W, dtype=torch.bool)
    obj[4:10, 5:13] = True
    true[obj] = 200.0 / 11.0  # the object stands on row 10's ground: its depth is that contact's
    depth = true.clone()
    depth[obj] *= wrong
    return depth.view(1, 1, H, W), true.view(1, 1, H, W), obj


def test_a_known_wrong_scale_is_recovered():
    depth, true, obj = _scene(wrong=3.0)
    assert contact_scale(depth[0, 0], obj, ~obj) == pytest.approx(1 / 3)
    aligned, scales = align_objects(depth, obj.view(1, 1, *obj.shape).long())
    assert torch.allclose(aligned, true)
    assert torch.all(scales[0, 0][~obj] == 1) and torch.allclose(scales[0, 0][obj], torch.tensor(1 / 3))


def test_an_object_without_ground_below_is_left_alone():
    depth, _, obj = _scene()
    low = torch.zeros_like(obj)
    low[12:, 2:6] = True  # touches the image bottom
    assert contact_scale(depth[0, 0], low, ~low) is None
    aligned, _ = align_objects(depth, low.view(1, 1, *low.shape).long())
    assert torch.equal(aligned, depth)


def test_components_and_the_minimum_size():
    mask = torch.zeros(1, 1, 20, 20, dtype=torch.bool)
    mask[0, 0, 2:6, 2:6] = True  # 16 px = 4 %
    mask[0, 0, 10:14, 10:14] = True
    mask[0, 0, 18, 18] = True  # 1 px = 0.25 % < 0.5 %: background
    ids = label_objects(mask)
    assert sorted(ids.unique().tolist()) == [0, 1, 2] and int(ids[0, 0, 18, 18]) == 0
    with pytest.raises(ValueError, match='mask must be'):
        label_objects(mask[0])
    with pytest.raises(ValueError, match='must both be'):
        align_objects(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3))
