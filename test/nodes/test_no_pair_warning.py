"""No Image/CameraInfo pair for `no_pair_warn` seconds: a throttled WARN on the console (the node's logger), naming both topics and what did arrive, not only a status in /diagnostics."""
import time

import pytest

pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402

from selfdepth_ros.nodes import conversions as cv  # noqa: E402

pytestmark = pytest.mark.ros


def test_no_pair_warns_on_the_console_naming_both_topics(harness, make_frame, console):
    h = harness(params={'no_pair_warn': 3600.0, 'diagnostics_period': 0.05})
    h.img_pub.publish(cv.image_msg(make_frame(48, 64), 'rgb8', 1_000_000_000, 'cam_optical'))  # never its CameraInfo
    h.wait(lambda: h.node.pairer.received == 1, 5, 'the image')
    console.forget()  # what came before
    assert h.node.set_parameters([Parameter('no_pair_warn', value=0.2)])[0].successful
    console.wait('no Image/CameraInfo pair', 5.0)
    time.sleep(0.5)  # ten more diagnostics periods: the warning is throttled, not repeated each period
    warns = console.lines('no Image/CameraInfo pair')
    assert len(warns) == 1, warns
    assert (warns[0].level, warns[0].name) == ('WARN', 'selfdepth')
    assert '/cam/image' in warns[0].msg and '/cam/info' in warns[0].msg
    assert 'received 1 images, 0 CameraInfo' in warns[0].msg
    statuses = [s for a in h.got['diag'] for s in a.status if s.name.endswith('perception')]
    assert statuses[-1].level == cv.DIAG_LEVELS['WARN']  # and still WARN in /diagnostics
