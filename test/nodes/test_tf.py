"""TF as peers do it (issue 12), real rclpy over DDS (loopback): with ``base_frame`` the camera mount is looked up in
TF (a static broadcaster's ``/tf_static``, transient local, published before the node started) and the node
publishes ``odom → base_frame`` only; the ``camera_mount`` parameter is the fallback, with a WARN; a frame that
already has a parent in TF never gets a second one from this node; ``publish_tf`` switches TF off."""
import math

import numpy as np
import pytest

pytest.importorskip('rclpy')
pytest.importorskip('tf2_msgs.msg')
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from tf2_msgs.msg import TFMessage  # noqa: E402

from selfdepth_ros.nodes import conversions as cv  # noqa: E402
from selfdepth_ros.nodes.odometry import rpy_pose  # noqa: E402

pytestmark = pytest.mark.ros
DT_NS = 100_000_000
STATIC_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
"""tf2_ros StaticTransformBroadcaster's QoS (one latched message holding every static transform)."""
OPTICAL = [-math.pi / 2, 0.0, -math.pi / 2]  # camera_link (x forward, z up) → optical (z forward, x right)


@pytest.fixture
def straight(fake_predictor_cls):
    class Straight(fake_predictor_cls):  # 0.5 m straight ahead per frame, no rotation
        def predict(self, rgb, K=None, stamp_ns=None):
            pred = super().predict(rgb, K, stamp_ns)
            pred.ego = None if pred.ego is None else (np.eye(3), np.array([0.0, 0.0, -0.5]))
            return pred
    return lambda p: Straight(p['max_time_gap'])


@pytest.fixture
def static_tf(ros_context):
    """``static_tf(*(parent, child, xyzrpy))``: a robot_state_publisher stand-in latching them on /tf_static."""
    import rclpy
    nodes = []

    def publish(*edges):
        node = rclpy.create_node(f'static_tf_{len(nodes)}', context=ros_context)
        nodes.append(node)
        pub = node.create_publisher(TFMessage, '/tf_static', STATIC_QOS)
        pub.publish(TFMessage(transforms=[cv.transform_msg(rpy_pose(xyzrpy), 0, parent, child)
                                          for parent, child, xyzrpy in edges]))
        return pub
    yield publish
    for node in nodes:
        node.destroy_node()


def _drive(h, n, t0):
    for i in range(n):
        h.send(h.make_frame(48, 64, 3 * i), t0 + i * DT_NS)


@pytest.fixture
def harness_tf(harness, make_frame):
    def make(params, factory=None):
        h = harness(params, factory=factory)
        h.make_frame = make_frame
        return h
    return make


def test_mount_is_looked_up_in_tf_and_only_odom_to_base_is_published(harness_tf, static_tf, straight, console):
    static_tf(('base_link', 'camera_link', [1.0, 0.0, 1.5, 0.0, 0.0, 0.0]),   # a URDF chain, published at boot
              ('camera_link', 'cam_optical', [0.0, 0.0, 0.0] + OPTICAL))
    h = harness_tf({'base_frame': 'base_link', 'camera_mount': [0.0] * 6}, factory=straight)  # the typed mount is wrong
    h.wait(lambda: h.node.tf.tree.parents('cam_optical'), 10, 'the latched /tf_static')
    _drive(h, 4, 50_000_000_000)
    h.wait(lambda: len(h.got['tf']) >= 4 and len(h.got['odom']) >= 4, 10, 'TF')
    tfs = [t for m in h.got['tf'] for t in m.transforms]
    assert {(t.header.frame_id, t.child_frame_id) for t in tfs} == {('odom', 'base_link')}  # odom → base only
    for i, t in enumerate(tfs[:4]):  # odom = the first base pose; the camera looks along base +x: base drives +x
        tr, q = t.transform.translation, t.transform.rotation
        np.testing.assert_allclose([tr.x, tr.y, tr.z, q.x, q.y, q.z, q.w], [0.5 * i, 0, 0, 0, 0, 0, 1], atol=1e-9)
    odom = h.got['odom'][3]
    assert odom.child_frame_id == 'base_link'
    v = odom.twist.twist.linear
    np.testing.assert_allclose([v.x, v.y, v.z], [5.0, 0.0, 0.0], atol=1e-9)
    assert h.node.tf.mount_source == 'TF'
    assert h.node.tf.status == 'publishing odom → base_link; mount from TF'  # /diagnostics 'tf'
    assert console.wait('camera mount base_link → cam_optical from TF')[0].level == 'INFO'
    assert not console.lines('camera_mount parameter')


