"""``selfdepth export``: TorchScript and ONNX parity with eager torch on the small config, exit codes."""
import json

import numpy as np
import pytest
import torch

from selfdepth_ros.checkpoint import FORMAT, save_checkpoint
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet
from selfdepth_ros.export import main

TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)


@pytest.fixture(scope='module')
def small_ckpt(tmp_path_factory):
    cfg = ModelConfig.small(learn_intrinsics=True)  # every output head, the CPU-robot size
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('export') / 'small.pt'
    save_checkpoint(path, model_config=cfg, depth_net=DepthNet(cfg), motion_net=MotionNet(cfg), step=3)
    return path


@pytest.mark.parametrize('fmt, suffix', [('torchscript', '.pt'), ('onnx', '.onnx')])
def test_parity_of_both_graphs(small_ckpt, tmp_path, capsys, fmt, suffix):
    out = tmp_path / f'model{suffix}'
    assert main(['--checkpoint', str(small_ckpt), '--format', fmt, '--out', str(out), '--what', 'both']) == 0
    printed = capsys.readouterr().out
    assert 'depth/depth: max abs diff' in printed and 'motion/intrinsics: max abs diff' in printed
    for what, names in (('depth', ['depth']), ('motion', ['rotation', 'translation', 'residual', 'intrinsics'])):
        path = tmp_path / f'model.{what}{suffix}'
        meta = json.loads(path.with_name(path.name + '.json').read_text())
        assert meta['parity']['ok'] and meta['outputs'] == names and meta['model_config']['height'] == 64
        for stats in meta['parity']['outputs'].values():
            assert stats['max_abs_diff'] <= 1e-5 + 1e-4 * stats['max_abs_eager']


def test_parity_failure_exits_1(tmp_path, capsys):
    path = tmp_path / 'tiny.pt'
    save_checkpoint(path, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY))
    code = main(['--checkpoint', str(path), '--format', 'torchscript', '--what', 'depth', '--atol', '-1'])
    assert code == 1 and 'PARITY FAILED' in capsys.readouterr().out
    assert (tmp_path / 'tiny.depth.pt').is_file()  # default output: next to the checkpoint


def test_unsafe_checkpoint_exits_2(tmp_path, capsys):
    path = tmp_path / 'evil.pt'
    torch.save({'format': FORMAT, 'payload': np.random.default_rng(0)}, path)
    assert main(['--checkpoint', str(path), '--format', 'onnx']) == 2
    assert 'not a safe selfdepth_ros checkpoint' in capsys.readouterr().err
