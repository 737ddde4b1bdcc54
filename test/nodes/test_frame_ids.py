"""The outputs' frame id when ``camera_frame`` is empty (issue 12): the input image's header.frame_id when it is a
tf2 frame id, a leading '/' dropped, else 'camera_optical_frame' with a WARN that names the bad id; over real DDS."""
import pytest

from selfdepth_ros.nodes.params import DEFAULT_CAMERA_FRAME, output_frame

T0 = 1_000_000_000


@pytest.mark.parametrize('incoming, expected, warned', [
    ('cam_optical', 'cam_optical', False),
    ('robot1/cam_optical', 'robot1/cam_optical', False),
    ('/cam_optical', 'cam_optical', True),
    ('my cam', DEFAULT_CAMERA_FRAME, True),
    ('/', DEFAULT_CAMERA_FRAME, True),
    ('', DEFAULT_CAMERA_FRAME, True),
])
def test_output_frame_rule(incoming, expected, warned):
    frame, problem = output_frame(incoming)
    assert frame == expected and (problem is not None) == warned
    if problem:
        assert repr(incoming) in problem if incoming else 'no header.frame_id' in problem


@pytest.mark.parametrize('incoming, expected, why', [('/cam_optical', 'cam_optical', "leading '/'"),
                                                     ('front cam', DEFAULT_CAMERA_FRAME, 'set camera_frame')])
def test_the_node_publishes_a_valid_frame_id_and_says_why(harness, make_frame, console, incoming, expected, why):
    h = harness()
    h.send(make_frame(48, 64), T0, frame_id=incoming)
    h.wait(lambda: h.got['info'], 10, 'the depth camera_info')
    assert h.got['depth'][-1].header.frame_id == expected and h.got['info'][-1].header.frame_id == expected
    line = console.wait(repr(incoming), min_level='WARN')[-1]
    assert why in line.msg


def test_camera_frame_overrides_the_images(harness, make_frame):
    h = harness(params={'camera_frame': 'mount_optical'})
    h.send(make_frame(48, 64), T0, frame_id='front cam')
    assert h.got['depth'][-1].header.frame_id == 'mount_optical'