def test_without_tf_the_camera_mount_parameter_is_used_and_said(harness_tf, straight, console):
    mount = [1.0, 0.0, 1.5] + OPTICAL
    h = harness_tf({'base_frame': 'base_link', 'camera_mount': mount}, factory=straight)
    _drive(h, 3, 60_000_000_000)
    h.wait(lambda: len(h.got['tf']) >= 3, 10, 'TF')
    tr = h.got['tf'][2].transforms[0].transform.translation
    np.testing.assert_allclose([tr.x, tr.y, tr.z], [1.0, 0, 0], atol=1e-9)  # the parameter's mount
    warns = console.wait('no transform base_link → cam_optical', min_level='WARN')
    assert len(warns) == 1 and 'camera_mount parameter' in warns[0].msg  # throttled: once for three frames
    assert h.node.tf.mount_source == 'the camera_mount parameter'


@pytest.mark.parametrize('topic', ['/tf_static', '/tf'])
def test_a_frame_with_a_parent_in_tf_gets_no_second_one(harness_tf, static_tf, topic, console):
    if topic == '/tf_static':
        static_tf(('base_link', 'cam_optical', [1.0, 0.0, 1.5] + OPTICAL))
    h = harness_tf({})  # no base_frame: the node would publish odom → cam_optical
    if topic == '/tf':  # a moving parent (e.g. a pan unit's driver), on /tf
        pub = h.player.create_publisher(TFMessage, '/tf', 10)
        h.wait(lambda: pub.get_subscription_count() > 0, 10, '/tf match')
        pub.publish(TFMessage(transforms=[cv.transform_msg(rpy_pose([0.0] * 3 + OPTICAL), 1, 'pan_link',
                                                           'cam_optical')]))
    h.wait(lambda: h.node.tf.tree.parents('cam_optical'), 10, f'the parent on {topic}')
    _drive(h, 3, 70_000_000_000)
    h.wait(lambda: len(h.got['odom']) >= 3, 10, 'odometry (unaffected)')
    console.wait('second parent')
    assert not [t for m in h.got['tf'] for t in m.transforms if t.header.frame_id == 'odom']  # nothing from us
    warns = console.lines('second parent')
    parent = 'base_link' if topic == '/tf_static' else 'pan_link'
    assert len(warns) == 1 and warns[0].level == 'WARN'  # once, not per frame
    assert f'cam_optical already has the parent {parent} (on {topic})' in warns[0].msg
    assert f'base_frame:={parent}' in warns[0].msg  # the fix, with the root of that tree
    assert h.node.tf.status == f'no transform published; refused odom → cam_optical: cam_optical already has the ' \
        f'parent {parent} (on {topic})'


def test_base_frame_with_another_parent_is_not_reparented(harness_tf, static_tf, straight, console):
    static_tf(('base_footprint', 'base_link', [0.0, 0.0, 0.1, 0.0, 0.0, 0.0]),
              ('base_link', 'cam_optical', [1.0, 0.0, 1.5] + OPTICAL))
    h = harness_tf({'base_frame': 'base_link'}, factory=straight)
    h.wait(lambda: h.node.tf.tree.parents('base_link'), 10, 'the latched /tf_static')
    _drive(h, 3, 80_000_000_000)
    warns = console.wait('second parent')
    assert not h.got['tf']
    assert 'base_frame:=base_footprint' in warns[0].msg


def test_publish_tf_switches_tf_off(harness_tf, straight):
    h = harness_tf({'publish_tf': False}, factory=straight)
    _drive(h, 3, 90_000_000_000)
    h.wait(lambda: len(h.got['odom']) >= 3, 10, 'odometry')
    assert not h.got['tf']
