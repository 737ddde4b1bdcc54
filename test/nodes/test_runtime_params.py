"""Parameters set at run time do what they say (issue 12): ``diagnostics_period`` restarts the timer,
``odom_translation_noise``/``odom_rotation_noise`` change the covariance model, ``speed_topic``/``speed_type``
move the speed subscription. Real rclpy over DDS (loopback), the ``harness`` of ``conftest.py``."""
import time

import pytest

pytest.importorskip('rclpy')
from geometry_msgs.msg import TwistStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402

pytestmark = pytest.mark.ros


def _set(node, **values):
    res = node.set_parameters([Parameter(k, value=v) for k, v in values.items()])
    assert all(r.successful for r in res), [r.reason for r in res]


def test_diagnostics_period_applies_at_run_time(harness):
    h = harness({'diagnostics_period': 30.0})
    time.sleep(0.5)
    before = len(h.got['diag'])
    _set(h.node, diagnostics_period=0.1)
    assert h.node.diag_timer.timer_period_ns == 100_000_000
    h.wait(lambda: len(h.got['diag']) >= before + 5, 5, 'diagnostics at the new 0.1 s period')


def test_odometry_noise_applies_at_run_time(harness):
    h = harness()
    _set(h.node, odom_translation_noise=0.2, odom_rotation_noise=0.3)
    assert (h.node.odom.translation_noise, h.node.odom.rotation_noise) == (0.2, 0.3)
    import numpy as np
    h.node.odom.reset()
    h.node.odom.step(np.eye(3), np.array([0.0, 0.0, -1.0]), 0.1)  # 1 m step: variance (0.2 * 1 + 1e-3)^2
    pose, _ = h.node.odom.covariance(metric=True)
    assert pose[0, 0] == pytest.approx((0.2 + 1e-3) ** 2)


def test_speed_topic_and_type_move_the_subscription(harness):
    h = harness({'scale_mode': 'speed_topic', 'speed_topic': '/a/speed'})
    pub_a = h.publish_speed('/a/speed', 10.0)

    _set(h.node, speed_topic='/b/speed')
    assert h.node._speed is None  # the old source's speed is forgotten
    assert h.node._speed_sub.topic_name == '/b/speed'
    pub_b = h.player.create_publisher(TwistStamped, '/b/speed', 10)
    h.wait(lambda: pub_b.get_subscription_count() > 0 and pub_a.get_subscription_count() == 0, 10,
           'subscription moved to /b/speed')
    msg = TwistStamped()
    msg.twist.linear.x = 4.0
    pub_b.publish(msg)
    h.wait(lambda: h.node._speed == 4.0, 10, 'speed from /b/speed')

    # speed_type alone (one process holds a topic with one type: /b/speed has our TwistStamped publisher)
    _set(h.node, speed_topic='/c/speed')
    _set(h.node, speed_type='odometry')
    assert h.node._speed is None and h.node._speed_sub.msg_type is Odometry
    pub_o = h.player.create_publisher(Odometry, '/c/speed', 10)
    h.wait(lambda: pub_o.get_subscription_count() > 0, 10, 'Odometry subscription on /b/speed')
    odo = Odometry()
    odo.twist.twist.linear.y = 3.0
    pub_o.publish(odo)
    h.wait(lambda: h.node._speed == 3.0, 10, 'speed from the Odometry source')
