"""Inference backends (issue 15): eager, TorchScript and ONNX Runtime give the eager outputs within the stated
tolerance, through the engine and through the Predictor; auto picks a passing backend; an unavailable backend or
one that fails parity falls back to eager and says why. Small nets only; no wall-clock assertion."""
import numpy as np
import pytest
import torch

from selfdepth_ros import parity
from selfdepth_ros.checkpoint import build_models
from selfdepth_ros.engine import prepare
from selfdepth_ros.graphs import output_names, probe_inputs
from selfdepth_ros.inference import Predictor
from selfdepth_ros.models import ModelConfig

TINY = ModelConfig.small(height=64, width=96, encoder_width=8, decoder_width=4, motion_refine_width=8,
                         learn_intrinsics=True)  # every output head
CPU = torch.device('cpu')
CI_BACKENDS = ('torch', 'torchscript', 'onnxruntime')


@pytest.fixture(scope='module')
def nets():
    torch.manual_seed(0)
    return build_models(TINY, device=CPU)


def _frames(n=3, h=80, w=120):
    base = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, 3 * i, axis=1) for i in range(n)]


@pytest.mark.parametrize('backend', CI_BACKENDS)
def test_engine_parity_on_fresh_inputs(nets, backend):
    """Each CI backend against eager on inputs it was not built or checked on (another batch size too)."""
    depth_net, motion_net = nets
    engine = prepare(backend, depth_net, motion_net, CPU)
    assert engine.backend == backend and engine.report['fallback'] is None
    if backend != 'torch':
        assert engine.report['parity'][backend]['ok']
    gen = torch.Generator().manual_seed(5)
    rgb = torch.rand(2, 3, TINY.height, TINY.width, generator=gen)
    rgb2 = (rgb + 0.05 * torch.randn(rgb.shape, generator=gen)).clamp(0, 1)
    with torch.inference_mode():
        d1, d2 = depth_net(rgb)[0], depth_net(rgb2)[0]
        eager = [d1, *(t for t in motion_net(rgb, d1, rgb2, d2) if t is not None)]
        got = [*engine.depth(rgb), *engine.motion(rgb, d1, rgb2, d2)]
    check = parity.compare(['depth', *output_names('motion', TINY)], eager, got, parity.TOLERANCES[backend])
    assert check['ok'], parity.summary(check)


@pytest.mark.parametrize('backend', CI_BACKENDS[1:])
def test_predictor_outputs_match_eager(backend):
    ref, other = Predictor(model_config=TINY, device='cpu'), Predictor(model_config=TINY, device='cpu',
                                                                      backend=backend)
    assert other.describe()['backend'] == backend and ref.describe()['backend'] == 'torch'
    for i, rgb in enumerate(_frames()):
        a, b = ref.predict(rgb, None, i * 100_000_000), other.predict(rgb, None, i * 100_000_000)
        np.testing.assert_allclose(b.depth, a.depth, atol=1e-5 + 1e-3 * np.abs(a.depth).max())
        if i:
            np.testing.assert_allclose(b.ego[1], a.ego[1], atol=1e-5 + 1e-3 * np.abs(a.ego[1]).max())
            np.testing.assert_allclose(b.ego[0], a.ego[0], atol=1e-5)
            np.testing.assert_allclose(b.motion, a.motion, atol=1e-5 + 1e-3 * np.abs(a.motion).max())
            assert b.K_source == a.K_source == 'learned'
            np.testing.assert_allclose(b.K, a.K, rtol=1e-3)


def test_auto_measures_and_picks_a_backend_that_passed(nets):
    engine = prepare('auto', *nets, CPU)
    timings = engine.report['timings_ms']
    assert set(timings) == set(CI_BACKENDS)  # compile is never built by auto
    assert engine.backend == min(timings, key=timings.get)
    assert all(engine.report['parity'][b]['ok'] for b in CI_BACKENDS[1:])
    assert engine.describe().startswith(f'{engine.backend} (auto: fastest of ')


@pytest.mark.parametrize('backend', ['fp16', 'tensorrt'])
def test_cuda_backends_fall_back_to_eager_on_the_cpu_with_the_reason(nets, backend):
    engine = prepare(backend, *nets, CPU)
    assert engine.backend == 'torch'
    assert 'CUDA' in engine.report['fallback']
    assert engine.describe().startswith(f'torch (FALLBACK from {backend}: ')


def test_failing_parity_falls_back_to_eager(nets, monkeypatch):
    monkeypatch.setitem(parity.TOLERANCES, 'onnxruntime', parity.Tolerance(atol=-1.0, rtol=0.0))  # nothing passes
    engine = prepare('onnxruntime', *nets, CPU)
    assert engine.backend == 'torch' and engine.report['fallback'].startswith('parity FAILED (max |diff| depth/depth')
    rgb = probe_inputs('depth', TINY)['rgb']
    with torch.inference_mode():
        torch.testing.assert_close(engine.depth(rgb)[0], nets[0](rgb)[0], rtol=0, atol=0)  # eager, exactly
    auto = prepare('auto', *nets, CPU)
    assert auto.backend != 'onnxruntime' and 'onnxruntime' in auto.report['refused']


def test_an_unknown_backend_is_one_clear_error(nets):
    with pytest.raises(ValueError, match="backend must be one of auto, torch, .*, got 'tensorflow'"):
        prepare('tensorflow', *nets, CPU)


def test_probe_is_deterministic_and_textured():
    a, b = probe_inputs('motion', TINY), probe_inputs('motion', TINY)
    assert all(torch.equal(a[k], b[k]) for k in a) and list(a) == ['rgb1', 'depth1', 'rgb2', 'depth2']
    assert 0.0 < float(a['rgb1'].min()) and float(a['rgb1'].max()) < 1.0 and float(a['rgb1'].std()) > 0.1
    assert not torch.equal(a['rgb1'], a['rgb2'])
