"""002's pseudo-label term (eqs. 19-20) against analytic cases, and the part training on both kinds of regions."""
import pytest
import torch

from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.config.validate import ConfigError
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.losses.pseudo_label import median_aligned_l1
from selfdepth_ros_training.methods import METHODS
from selfdepth_ros_training.methods.pseudo_labels import make_pseudo_labels, moving_regions
from selfdepth_ros_training.trainer import RunOptions, Trainer


def _pair(seed=0):
    g = torch.Generator().manual_seed(seed)
    depth = torch.rand(2, 1, 6, 8, generator=g) * 20 + 1
    label = depth * (1 + 0.3 * torch.rand(2, 1, 6, 8, generator=g))
    region = torch.rand(2, 1, 6, 8, generator=g) > 0.5
    return depth, label, region


def test_invariant_to_a_global_scale_of_the_label():
    depth, label, region = _pair()
    base = median_aligned_l1(depth, label, region)
    for s in (0.01, 3.0, 1000.0):
        assert float(median_aligned_l1(depth, s * label, region)) == pytest.approx(float(base), rel=1e-5)
    assert float(median_aligned_l1(depth, 7.0 * depth, region)) == pytest.approx(0.0, abs=1e-5)


def test_known_value_and_outliers():
    depth = torch.full((1, 1, 2, 5), 10.0)
    label = torch.full((1, 1, 2, 5), 5.0)  # median ratio 2: aligned label = 10
    label[0, 0, 0, 0] = 6.0  # aligned 12: error 2
    label[0, 0, 1, 4] = 50.0  # aligned 100: an outlier of 90 m
    region = torch.ones(1, 1, 2, 5, dtype=torch.bool)
    assert float(median_aligned_l1(depth, label, region, 0.0)) == pytest.approx(92 / 10)
    assert float(median_aligned_l1(depth, label, region, 0.1)) == pytest.approx(2 / 9)  # the largest 10 % dropped
    label[0, 0, 0, 1] = float('nan')  # unlabelled: left out
    assert float(median_aligned_l1(depth, label, region, 0.1)) == pytest.approx(92 / 9)  # int(0.9) = 0 dropped
    assert float(median_aligned_l1(depth, label, region, 0.2)) == pytest.approx(2 / 8)


def test_gradients_and_errors():
    depth, label, region = _pair(1)
    d = depth.double().requires_grad_()
    median_aligned_l1(d, label.double(), region, 0.0).backward()
    # s (eq. 20) is a constant of the step (detached), so dL/dD = sign(D - s·D_pl) / count on the region
    s = torch.stack([(depth[i].double() / label[i].double()).flatten().median() for i in range(2)]).view(2, 1, 1, 1)
    expected = torch.sign(d.detach() - s * label.double()) * region / region.sum()
    assert torch.allclose(d.grad, expected)
    empty = median_aligned_l1(d, label.double(), torch.zeros_like(region))
    assert float(empty.detach()) == 0.0 and empty.requires_grad
    with pytest.raises(ValueError, match='outlier_fraction'):
        median_aligned_l1(depth, label, region, 1.0)
    with pytest.raises(ValueError, match='shape of depth'):
        median_aligned_l1(depth, label[..., :2], region)


def test_labels_from_the_motion_field_align_the_moving_object():
    H, W = 16, 20
    rows = torch.arange(H, dtype=torch.float32).view(H, 1).expand(H, W)
    depth = (200.0 / (rows + 1.0)).clone()
    depth[4:10, 5:13] = 3 * 200.0 / 11.0  # the object at 3× its ground contact's depth
    residual = torch.zeros(1, 3, H, W)
    residual[0, 2, 4:10, 5:13] = 0.5  # it moves 0.5 m per frame
    moving = moving_regions(residual, 0.05)
    label, objects = make_pseudo_labels(depth.view(1, 1, H, W), moving)
    assert torch.equal(objects, moving)
    assert torch.allclose(label[0, 0, 4:10, 5:13], torch.tensor(200.0 / 11.0))
    assert float(median_aligned_l1(depth.view(1, 1, H, W), label, objects, 0.0)) > 10.0  # the wrong scale costs


def test_bad_config_is_refused():
    weights = METHODS['dynamic_scenes'].weights
    with pytest.raises(ValueError, match='pseudo_label_regions'):
        weights(pseudo_label_regions='spimo')
    with pytest.raises(ValueError, match='pseudo_label_threshold'):
        weights(pseudo_label_threshold=0.0)


@pytest.mark.parametrize('regions', ['motion', 'gt'])
def test_the_part_trains_two_steps(regions, sim_bag, tmp_path):
    cfg = load_config('config/train/pseudo_labels_small.yaml', {
        'model': {'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
        'data': {'height': 64, 'width': 64, 'batch_size': 2, 'random_flip': False},
        'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 100, 'progress_bar': False},
        'loss': {'pseudo_labels': 0.1, 'pseudo_label_regions': regions, 'pseudo_label_threshold': 1e-6},
        'stages': []})
    assert ('moving_mask' in METHODS[cfg.method].data(cfg.loss)) == (regions == 'gt')
    data = build_dataset(cfg, [str(sim_bag(0, 12, width=128, height=96))], verbose=False)
    trainer = Trainer(cfg, data, RunOptions(out=tmp_path, max_steps=2, device='cpu'))
    last = trainer.fit()
    assert 'loss/pseudo_labels' in last and torch.isfinite(torch.tensor(last['loss/pseudo_labels']))


def test_the_recipe_turns_the_term_on_in_its_second_stage():
    cfg = load_config('config/train/pseudo_labels_small.yaml')
    assert cfg.loss.pseudo_labels == 0.0
    assert [s.name for s in cfg.stages] == ['stage1', 'pseudo_labels'] and cfg.stages[1].loss.pseudo_labels == 0.1
