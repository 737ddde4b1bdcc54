"""The perception node over real DDS: speed-topic scale, ~/points, motion resolution, QoS hints, base_frame TF.

Uses the ``harness`` fixture of ``conftest.py`` (node + player + collector on loopback) and its FakePredictor:
depth = 2 + mean(rgb)/255 m, ego = 0.5 m forward (``t = (0, 0, −0.5)``) and 0.01 rad per frame, motion 0.1 m.
"""
import math
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from geometry_msgs.msg import TwistStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import Image, PointField  # noqa: E402

from selfdepth_ros.image_codec import image_to_numpy  # noqa: E402
from selfdepth_ros.nodes import conversions as cv  # noqa: E402

pytestmark = pytest.mark.ros
DT_NS = 100_000_000  # 10 Hz stamps
K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])  # = conftest.K_TEST


def _status(h, suffix):
    """key → value of the newest /diagnostics status whose name ends with ``suffix``."""
    for d in reversed(h.got['diag']):
        for s in d.status:
            if s.name.endswith(suffix):
                return dict((kv.key, kv.value) for kv in s.values)
    return {}


@pytest.mark.parametrize('speed_type', ['twist', 'odometry'])
def test_speed_topic_scales_odometry_and_depth(harness, fake_predictor_cls, make_frame, speed_type):
    h = harness({'scale_mode': 'speed_topic', 'speed_topic': '/vehicle/speed', 'speed_type': speed_type,
                 'scale_window': 1, 'diagnostics_period': 0.1})
    h.publish_speed('/vehicle/speed', 10.0, TwistStamped if speed_type == 'twist' else Odometry)  # m/s
    ref, frames, t0 = fake_predictor_cls(), [make_frame(48, 64, 3 * i) for i in range(4)], 20_000_000_000
    for i, rgb in enumerate(frames):
        h.send(rgb, t0 + i * DT_NS)
    h.wait(lambda: len(h.got['odom']) >= 4, 10, 'odometry')
    factor = 10.0 * 0.1 / 0.5  # |v|·Δt / |t_ego| = 2
    T = np.eye(4)
    for i, rgb in enumerate(frames):
        pred = ref.predict(rgb, K, t0 + i * DT_NS)
        scale = 1.0 if i == 0 else factor  # the first frame has no ego-motion yet: still relative
        np.testing.assert_allclose(image_to_numpy(h.got['depth'][i]), pred.depth * scale, rtol=1e-6)
        if pred.ego is not None:
            step = np.eye(4)
            step[:3, :3], step[:3, 3] = pred.ego[0].T, -pred.ego[0].T @ (pred.ego[1] * factor)
            T = T @ step
        p = h.got['odom'][i].pose.pose.position
        np.testing.assert_allclose([p.x, p.y, p.z], T[:3, 3], atol=1e-9)
    last = h.got['odom'][3]
    assert last.twist.twist.linear.z == pytest.approx(10.0)  # the speed source's 10 m/s, in the camera frame
    assert last.pose.covariance[0] > 0  # metric: a covariance, not "unknown"
    h.wait(lambda: _status(h, 'scale').get('scale') == 'metric:speed_topic', 10, 'scale diagnostics')
    scale = _status(h, 'scale')
    assert scale['metric'] == 'True' and float(scale['factor']) == pytest.approx(factor)


