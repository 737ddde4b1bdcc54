"""The node's `backend` parameter with the real Predictor over DDS (loopback), issue 15: what it runs matches eager,
hot reload keeps the backend, `backend` set at run time loads the model again on it, an exported file loads through
`checkpoint`, a broken export is refused (the old model stays), and a backend that cannot run here falls back to
eager with a WARN. `compile` (minutes of build on a CPU) is in the slow suite."""
import shutil

import numpy as np
import pytest
import torch

rclpy = pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402

from selfdepth_ros.checkpoint import save_checkpoint  # noqa: E402
from selfdepth_ros.export import main as export  # noqa: E402
from selfdepth_ros.inference import Predictor  # noqa: E402
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet  # noqa: E402
from selfdepth_ros.nodes.perception_node import default_predictor  # noqa: E402

TINY = ModelConfig.small(height=64, width=96, encoder_width=8, decoder_width=4, motion_refine_width=8)
DT_NS = 100_000_000


def _ckpt(path, seed):
    torch.manual_seed(seed)
    save_checkpoint(path, model_config=TINY, depth_net=DepthNet(TINY), motion_net=MotionNet(TINY), step=seed)
    return path


def _eager_depth(ckpt, rgb):
    return Predictor(ckpt, device='cpu').predict(rgb).depth_net


@pytest.mark.ros
def test_backends_through_hot_reload(harness, make_frame, tmp_path, console):
    a, b = _ckpt(tmp_path / 'a.pt', 1), _ckpt(tmp_path / 'b.pt', 2)
    h = harness({'checkpoint': str(a), 'backend': 'onnxruntime', 'device': 'cpu', 'output_resolution': 'network',
                 'diagnostics_period': 0.1}, factory=default_predictor)
    node, rgb = h.node, make_frame(48, 64)

    def depth_after():
        return h.next_depth(rgb, DT_NS)

    def close_to(got, want):
        np.testing.assert_allclose(got, want, atol=1e-5 + 1e-3 * np.abs(want).max())

    def set_params(**values):
        return node.set_parameters_atomically([Parameter(k, value=v) for k, v in values.items()])

    assert node.model_info['backend'] == 'onnxruntime' and node.model_info['backend_fallback'] is None
    close_to(depth_after(), _eager_depth(a, rgb))
    # Hot reload keeps the backend.
    assert set_params(checkpoint=str(b)).successful
    assert node.model_info['backend'] == 'onnxruntime' and node.model_info['checkpoint'] == str(b)
    close_to(depth_after(), _eager_depth(b, rgb))
    # backend set at run time: the same checkpoint loaded again on it.
    assert set_params(backend='torchscript').successful
    assert node.model_info['backend'] == 'torchscript'
    close_to(depth_after(), _eager_depth(b, rgb))
    # An exported file through `checkpoint`: its own runtime, its own metadata.
    assert export(['--checkpoint', str(a), '--format', 'onnx', '--out', str(tmp_path / 'a_export')]) == 0
    exported = tmp_path / 'a_export.depth.onnx'
    assert set_params(checkpoint=str(exported), backend='auto').successful
    assert node.model_info['backend'] == 'onnxruntime' and node.model_info['source'] == 'export (onnx)'
    close_to(depth_after(), _eager_depth(a, rgb))
    # A broken export (its motion graph's sidecar missing) is refused; the export in use stays.
    broken = tmp_path / 'broken'
    broken.mkdir()
    shutil.copy(exported, broken / exported.name)
    shutil.copy(f'{exported}.json', broken / f'{exported.name}.json')
    shutil.copy(tmp_path / 'a_export.motion.onnx', broken / 'a_export.motion.onnx')
    res = set_params(checkpoint=str(broken / exported.name))
    assert not res.successful and 'no metadata sidecar a_export.motion.onnx.json' in res.reason
    assert 'still using' in res.reason and node.model_info['checkpoint'] == str(exported)
    close_to(depth_after(), _eager_depth(a, rgb))
    # A backend that cannot run here: eager, with a WARN naming why, and /diagnostics saying so.
    assert set_params(checkpoint=str(b), backend='fp16').successful
    assert node.model_info['backend'] == 'torch' and 'CUDA only' in node.model_info['backend_fallback']
    close_to(depth_after(), _eager_depth(b, rgb))
    h.wait(lambda: any(s.name.endswith('perception') and any(kv.key == 'backend' and 'FALLBACK from fp16' in kv.value
                                                              for kv in s.values)
                       for d in h.got['diag'] for s in d.status), 10, 'the fallback in /diagnostics')
    warn = console.wait('FALLBACK from fp16')  # the console, not /rosout (see conftest.Console)
    assert warn[0].level == 'WARN' and warn[0].msg.startswith('backend: torch (FALLBACK from fp16: ')


@pytest.mark.slow
def test_compile_backend_hot_reloads(tmp_path):
    """torch.compile builds at load (minutes on 2 cores): the Predictor on it, then a hot reload, match eager."""
    a, b = _ckpt(tmp_path / 'a.pt', 1), _ckpt(tmp_path / 'b.pt', 2)
    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    p = Predictor(a, device='cpu', backend='compile')
    assert p.describe()['backend'] == 'compile'
    for ckpt in (a, b):
        p.load(ckpt)
        want = _eager_depth(ckpt, rgb)
        np.testing.assert_allclose(p.predict(rgb).depth_net, want, atol=1e-5 + 1e-3 * np.abs(want).max())
