"""Fixtures of the eval tests: a small synthetic FrameRecord stream with exact, relative-scale predictions."""
import numpy as np
import pytest

from selfdepth_ros.eval.evaluate import FrameRecord

H, W = 24, 40


def _records(n=8, depth_scale=0.2, pose_scale=0.5):
    out = []
    v, u = np.mgrid[0:H, 0:W]
    for t in range(n):
        gt = (5.0 + 0.5 * u + 0.1 * t).astype(np.float32)
        gt[:3] = np.inf                                   # "sky" beyond the cap: ignored
        mask = np.zeros((H, W), np.uint8)
        mask[10:16, 5 + t:15 + t] = 255
        gt_motion = np.zeros((H, W, 3), np.float32)
        gt_motion[mask > 0] = [0.0, 0.0, 0.6]
        pose = np.eye(4)
        pose[:3, 3] = [np.sin(0.3 * t), 0.0, t]
        est_pose = pose.copy()
        est_pose[:3, 3] *= pose_scale
        out.append(FrameRecord(stamp_ns=t * 100_000_000, pred_depth=gt * depth_scale, gt_depth=gt,
                               moving_mask=mask, pred_motion=gt_motion * depth_scale, gt_motion=gt_motion,
                               pred_pose=est_pose, gt_pose=pose, latency_ms=10.0 + t,
                               rgb=np.zeros((H, W, 3), np.uint8)))
    return out



@pytest.fixture(scope='session')
def make_records():
    """``make_records(n=8, depth_scale=0.2, pose_scale=0.5)``: predictions = GT × scale (depth, motion, poses)."""
    return _records


GT_SIZE = (48, 32)  # width, height of the GT bag frames
GT_FRAMES = 8
PRED_DELAY_NS = 30_000_000


def _gt_pose(t):
    pose = np.eye(4)
    pose[:3, 3] = [np.sin(0.4 * t), 0.0, 1.0 * t]
    return pose


def _mask():
    w, h = GT_SIZE
    mask = np.zeros((h, w), np.uint8)
    mask[:, : w // 4] = 255
    return mask


def _motion(value):
    w, h = GT_SIZE
    field = np.zeros((h, w, 3), np.float32)
    field[_mask() > 0] = [0.0, 0.0, value]
    return field


@pytest.fixture(scope='session')
def gt_bag(tmp_path_factory):
    """A GT bag (docs/CONVENTIONS.md topics): depth t+1 m, curved path, motion[t] = (0, 0, t+1) on the mask."""
    from selfdepth_ros.bag.writer import BagWriter
    w, h = GT_SIZE
    path = tmp_path_factory.mktemp('gt') / 'gt_bag'
    rng = np.random.default_rng(0)
    K = np.array([[40.0, 0, 23.5], [0, 40.0, 15.5], [0, 0, 1]])
    with BagWriter(path) as bag:
        for t in range(GT_FRAMES):
            stamp, fid = 1_000_000_000 + 100_000_000 * t, 'camera_optical_frame'
            bag.write_image('/camera/image_raw', rng.integers(0, 255, (h, w, 3), dtype=np.uint8), 'rgb8', stamp, fid)
            bag.write_camera_info('/camera/camera_info', K, w, h, stamp, fid)
            bag.write_image('/gt/depth', np.full((h, w), t + 1.0, np.float32), '32FC1', stamp, fid)
            bag.write_odometry('/gt/odom', _gt_pose(t), stamp, 'odom', fid)
            bag.write_image('/gt/motion', _motion(t + 1.0), '32FC3', stamp, fid)
            bag.write_image('/gt/moving_mask', _mask(), 'mono8', stamp, fid)
    return path


@pytest.fixture(scope='session')
def pred_bag(tmp_path_factory):
    """The node's recorded outputs for ``gt_bag``: exact depth, poses at half scale, motion of the pair
    (t−1 → t) = GT motion of t−1, received 30 ms after the stamp; frame 3 dropped."""
    from selfdepth_ros.bag import messages as m
    from selfdepth_ros.bag.writer import BagWriter
    w, h = GT_SIZE
    path = tmp_path_factory.mktemp('pred') / 'pred_bag'
    with BagWriter(path) as bag:
        for t in range(GT_FRAMES):
            if t == 3:
                continue
            stamp, fid = 1_000_000_000 + 100_000_000 * t, 'camera_optical_frame'
            log = stamp + PRED_DELAY_NS
            bag.write('/selfdepth/depth', m.IMAGE, m.image_msg(np.full((h, w), t + 1.0, np.float32), '32FC1',
                                                               stamp, fid), log)
            pose = _gt_pose(t)
            pose[:3, 3] *= 0.5
            bag.write('/selfdepth/odom', m.ODOMETRY, m.odometry_msg(pose, stamp, 'odom', fid), log)
            if t > 0:
                bag.write('/selfdepth/motion', m.IMAGE, m.image_msg(_motion(float(t)), '32FC3', stamp, fid), log)
    return path


class FakePredictor:
    """Stands in for ``selfdepth_ros.inference.Predictor``: exact depth t+1, exact ego-motion at 1/3 scale and
    the motion field of the pair (t−1 → t), i.e. the GT field stored with frame t−1."""

    def __init__(self):
        self.t = 0

    def predict(self, rgb, K, stamp_ns):
        from types import SimpleNamespace
        t, self.t = self.t, self.t + 1
        h, w = rgb.shape[:2]
        ego = None
        if t > 0:
            rel = np.linalg.inv(_gt_pose(t)) @ _gt_pose(t - 1)
            ego = (rel[:3, :3], rel[:3, 3] / 3.0)
        return SimpleNamespace(depth=np.full((h, w), t + 1.0, np.float32), ego=ego,
                               motion=_motion(float(t)) if t > 0 else None, latency_ms=5.0)


@pytest.fixture
def fake_predictor():
    return FakePredictor()


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    """A real, untrained checkpoint at 64×96 with 8-wide nets (fast on one CPU thread)."""
    from selfdepth_ros.checkpoint import build_models, save_checkpoint
    from selfdepth_ros.models import ModelConfig
    cfg = ModelConfig(height=64, width=96, encoder_width=8, decoder_width=8, motion_refine_width=8)
    depth_net, motion_net = build_models(cfg)
    return save_checkpoint(tmp_path_factory.mktemp('ckpt') / 'tiny.pt', model_config=cfg, depth_net=depth_net,
                           motion_net=motion_net)