def test_points_fields_and_size_and_motion_at_input_resolution(harness, fake_predictor_cls, make_frame):
    h = harness({'publish_points': True, 'points_stride': 4, 'motion_resolution': 'input'})
    ref, t0 = fake_predictor_cls(), 30_000_000_000
    frames = [make_frame(48, 64, 3 * i) for i in range(2)]
    for i, rgb in enumerate(frames):
        h.send(rgb, t0 + i * DT_NS)
    h.wait(lambda: len(h.got['points']) >= 2 and len(h.got['motion']) >= 1, 10, 'points and motion')
    preds = [ref.predict(rgb, K, t0 + i * DT_NS) for i, rgb in enumerate(frames)]
    pc = h.got['points'][1]
    assert cv.time_to_ns(pc.header.stamp) == t0 + DT_NS and pc.header.frame_id == 'cam_optical'
    assert [(f.name, f.offset, f.datatype, f.count) for f in pc.fields] == \
        [(n, 4 * i, PointField.FLOAT32, 1) for i, n in enumerate('xyz')]
    n = (48 // 4) * (64 // 4)  # every 4th pixel per row and column; all depths finite
    assert (pc.height, pc.width, pc.point_step, pc.row_step, len(pc.data)) == (1, n, 12, 12 * n, 12 * n)
    pts = np.frombuffer(bytes(pc.data), np.float32).reshape(n, 3)
    v, u = np.mgrid[0:48:4, 0:64:4]
    z = preds[1].depth[::4, ::4]
    want = np.stack([(u - K[0, 2]) / K[0, 0] * z, (v - K[1, 2]) / K[1, 1] * z, z], -1).reshape(n, 3)
    np.testing.assert_allclose(pts, want, rtol=1e-6)
    m = h.got['motion'][0]
    assert (m.height, m.width, m.encoding) == (48, 64, '32FC3')
    np.testing.assert_array_equal(image_to_numpy(m), preds[1].motion)


def test_incompatible_qos_subscriber_gets_a_hint_and_best_effort_input_works(harness, make_frame):
    h = harness()
    warnings = []
    logger = h.node._logger

    class Recorder:  # the node's logger, keeping what it warns
        def warning(self, text, **kw):
            warnings.append(text)
            return logger.warning(text, **kw)

        def __getattr__(self, name):
            return getattr(logger, name)
    h.node._logger = Recorder()
    # A transient-local subscriber asks for more durability than the node's volatile outputs offer: with rclpy
    # and Fast DDS this (like a reliable subscriber on a best-effort publisher) raises an incompatible-QoS
    # event on both ends; the node's end names the topic, the policy and the fix.
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    h.col.create_subscription(Image, '/selfdepth/depth', lambda m: None, latched)
    h.wait(lambda: any('/selfdepth/depth' in w and 'DURABILITY' in w for w in warnings), 10, 'incompatible-QoS hint')
    hint = next(w for w in warnings if 'DURABILITY' in w)
    assert 'volatile' in hint and '--qos-durability volatile' in hint
    # The node's inputs are sensor-data QoS (best effort): a best-effort camera publisher matches too.
    cam = h.player.create_publisher(Image, '/cam/image', qos_profile_sensor_data)
    h.wait(lambda: cam.get_subscription_count() > 0, 10, 'best-effort camera match')
    n = len(h.got['depth'])
    h.info_pub.publish(cv.camera_info_msg(K, 64, 48, 40_000_000_000, 'cam_optical'))
    cam.publish(cv.image_msg(make_frame(48, 64), 'rgb8', 40_000_000_000, 'cam_optical'))
    h.wait(lambda: len(h.got['depth']) > n, 10, 'depth from a best-effort camera')


def test_base_frame_tf_uses_the_camera_mount(harness, fake_predictor_cls, make_frame):
    class Straight(fake_predictor_cls):  # 0.5 m straight ahead per frame, no rotation
        def predict(self, rgb, K=None, stamp_ns=None):
            pred = super().predict(rgb, K, stamp_ns)
            pred.ego = None if pred.ego is None else (np.eye(3), np.array([0.0, 0.0, -0.5]))
            return pred
    mount = [1.0, 0.0, 1.5, -math.pi / 2, 0.0, -math.pi / 2]  # optical frame 1 m ahead, 1.5 m up, z along base x
    h = harness({'base_frame': 'base_link', 'camera_mount': mount, 'odom_frame': 'odom'},
                factory=lambda p: Straight(p['max_time_gap']))
    for i in range(4):
        h.send(make_frame(48, 64, 3 * i), 50_000_000_000 + i * DT_NS)
    h.wait(lambda: len(h.got['tf']) >= 4 and len(h.got['odom']) >= 4, 10, 'TF')
    tfs = [m.transforms[0] for m in h.got['tf']]
    assert all((t.header.frame_id, t.child_frame_id) == ('odom', 'base_link') for t in tfs)
    for i, t in enumerate(tfs[:4]):  # odom = the first base pose; the base drives along its own +x, level
        tr, q = t.transform.translation, t.transform.rotation
        np.testing.assert_allclose([tr.x, tr.y, tr.z, q.x, q.y, q.z, q.w], [0.5 * i, 0, 0, 0, 0, 0, 1], atol=1e-9)
    odom = h.got['odom'][3]
    assert odom.child_frame_id == 'base_link'
    v = odom.twist.twist.linear
    np.testing.assert_allclose([v.x, v.y, v.z], [5.0, 0.0, 0.0], atol=1e-9)  # 0.5 m / 0.1 s along base x


def test_outputs_without_subscribers_are_not_built(harness, make_frame, monkeypatch):
    h = harness()
    built = []
    real = cv.image_msg
    monkeypatch.setattr(cv, 'image_msg', lambda arr, enc, *a: built.append(enc) or real(arr, enc, *a))
    h.col.destroy_subscription(next(s for s in h.col.subscriptions if s.topic_name == '/selfdepth/motion'))
    h.wait(lambda: h.node.motion_pub.get_subscription_count() == 0, 10, 'motion unsubscribed')
    for i in range(3):
        h.send(make_frame(48, 64, 3 * i), 60_000_000_000 + i * DT_NS)
    assert [e for e in built if e.startswith('32F')] == ['32FC1'] * 3  # depth only: no 32FC3 motion for nobody
