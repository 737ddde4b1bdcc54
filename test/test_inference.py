"""Predictor: frame pairing and resets, the motion convention, intrinsics handling, hot reload."""
import numpy as np
import pytest
import torch

from selfdepth_ros.checkpoint import CheckpointError, camera_dict, save_checkpoint
from selfdepth_ros.geometry import euler_to_matrix
from selfdepth_ros.inference import Predictor
from selfdepth_ros.models import DepthNet, ModelConfig, MotionNet

TINY = ModelConfig.small(height=64, width=64, encoder_width=8, decoder_width=4, motion_refine_width=8)
MS = 1_000_000


def _frames(n=3, h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(n)]


def _save(path, cfg=TINY, seed=1, **extra):
    torch.manual_seed(seed)
    save_checkpoint(path, model_config=cfg, depth_net=DepthNet(cfg), motion_net=MotionNet(cfg), **extra)
    return path


def test_first_frame_has_no_ego_motion_second_has():
    p = Predictor(model_config=TINY, device='cpu')
    f = _frames()
    first = p.predict(f[0], None, 0)
    assert first.ego is None and first.motion is None and first.reset_reason == 'first frame'
    assert first.depth.shape == (96, 128) and first.depth_net.shape == (64, 64)
    assert first.depth.dtype == np.float32 and (first.depth > 0).all()
    second = p.predict(f[1], None, 100 * MS)
    assert second.reset_reason is None
    R, t = second.ego
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0) and t.shape == (3,)
    assert second.motion.shape == (96, 128, 3) and second.motion.dtype == np.float32
    assert second.motion_net.shape == (64, 64, 3) and second.latency_ms > 0


