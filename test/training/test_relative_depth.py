"""000's relative depth bins part: the head and its NLL, label sources, the data it declares, and the runtime
ignoring the head (older checkpoints and the depth net unchanged)."""
import pytest
import torch

from selfdepth_ros.checkpoint import build_models, load_checkpoint
from selfdepth_ros.eval.depth_bins import bins_accuracy, quantile_bins
from selfdepth_ros_training.config import load_config
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.methods import METHODS
from selfdepth_ros_training.methods.common import StepOutput
from selfdepth_ros_training.methods.relative_depth import RELATIVE_DEPTH, BinsHead, predict_bins
from selfdepth_ros_training.trainer import RunOptions, Trainer


def _step(labels, weight=0.5):
    torch.manual_seed(0)
    w = METHODS['dynamic_scenes'].weights(relative_depth=weight, relative_depth_labels=labels)
    images = torch.rand(2, 2, 3, 8, 10)
    depth = (torch.rand(4, 1, 8, 10) * 30 + 1).requires_grad_()
    batch = {'images': images, 'depth_gt': torch.rand(2, 2, 1, 8, 10) * 50 + 1}
    nets = {'bins_head': BinsHead()}
    terms = RELATIVE_DEPTH.apply(w, batch, StepOutput({'total': torch.zeros(())}, depths=depth), nets)
    return terms, depth, nets


def test_the_head_shapes_and_its_scale_free_input():
    head = BinsHead()
    rgb, depth = torch.rand(3, 3, 8, 10), torch.rand(3, 1, 8, 10) + 0.5
    logits = head(rgb, depth)
    assert logits.shape == (3, 10, 8, 10)
    assert torch.allclose(head(rgb, 40 * depth), logits, atol=1e-5)  # bins do not depend on the depth's scale
    assert predict_bins(head, rgb, depth).shape == (3, 1, 8, 10)


def test_self_labels_train_the_head_only_and_gt_labels_reach_the_depth():
    terms, depth, nets = _step('self')
    assert set(terms) == {'relative_depth'} and float(terms['relative_depth'].detach()) > 0
    terms['relative_depth'].backward()
    assert depth.grad is None and nets['bins_head'].classify.weight.grad is not None
    terms, depth, _ = _step('gt')
    terms['relative_depth'].backward()
    assert depth.grad is not None and depth.grad.abs().sum() > 0


def test_the_nll_of_a_perfect_head_is_small():
    depth = torch.arange(1, 81, dtype=torch.float32).view(1, 1, 8, 10)
    labels = quantile_bins(depth)
    logits = torch.nn.functional.one_hot(labels[:, 0], 10).permute(0, 3, 1, 2).float() * 20
    nll = torch.nn.functional.cross_entropy(logits, labels[:, 0], ignore_index=-1)
    assert float(nll) < 1e-6
    assert bins_accuracy(logits.argmax(1, keepdim=True), depth)['bins_acc'] == 1.0


def test_data_nets_and_bad_config():
    method = METHODS['dynamic_scenes']
    assert 'depth_gt' not in method.data(method.weights(relative_depth=0.1))
    assert 'depth_gt' in method.data(method.weights(relative_depth=0.1, relative_depth_labels='gt'))
    assert set(method.nets(method.weights(relative_depth=0.1))) == {'bins_head'}
    assert method.nets(method.weights()) == {}  # off by default: no head
    with pytest.raises(ValueError, match='relative_depth_labels'):
        method.weights(relative_depth=0.1, relative_depth_labels='semantic')
    with pytest.raises(ValueError, match='relative_depth must be'):
        method.weights(relative_depth=-1.0)


def test_the_recipe_trains_the_head_and_the_runtime_ignores_it(sim_bag, tmp_path):
    cfg = load_config('config/train/relative_depth_small.yaml', {
        'model': {'encoder_width': 8, 'decoder_width': 4, 'motion_refine_width': 4},
        'data': {'height': 64, 'width': 64, 'batch_size': 2, 'random_flip': False},
        'log': {'every': 1, 'image_every': 0, 'checkpoint_every': 2, 'progress_bar': False},
        'loss': {'relative_depth_labels': 'gt'}})
    data = build_dataset(cfg, [str(sim_bag(0, 12, width=128, height=96))], verbose=False)
    trainer = Trainer(cfg, data, RunOptions(out=tmp_path, max_steps=2, device='cpu'))
    last = trainer.fit()
    assert torch.isfinite(torch.tensor(last['loss/relative_depth']))
    ckpt = load_checkpoint(tmp_path / 'checkpoints' / 'step_0000002.pt')  # weights_only=True inside
    assert set(ckpt['nets']) == {'bins_head'}  # a training-only net, by name
    depth_net, _ = build_models(ckpt)  # the runtime's loader: depth and motion only, strictly
    assert set(depth_net.state_dict()) == set(trainer.depth_net.state_dict())  # the depth net is unchanged
