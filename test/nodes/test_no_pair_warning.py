"""No Image/CameraInfo pair for `no_pair_warn` seconds: a throttled WARN on the console (the node's logger), naming both topics and what did arrive, not only a status in /diagnostics."""
import time

import pytest

pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402

from selfdepth_ros.nodes import conversions as cv  # noqa: E402

pytestmark = pytest.mark.ros


def test_no_pair_warns_on_the_console_naming_both_topics(harness, make_frame, capfd):
    """Read on the console (stderr) itself. /rosout is not used: in one process, a node whose name an earlier,
    destroyed node had (every harness node is 'selfdepth') may have no rosout publisher left (rcl keys them by
    logger name), so /rosout missed the warning in about one full-suite run in three."""
    h = harness(params={'no_pair_warn': 3600.0, 'diagnostics_period': 0.05})
    h.img_pub.publish(cv.image_msg(make_frame(48, 64), 'rgb8', 1_000_000_000, 'cam_optical'))  # never its CameraInfo
    h.wait(lambda: h.node.pairer.received == 1, 5, 'the image')
    capfd.readouterr()  # what came before
    assert h.node.set_parameters([Parameter('no_pair_warn', value=0.2)])[0].successful
    err = []

    def no_pair_warnings():
        err.append(capfd.readouterr().err)
        return [line for line in ''.join(err).splitlines() if 'no Image/CameraInfo pair' in line]
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not no_pair_warnings():
        time.sleep(0.05)
    time.sleep(0.5)  # ten more diagnostics periods: the warning is throttled, not repeated each period
    warns = no_pair_warnings()
    assert len(warns) == 1, ''.join(err)
    assert '[WARN]' in warns[0] and '[selfdepth]' in warns[0]
    assert '/cam/image' in warns[0] and '/cam/info' in warns[0]
    assert 'received 1 images, 0 CameraInfo' in warns[0]
    statuses = [s for a in h.got['diag'] for s in a.status if s.name.endswith('perception')]
    assert statuses[-1].level == cv.DIAG_LEVELS['WARN']  # and still WARN in /diagnostics
