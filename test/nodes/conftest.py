"""Fixtures for the node tests: a deterministic stand-in for the Predictor, a textured frame maker and the DDS
``harness`` (perception node + player + collector on loopback)."""
import math
import threading
import time

import numpy as np
import pytest


class FakePredictor:
    """Same interface as ``selfdepth_ros.inference.Predictor``, numpy-only and deterministic (tests only).

    depth = 2 + mean(rgb)/255 m per pixel; ego = camera forward 0.5 m per frame and 0.01 rad yaw;
    motion = a constant 0.1 m field; the pair resets on the first frame, a size change or a time gap.
    """

    frame_interval_s = None  # the training frame interval a checkpoint may state (None: unknown)

    def __init__(self, max_gap_s: float = 0.5):
        self.max_gap_s, self._prev, self.loaded, self._reason = max_gap_s, None, None, None

    def describe(self):
        return {'checkpoint': self.loaded or 'fake', 'device': 'cpu', 'net_size': 'half'}

    def load(self, checkpoint):
        if checkpoint is None:  # checkpoint: '' -> an untrained network
            self.loaded, self._prev, self._reason = 'untrained', None, 'untrained network loaded'
            return
        if not str(checkpoint).endswith('.pt'):
            raise FileNotFoundError(f'{checkpoint} is not a checkpoint')
        self.loaded, self._prev, self._reason = str(checkpoint), None, 'checkpoint loaded'

    def reset(self, reason='reset requested'):
        self._prev, self._reason = None, reason

    def predict(self, rgb, K=None, stamp_ns=None):
        from types import SimpleNamespace
        h, w = rgb.shape[:2]
        depth = (2.0 + rgb.astype(np.float32).mean(axis=2) / 255.0).astype(np.float32)
        if K is None:
            f = 0.5 * w / math.tan(math.radians(30))
            K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
        K_net = K.copy()
        K_net[:2] *= 0.5
        reason = (self._reason or 'first frame') if self._prev is None else None
        self._reason = None
        if self._prev is not None and self._prev[0] != (h, w):
            reason = 'image size changed'
        elif self._prev is not None and stamp_ns is not None and (stamp_ns - self._prev[1]) * 1e-9 > self.max_gap_s:
            reason = 'time gap'
        ego = motion = None
        if reason is None:
            c, s = math.cos(0.01), math.sin(0.01)
            ego = (np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]), np.array([0.0, 0.0, -0.5]))
            motion = np.full((h, w, 3), 0.1, np.float32)
        self._prev = ((h, w), stamp_ns)
        return SimpleNamespace(depth=depth, depth_net=depth[::2, ::2].copy(), K=K, K_net=K_net, K_source='given',
                               ego=ego, motion=motion, motion_net=None if motion is None else motion[::2, ::2],
                               latency_ms=1.0, reset_reason=reason, stamp_ns=stamp_ns)


@pytest.fixture
def fake_predictor_cls():
    return FakePredictor