def test_motion_net_runs_on_previous_then_current_frame():
    """docs/CONVENTIONS.md: the net on (frame1 = t−1, frame2 = t) gives cam_t ← cam_{t−1}."""
    p = Predictor(model_config=TINY.replace(height=96, width=128), device='cpu')  # no resize: inputs are exact
    f = _frames()
    p.predict(f[0])
    pred = p.predict(f[1])
    x0, x1 = (torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255 for a in f[:2])
    with torch.no_grad():
        d0, d1 = p.depth_net(x0)[0], p.depth_net(x1)[0]
        out = p.motion_net(x0, d0, x1, d1)
    np.testing.assert_allclose(pred.ego[0], euler_to_matrix(out.rotation.double())[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(pred.ego[1], out.translation[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(pred.motion, out.residual[0].permute(1, 2, 0).numpy(), atol=1e-6)
    np.testing.assert_allclose(pred.depth, d1[0, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize('change, reason', [
    (lambda f, k, s: (f[:80, :120].copy(), k, s), 'image size changed 96x128 -> 80x120'),
    (lambda f, k, s: (f, k, s + 900 * MS), 'time gap 0.900 s > max_gap_s 0.5 s'),
    (lambda f, k, s: (f, k, s - 50 * MS), 'stamp did not increase'),
    (lambda f, k, s: (f, k * np.array([[1.1, 1, 1], [1, 1.1, 1], [1, 1, 1]]), s), 'intrinsics changed'),
])
def test_pair_resets(change, reason):
    p = Predictor(model_config=TINY, device='cpu', max_gap_s=0.5)
    f = _frames()
    K = np.array([[100.0, 0, 63.5], [0, 100, 47.5], [0, 0, 1]])
    p.predict(f[0], K, 0)
    assert p.predict(f[1], K, 100 * MS).ego is not None
    frame, k, stamp = change(f[2], K, 100 * MS)
    pred = p.predict(frame, k, stamp)
    assert pred.ego is None and pred.motion is None and pred.reset_reason.startswith(reason)
    assert p.predict(frame, k, stamp + 100 * MS).ego is not None  # the next frame pairs again


def test_explicit_reset():
    p = Predictor(model_config=TINY, device='cpu')
    f = _frames()
    p.predict(f[0])
    p.reset('odometry reset by user')
    pred = p.predict(f[1])
    assert pred.ego is None and pred.reset_reason == 'odometry reset by user'


def test_intrinsics_scaled_to_the_net_and_their_sources(tmp_path):
    f = _frames(h=128, w=128)
    K = np.array([[120.0, 0, 60.0], [0, 110, 70.0], [0, 0, 1]])
    p = Predictor(model_config=TINY, device='cpu')
    pred = p.predict(f[0], K)
    # Resize by 1/2: fx' = fx/2, cx' = (cx + 0.5)/2 − 0.5.
    np.testing.assert_allclose(pred.K_net, [[60, 0, 29.75], [0, 55, 34.75], [0, 0, 1]])
    assert pred.K_source == 'given'
    assert Predictor(model_config=TINY, device='cpu').predict(f[0]).K_source == 'nominal'
    cam = camera_dict([[240.0, 0, 120.5], [0, 220, 140.5], [0, 0, 1]], 256, 256)
    ck = Predictor(_save(tmp_path / 'cam.pt', camera=cam), device='cpu').predict(f[0])
    assert ck.K_source == 'checkpoint'
    np.testing.assert_allclose(ck.K, K)  # the 256×256 camera scaled to the 128×128 input
    learned = Predictor(model_config=TINY.replace(learn_intrinsics=True), device='cpu')
    learned.predict(f[0])
    assert learned.predict(f[1]).K_source == 'learned'


def test_hot_reload_changes_outputs_and_failed_reload_keeps_the_model(tmp_path):
    f = _frames()
    p = Predictor(model_config=TINY, device='cpu')
    before = p.predict(f[0]).depth
    p.load(_save(tmp_path / 'new.pt', seed=5, step=7))
    pred = p.predict(f[0])
    assert pred.reset_reason == 'checkpoint loaded: new.pt' and p.step == 7
    assert not np.allclose(pred.depth, before)
    with pytest.raises(FileNotFoundError):
        p.load(tmp_path / 'missing.pt')
    np.testing.assert_array_equal(p.predict(f[0]).depth, pred.depth)


def test_untrained_default_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = Predictor(model_config=TINY, device='cpu').predict(_frames()[0]).depth
    assert torch.equal(torch.get_rng_state(), state)
    b = Predictor(model_config=TINY, device='cpu').predict(_frames()[0]).depth
    np.testing.assert_array_equal(a, b)


def test_model_without_motion_field_gives_ego_but_no_field():
    p = Predictor(model_config=TINY.replace(use_motion_field=False), device='cpu')
    f = _frames()
    p.predict(f[0])
    pred = p.predict(f[1])
    assert pred.ego is not None and pred.motion is None


def test_checkpoint_with_a_different_architecture_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match='encoder_width'):
        Predictor(_save(tmp_path / 'a.pt'), model_config=TINY.replace(encoder_width=16), device='cpu')


def test_bad_inputs_are_named():
    p = Predictor(model_config=TINY, device='cpu')
    with pytest.raises(ValueError, match=r'rgb must be an H×W×3 uint8 numpy array.*dtype float32'):
        p.predict(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError, match=r'rgb must be an H×W×3 uint8'):
        p.predict(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match='K must be a finite 3×3 intrinsics matrix'):
        p.predict(np.zeros((64, 64, 3), np.uint8), np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match='max_gap_s must be > 0'):
        Predictor(model_config=TINY, max_gap_s=0)
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda"):
        Predictor(model_config=TINY, device='tpu')


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error without CUDA')
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match='CUDA is not available'):
        Predictor(model_config=TINY, device='cuda')
    assert Predictor(model_config=TINY, device='auto').device.type == 'cpu'


# -- hot reload that means what it says (issue 12) -----------------------------------------------------------------
def _nan_checkpoint(path, cfg=TINY):
    torch.manual_seed(3)
    depth_net = DepthNet(cfg)
    with torch.no_grad():
        depth_net.state_dict()['encoder.bn1.weight'][0] = float('nan')
    save_checkpoint(path, model_config=cfg, depth_net=depth_net, motion_net=MotionNet(cfg))
    return path


def test_a_nan_checkpoint_is_refused_and_the_old_weights_stay(tmp_path):
    f = _frames()
    p = Predictor(_save(tmp_path / 'good.pt', step=4), device='cpu')
    before = p.predict(f[0]).depth
    with pytest.raises(CheckpointError, match=r'depth_net\.encoder\.bn1\.weight has 1 non-finite value'):
        p.load(_nan_checkpoint(tmp_path / 'nan.pt'))
    assert p.step == 4 and p.checkpoint_path.name == 'good.pt'
    np.testing.assert_array_equal(p.predict(f[0]).depth, before)


def test_reload_takes_the_checkpoints_architecture_and_settings(tmp_path):
    other = TINY.replace(height=96, width=128, encoder_width=16, min_depth=0.5)
    p = Predictor(model_config=TINY, device='cpu')  # an untrained preset of another size
    p.load(_save(tmp_path / 'other.pt', cfg=other, step=9))
    assert p.config == other and p.config.min_depth == 0.5 and p.step == 9
    assert p.describe()['net_size'] == '96x128' and p.describe()['min_depth'] == 0.5
    assert p.predict(_frames()[0]).depth_net.shape == (96, 128)


def test_input_size_replaces_the_checkpoints_and_none_loads_the_untrained_network(tmp_path):
    path = _save(tmp_path / 'a.pt', cfg=TINY.replace(min_depth=0.3))
    p = Predictor(path, device='cpu', input_size=(96, 0), untrained_config=TINY.replace(encoder_width=16))
    assert (p.config.height, p.config.width, p.config.min_depth) == (96, 64, 0.3)
    p.load(None)
    assert p.checkpoint_path is None and p.config.encoder_width == 16 and p.config.height == 96
    assert p.describe()['checkpoint'] == 'untrained'
    assert p.predict(_frames()[0]).reset_reason == 'untrained network loaded'


def test_frame_interval_comes_from_the_training_config(tmp_path):
    assert Predictor(_save(tmp_path / 'a.pt'), device='cpu').frame_interval_s is None
    p = Predictor(_save(tmp_path / 'b.pt', train_config={'frame_interval_s': 0.1}), device='cpu')
    assert p.frame_interval_s == 0.1
