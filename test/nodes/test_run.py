"""`selfdepth run` end to end: a subprocess reads config/perception.yaml, applies --remap/--param/--checkpoint
and trailing --ros-args, runs the real Predictor (small, untrained, seeded) and publishes depth equal to an
in-process Predictor's."""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from selfdepth_ros.image_codec import image_to_numpy  # noqa: E402
from selfdepth_ros.nodes import conversions as cv  # noqa: E402

pytestmark = pytest.mark.ros
ROOT = Path(__file__).resolve().parents[2]


def test_selfdepth_run_serves_the_real_predictor(ros_context, spin, make_frame):
    from selfdepth_ros.inference import Predictor
    from selfdepth_ros.models import ModelConfig
    proc = subprocess.Popen(
        [sys.executable, '-m', 'selfdepth_ros.cli', 'run', '--config', str(ROOT / 'config' / 'perception.yaml'),
         '--remap', 'image:=/run_test/image', '--remap', 'camera_info:=/run_test/info', '--checkpoint', '',
         '--param', 'model_preset:=small', '--namespace', 'rt', '--ros-args', '-p', 'device:=cpu'],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    node = rclpy.create_node('run_test_player', context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    got = []
    node.create_subscription(Image, '/rt/selfdepth/depth', got.append, qos)
    img_pub = node.create_publisher(Image, '/run_test/image', qos)
    info_pub = node.create_publisher(CameraInfo, '/run_test/info', qos)
    try:
        assert spin(ex, lambda: img_pub.get_subscription_count() > 0 or proc.poll() is not None, 60.0)
        assert proc.poll() is None, proc.stdout.read()
        rgb = make_frame(64, 192)
        K = np.array([[100.0, 0, 95.5], [0, 100.0, 31.5], [0, 0, 1]])
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:  # resend until the node has matched us too
            info_pub.publish(cv.camera_info_msg(K, 192, 64, 1_000_000_000, 'cam'))
            img_pub.publish(cv.image_msg(rgb, 'rgb8', 1_000_000_000, 'cam'))
            spin(ex, lambda: bool(got), 2.0)
        assert got, 'no depth from selfdepth run'
        ref = Predictor(device='cpu', model_config=ModelConfig.small()).predict(rgb, K, 1_000_000_000)
        np.testing.assert_allclose(image_to_numpy(got[0]), ref.depth, rtol=1e-6)
        assert got[0].header.frame_id == 'cam' and got[0].encoding == '32FC1'
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        ex.shutdown()
        node.destroy_node()
