"""003's crop and positional encoding through the trainer: a run with both trains, exports and predicts."""
import numpy as np
import pytest
import torch

from selfdepth_ros.export import main as export
from selfdepth_ros.inference import Predictor
from selfdepth_ros_training.config import ConfigError, load_config
from selfdepth_ros_training.data import build_dataset
from selfdepth_ros_training.methods.pair_forward import pair_forward
from selfdepth_ros_training.trainer import RunOptions, Trainer
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=4,
                         positional_encoding=True, use_motion_field=True)


def test_a_unit_crop_is_the_plain_forward_pass():
    torch.manual_seed(0)
    depth_net, motion_net = DepthNet(TINY).eval(), MotionNet(TINY).eval()
    images = torch.rand(2, 2, 3, 64, 64)
    K = torch.tensor([[50.0, 0, 31.5], [0, 50.0, 31.5], [0, 0, 1]]).expand(2, 3, 3)
    plain = {'images': images, 'K': K, 'has_intrinsics': torch.ones(2, dtype=torch.bool)}
    unit = dict(plain, crop_images=images, crop_box=torch.tensor([[0.0, 0.0, 1.0, 1.0]] * 2, dtype=torch.float64))
    with torch.no_grad():
        a, b = pair_forward(plain, depth_net, motion_net), pair_forward(unit, depth_net, motion_net)
    for x, y in zip(a, b):
        if x is not None:
            torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)


def test_positional_crop_run_trains_two_steps_exports_and_predicts(sim_bag, tiny_recipe, tmp_path):
    cfg = load_config(tiny_recipe(random_scale_crop=[1.0, 2.0]), {'model': {'positional_encoding': True}})
    assert cfg.model.positional_encoding and cfg.data.random_scale_crop == (1.0, 2.0)
    bag = sim_bag(0, 12, width=128, height=96)
    trainer = Trainer(cfg, build_dataset(cfg, [str(bag)], verbose=False), RunOptions(out=tmp_path / 'run',
                                                                                      max_steps=2))
    assert 'crop_images' in trainer.dataset[0]  # the depth branch is fed crops
    before = {k: v.clone() for k, v in trainer.depth_net.state_dict().items() if k.startswith('positional.')}
    last = trainer.fit()
    assert trainer.step == 2 and np.isfinite(last['loss/total'])
    after = trainer.depth_net.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in before.items())  # the encoding trained
    ckpt = tmp_path / 'run' / 'checkpoints' / 'step_0000002.pt'
    frames = [np.random.default_rng(i).integers(0, 256, (96, 128, 3), dtype=np.uint8) for i in range(2)]
    predictor = Predictor(str(ckpt), device='cpu')
    out = predictor.predict(frames[0], None, 0)
    assert out.depth.shape == (96, 128) and np.isfinite(out.depth).all()
    assert predictor.predict(frames[1], None, 100_000_000).ego is not None
    assert export(['--checkpoint', str(ckpt), '--format', 'onnx', '--what', 'depth',
                   '--out', str(tmp_path / 'm.onnx')]) == 0


def test_a_method_without_crops_refuses_the_key(tmp_path):
    from pathlib import Path
    recipe = Path(__file__).resolve().parents[2] / 'config/train/monodepth_baseline_small.yaml'
    with pytest.raises(ConfigError, match='does not take crops'):
        load_config(recipe, {'data': {'random_scale_crop': [1.0, 2.0]}})
