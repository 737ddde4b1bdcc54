"""Scale made explicit (issue 12): latched ``~/scale`` (std_msgs/String) + ``~/scale/factor`` (std_msgs/Float32),
and an INFO line on the console at start saying the depth is relative. Real rclpy over DDS (loopback)."""

import pytest

pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Float32, String  # noqa: E402

pytestmark = pytest.mark.ros
LATE = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
DT_NS = 100_000_000


def _late_subscriber(h):
    """A subscriber created after the node published: it still gets the current values (latched)."""
    got = {'mode': [], 'factor': []}
    h.col.create_subscription(String, '/selfdepth/scale', got['mode'].append, LATE)
    h.col.create_subscription(Float32, '/selfdepth/scale/factor', got['factor'].append, LATE)
    return got


def test_relative_scale_is_latched_and_said_on_the_console_at_start(harness, console):
    h = harness()
    got = _late_subscriber(h)
    h.wait(lambda: got['mode'] and got['factor'], 10, 'latched scale')
    assert got['mode'][-1].data == 'relative' and got['factor'][-1].data == 1.0
    line = console.wait('RELATIVE')[0]  # printed at start
    assert line.level == 'INFO' and line.name == 'selfdepth' and 'not metres' in line.msg


def test_metric_scale_switches_the_latched_topics(harness, make_frame):
    h = harness({'scale_mode': 'speed_topic', 'speed_topic': '/vehicle/speed', 'scale_window': 1})
    early = _late_subscriber(h)
    h.wait(lambda: early['mode'] and early['factor'], 10, 'both latched topics matched')
    assert (early['mode'][-1].data, early['factor'][-1].data) == ('relative', 1.0)  # until the first estimate
    h.publish_speed('/vehicle/speed', 10.0)
    for i in range(3):
        h.send(make_frame(48, 64, 3 * i), 9_000_000_000 + i * DT_NS)
    h.wait(lambda: early['mode'][-1].data == 'metric:speed_topic' and early['factor'][-1].data == pytest.approx(2.0),
           10, 'metric scale')
    late = _late_subscriber(h)
    h.wait(lambda: late['mode'] and late['factor'], 10, 'latched metric scale')
    assert (late['mode'][-1].data, late['factor'][-1].data) == ('metric:speed_topic', pytest.approx(2.0))
    assert [m.data for m in early['factor']] == [1.0, pytest.approx(2.0)]  # sent on change only
    assert h.node.set_parameters([Parameter('scale_mode', value='relative')])[0].successful
    h.wait(lambda: early['mode'][-1].data == 'relative' and early['factor'][-1].data == 1.0, 10, 'back to relative')