def textured_frame(h: int, w: int, shift: int = 0) -> np.ndarray:
    """``h×w×3`` uint8 RGB: a checkerboard-and-gradient texture, shifted ``shift`` pixels to the left."""
    v, u = np.mgrid[0:h, 0:w]
    u = u + shift
    checker = (((u // 8) + (v // 8)) % 2) * 120
    return np.stack([checker + (u * 2) % 100, checker + v % 90, (u + v) % 255], axis=2).astype(np.uint8)


@pytest.fixture
def make_frame():
    return textured_frame


# -- the DDS harness -----------------------------------------------------------------------------------------
try:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from nav_msgs.msg import Odometry
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
    from tf2_msgs.msg import TFMessage

    from selfdepth_ros.image_codec import encode_compressed
    from selfdepth_ros.nodes import conversions as cv
    from selfdepth_ros.nodes.perception_node import PerceptionNode, make_executor
except ImportError:  # the harness fixture skips; the numpy-only fixtures above still work
    rclpy = None
else:
    QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    OUTPUT_TOPICS = {'depth': (Image, '/selfdepth/depth'), 'info': (CameraInfo, '/selfdepth/depth/camera_info'),
                     'depth_image': (Image, '/selfdepth/depth/image'),
                     'motion_visual': (Image, '/selfdepth/motion/visual'),
                     'motion_info': (CameraInfo, '/selfdepth/motion/camera_info'),
                     'odom': (Odometry, '/selfdepth/odom'), 'motion': (Image, '/selfdepth/motion'),
                     'points': (PointCloud2, '/selfdepth/points'), 'tf': (TFMessage, '/tf'),
                     'diag': (DiagnosticArray, '/diagnostics')}
K_TEST = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])  # intrinsics of the 48×64 test frames


class Harness:
    """Perception node + a player node + a collector node, spun in one thread by the executor ``spin`` uses.

    ``got[key]`` collects the messages of each output topic (``OUTPUT_TOPICS``); ``player`` may create more
    publishers (speed source) and ``col`` more subscriptions.
    """

    def __init__(self, ctx, predictor_factory, params=(), compressed=False):
        overrides = [Parameter(k, value=v) for k, v in dict(params).items()]
        self.node = PerceptionNode(context=ctx, predictor_factory=predictor_factory, parameter_overrides=overrides,
                                   cli_args=['--ros-args', '-r', 'image:=/cam/image', '-r', 'camera_info:=/cam/info'])
        self.player = rclpy.create_node('player', context=ctx)
        self.img_pub = self.player.create_publisher(CompressedImage if compressed else Image, '/cam/image', QOS)
        self.info_pub = self.player.create_publisher(CameraInfo, '/cam/info', QOS)
        self.col = rclpy.create_node('collector', context=ctx)
        self.got = {k: [] for k in OUTPUT_TOPICS}
        for key, (typ, topic) in OUTPUT_TOPICS.items():
            self.col.create_subscription(typ, topic, self.got[key].append, QOS)
        self.ex = make_executor(context=ctx)
        for n in (self.node, self.player, self.col):
            self.ex.add_node(n)
        self.thread = threading.Thread(target=self.ex.spin, daemon=True)
        self.thread.start()
        self.wait(lambda: self.img_pub.get_subscription_count() > 0 and self.info_pub.get_subscription_count() > 0
                  and all(p.get_subscription_count() > 0 for p in (self.node.depth_pub, self.node.motion_pub,
                                                                    self.node.odom_pub, self.node.points_pub)),
                  10, 'discovery')

    def wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < deadline, f'timed out waiting for {what}'
            time.sleep(0.01)

    def send(self, rgb, stamp_ns, info=True, encoding='rgb8', K_info=K_TEST, expect=True):
        """Publish one frame (and its CameraInfo); wait for its depth when ``expect``."""
        n = len(self.got['depth'])
        if info:
            self.info_pub.publish(cv.camera_info_msg(K_info, rgb.shape[1], rgb.shape[0], stamp_ns, 'cam_optical'))
        if isinstance(self.img_pub.msg_type(), CompressedImage):
            msg = CompressedImage(header=cv.header(stamp_ns, 'cam_optical'), format='png',
                                  data=encode_compressed(rgb, 'png'))
        else:
            msg = cv.image_msg(rgb if encoding == 'rgb8' else rgb[:, :, ::-1].copy(), encoding, stamp_ns,
                               'cam_optical')
        self.img_pub.publish(msg)
        if expect:
            self.wait(lambda: len(self.got['depth']) > n, 10, f'depth of frame {stamp_ns}')

    def close(self):
        self.ex.shutdown()
        self.thread.join(timeout=5)
        for n in (self.node, self.player, self.col):
            n.destroy_node()


@pytest.fixture
def harness(ros_context, fake_predictor_cls):
    """``harness(params=(), compressed=False, factory=None) -> Harness``; all are closed after the test."""
    if rclpy is None:
        pytest.skip('rclpy (or the generated tf2_msgs) is not importable')
    made = []

    def make(params=(), compressed=False, factory=None):
        factory = factory or (lambda p: fake_predictor_cls(p['max_time_gap']))
        made.append(Harness(ros_context, factory, params, compressed))
        return made[-1]
    yield make
    for h in made:
        h.close()
