"""``~/reset`` (std_srvs/Trigger) puts odometry back to identity (issue 12). Real rclpy over DDS (loopback): a client
on another node calls the service between frames of a drive."""
import numpy as np
import pytest

pytest.importorskip('rclpy')
from std_srvs.srv import Trigger  # noqa: E402

pytestmark = pytest.mark.ros
DT_NS = 100_000_000


def _position(odom):
    p = odom.pose.pose.position
    return np.array([p.x, p.y, p.z])


def test_reset_puts_odometry_back_to_identity(harness, make_frame):
    h = harness()
    client = h.col.create_client(Trigger, '/selfdepth/reset')
    assert client.wait_for_service(timeout_sec=10)
    t = 40_000_000_000
    for i in range(4):
        h.send(make_frame(48, 64, 3 * i), t + i * DT_NS)
    h.wait(lambda: len(h.got['odom']) >= 4, 10, 'odometry')
    one_step = _position(h.got['odom'][1])
    assert np.linalg.norm(_position(h.got['odom'][3])) > 1.4  # three 0.5 m steps away from the origin
    future = client.call_async(Trigger.Request())
    h.wait(future.done, 10, 'the reset response')
    res = future.result()
    assert res.success and 'odometry reset' in res.message and 'odom' in res.message
    for i in range(4, 6):
        h.send(make_frame(48, 64, 3 * i), t + i * DT_NS)
    h.wait(lambda: len(h.got['odom']) >= 6, 10, 'odometry after the reset')
    after = h.got['odom'][4]
    np.testing.assert_allclose(_position(after), 0, atol=1e-12)   # identity: a new pair starts here
    q = after.pose.pose.orientation
    np.testing.assert_allclose([q.x, q.y, q.z, q.w], [0, 0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(_position(h.got['odom'][5]), one_step, atol=1e-12)  # then one step from it
    assert h.node.odom.steps == 1
