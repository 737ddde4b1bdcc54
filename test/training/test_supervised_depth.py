"""004's supervised depth part (issue 11): eq. (5) against an analytic case, the alternation of supervised and
self-supervised steps, and ground truth read only for the source that is supervised."""
import pytest
import torch

from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.data import build_dataset, consumes_ground_truth
from selfdepth_ros_training.losses.supervised_depth import supervised_depth_l1
from selfdepth_ros_training.methods import METHODS
from selfdepth_ros_training.trainer import RunOptions, Trainer, TrainingError


def test_zero_when_the_prediction_is_the_ground_truth():
    gt = torch.full((2, 1, 3, 4), 7.0)
    assert float(supervised_depth_l1(gt.clone(), gt)) == 0.0


def test_known_value_for_a_known_error_in_metres():
    gt = torch.full((1, 1, 2, 2), 10.0)
    depth = torch.tensor([[[[11.0, 10.0], [7.0, 10.0]]]])  # errors 1, 0, 3, 0 m: mean 1 (scale-aware, no scaling)
    assert float(supervised_depth_l1(depth, gt)) == pytest.approx(1.0)
    assert float(supervised_depth_l1(2 * gt, gt)) == pytest.approx(10.0)  # a scale error costs its metres


def test_pixels_without_ground_truth_are_ignored_and_far_ones_clipped():
    gt = torch.tensor([[[[10.0, float('nan')], [0.0, 1000.0]]]])  # 1000 m (the simulator's sky) clips to 80
    depth = torch.tensor([[[[12.0, 500.0], [-3.0, 80.0]]]])
    assert float(supervised_depth_l1(depth, gt)) == pytest.approx(1.0)  # (2 + 0) / 2 valid pixels
    none = supervised_depth_l1(depth.requires_grad_(), torch.zeros_like(gt))
    assert float(none.detach()) == 0.0 and none.requires_grad
    with pytest.raises(ValueError, match='shape'):
        supervised_depth_l1(depth, gt[..., :1])


def _recipe(tmp_path, sim_bag, **loss):
    cfg = load_config('config/train/sim2real_small.yaml', {
        'model': {'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
        'data': {'height': 64, 'width': 64, 'batch_size': 2, 'random_flip': False},
        'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 100, 'progress_bar': False}, 'loss': loss})
    bag = str(sim_bag(0, 12, width=128, height=96))
    return cfg, bag


def test_ground_truth_is_read_only_for_the_supervised_source(tmp_path, sim_bag):
    cfg, bag = _recipe(tmp_path, sim_bag)
    weights = cfg.loss
    assert METHODS[cfg.method].data(weights, 'synthetic') == ('depth_gt',)
    assert 'depth_gt' not in METHODS[cfg.method].data(weights, 'real')
    assert consumes_ground_truth(cfg, 'synthetic') and not consumes_ground_truth(cfg, 'real')
    assert 'depth_gt' in build_dataset(cfg, [bag], verbose=False, source='synthetic')[0]
    assert 'depth_gt' not in build_dataset(cfg, [bag], verbose=False, source='real')[0]
    off, _ = _recipe(tmp_path, sim_bag, supervised_depth=0.0)
    assert not consumes_ground_truth(off, 'synthetic')


def test_steps_alternate_supervised_and_self_supervised(tmp_path, sim_bag):
    cfg, bag = _recipe(tmp_path, sim_bag)
    data = {name: build_dataset(cfg, [bag], verbose=False, source=name) for name in ('synthetic', 'real')}
    trainer = Trainer(cfg, data, RunOptions(out=tmp_path, max_steps=4, device='cpu'))
    seen = []

    def record(t):
        seen.append(t.schedule.source(t.step - 1))
    motion = {k: v.clone() for k, v in trainer.motion_net.state_dict().items()}
    steps = []
    original = trainer.train_step
    trainer.train_step = lambda batch: steps.append(original(batch)) or steps[-1]
    trainer.fit(on_step=record)
    assert seen == ['synthetic', 'real', 'synthetic', 'real']
    assert set(steps[0].losses) == {'supervised_depth', 'total', 'grad_norm'}  # eq. (5) alone
    assert 'ssim' in steps[1].losses and 'supervised_depth' not in steps[1].losses
    assert float(steps[0].losses['total']) == pytest.approx(float(steps[0].losses['supervised_depth']))
    assert any(not torch.equal(motion[k], v) for k, v in trainer.motion_net.state_dict().items())


def test_a_real_source_cannot_be_supervised_and_a_missing_one_is_named(tmp_path, sim_bag):
    cfg, bag = _recipe(tmp_path, sim_bag)
    plain = build_dataset(cfg, [bag], verbose=False, load_gt=False)
    with pytest.raises(TrainingError, match=r"consumes \['depth_gt'\].*'synthetic'"):
        Trainer(cfg, {'synthetic': plain, 'real': plain}, RunOptions(out=tmp_path, max_steps=1, device='cpu'))
    one, _ = _recipe(tmp_path, sim_bag, supervised_source='sim')
    with pytest.raises(TrainingError, match=r"supervises the data source\(s\) \['sim'\]"):
        Trainer(one, {'synthetic': plain, 'real': plain}, RunOptions(out=tmp_path, max_steps=1, device='cpu'))
