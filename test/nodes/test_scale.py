"""Metric scale: ground-plane fit on analytic depth (pitched camera, occluders) and the speed source."""
import os
from pathlib import Path

import numpy as np
import pytest

from selfdepth_ros.nodes.scale import ScaleEstimator, fit_ground_plane

H, W = 96, 128
K = np.array([[80.0, 0, 63.5], [0, 80.0, 47.5], [0, 0, 1]])


def ground_depth(height_m: float, pitch_rad: float = 0.0, far: float = 1000.0) -> np.ndarray:
    """z-depth of a flat ground ``height_m`` below a camera pitched down by ``pitch_rad`` (sky = ``far``)."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)  # z = 1
    n_up = np.array([0.0, -np.cos(pitch_rad), -np.sin(pitch_rad)])  # ground normal in camera axes (pitch down)
    denom = rays @ n_up
    z = np.where(denom < -1e-6, -height_m / np.minimum(denom, -1e-6), far)  # n·X = -h on the ground
    return np.minimum(z, far).astype(np.float32)


@pytest.mark.parametrize('pitch', [0.0, 0.08])
def test_plane_distance_is_exact_on_analytic_ground(pitch):
    fit = fit_ground_plane(ground_depth(1.6, pitch), K)
    assert fit is not None and fit.distance == pytest.approx(1.6, rel=1e-4)
    assert fit.normal[1] == pytest.approx(-np.cos(pitch), abs=1e-4)


def test_camera_height_scale_recovers_metric_depth_with_occluders():
    depth = ground_depth(1.5, 0.05)
    depth[70:, 20:50] = 4.0  # a box standing on the road: outliers for the plane fit
    est = ScaleEstimator('camera_height', camera_height=1.5, window=3)
    for true_scale in (0.2, 0.2, 0.2):
        st = est.update(depth=depth * true_scale, K=K)
    assert st.metric and st.label == 'metric:camera_height'
    assert st.factor * 0.2 == pytest.approx(1.0, rel=0.01)  # median ratio to ground truth within 1 %


def test_no_ground_keeps_relative_and_says_why():
    st = ScaleEstimator('camera_height').update(depth=np.full((H, W), 5.0, np.float32), K=K)
    assert (st.factor, st.metric, st.label) == (1.0, False, 'relative') and 'ground' in st.detail


def test_speed_scale_and_relative_mode():
    est = ScaleEstimator('speed_topic', window=1)
    st = est.update(translation=np.array([0.0, 0.0, -0.25]), dt_s=0.1, speed_mps=10.0)
    assert st.metric and st.factor == pytest.approx(4.0)  # 1 m per frame / 0.25 network units
    assert not est.update(translation=np.zeros(3), dt_s=0.1, speed_mps=0.0).factor != 4.0
    assert ScaleEstimator('relative').update().label == 'relative'
    with pytest.raises(ValueError, match='scale_mode'):
        ScaleEstimator('magic')


def test_camera_height_scale_on_a_synthetic_drive_ground_truth():
    """GT depth of the synthetic world, scaled by an unknown factor: the fit restores metres (median ratio ≤ 5 %)."""
    from selfdepth_ros.sim import drive as sim
    from selfdepth_ros.sim.config import SimConfig
    cfg = SimConfig(width=128, height=64, frames=6)
    est = ScaleEstimator('camera_height', camera_height=cfg.camera_height, window=5)
    ratios = []
    for frame in sim.iter_frames(cfg):
        st = est.update(depth=frame.depth * 0.37, K=frame.K)
        ratios.append(np.median(frame.depth * 0.37 * st.factor / frame.depth))
    assert st.metric and abs(np.median(ratios[1:]) - 1.0) < 0.05


TRAINED_CHECKPOINT = Path(__file__).resolve().parents[2] / 'selfdepth_ros' / 'data' / 'selfdepth_small.pt'


@pytest.mark.skipif(not TRAINED_CHECKPOINT.exists(),
                    reason=f'PENDING: needs the trained checkpoint {TRAINED_CHECKPOINT} (produced by the lead)')
def test_camera_height_scale_on_a_synthetic_drive_predicted_depth():
    """Predicted (relative) depth of a held-out drive, scaled by the ground-plane fit: median ratio to GT ≤ 25 %.

    Wider than the 5 % of the ground-truth case: the plane is fitted to the network's road, so the error of its
    road geometry adds to the fit's. Measured: shipped model (fine-tuned with real footage) 0.78; the
    synthetic-only model before it 1.128, and 1.027 before that; a seed-1 synthetic run 0.755. The real-frame test
    below is the one that matters: there the shipped model is within 2 %, the synthetic-only one 63 % off.
    Pixels: ground truth below 80 m (the metrics' cap), sky excluded.
    """
    from selfdepth_ros.inference import Predictor
    from selfdepth_ros.sim.config import SimConfig
    from selfdepth_ros.sim.drive import iter_frames
    predictor = Predictor(checkpoint=TRAINED_CHECKPOINT, device='cpu')
    net = predictor.config
    cfg = SimConfig(width=net.width, height=net.height, frames=8, seed=123)  # a drive not used in training
    est = ScaleEstimator('camera_height', camera_height=cfg.camera_height, window=5)
    ratios = []
    for frame in iter_frames(cfg):
        pred = predictor.predict(frame.rgb, frame.K, frame.stamp_ns)
        st = est.update(depth=pred.depth_net, K=pred.K_net)
        valid = (frame.depth < 80.0) & (frame.semantic != 0)
        ratios.append(np.median(pred.depth[valid] * st.factor / frame.depth[valid]))
    print(f"median ratio {np.median(ratios[2:]):.4f}", [round(float(r), 3) for r in ratios])
    assert st.metric and abs(np.median(ratios[2:]) - 1.0) < 0.25, ratios


def test_camera_height_scale_on_real_kitti_frames_against_lidar():
    """The ground-plane scale on real frames: ``kitti_depth_snippet`` (camera 1.65 m above the road), median over
    the 11 frames of the per-frame median ratio to the LiDAR depth, within 15 %. Measured: shipped model 0.982;
    the synthetic-only model it replaced 1.627 (the test fails on it)."""
    import cv2

    from selfdepth_ros.inference import Predictor
    folder = Path(os.environ['SELFDEPTH_REAL_DATA']) / 'kitti_depth_snippet'
    if not folder.is_dir():
        pytest.skip(f'{folder} not found (../shared/data/real beside the checkout)')
    K = np.array([[721.5377, 0, 609.5593], [0, 721.5377, 172.854], [0, 0, 1]])
    predictor = Predictor(checkpoint=TRAINED_CHECKPOINT, device='cpu')
    ratios = []
    for image in sorted((folder / 'image').glob('*.png')):
        rgb = cv2.cvtColor(cv2.imread(str(image)), cv2.COLOR_BGR2RGB)
        lidar = cv2.imread(str(folder / 'depth' / image.name), cv2.IMREAD_UNCHANGED).astype(np.float32) / 256
        predictor.reset()
        pred = predictor.predict(rgb, K)
        st = ScaleEstimator('camera_height', camera_height=1.65, window=1).update(depth=pred.depth_net, K=pred.K_net)
        valid = (lidar > 0) & (lidar < 80)
        if st.metric:
            ratios.append(float(np.median(pred.depth[valid] * st.factor / lidar[valid])))
    print(f'median ratio {np.median(ratios):.3f}', [round(r, 2) for r in ratios])
    assert len(ratios) >= 9 and abs(np.median(ratios) - 1.0) < 0.15, ratios
