"""Standard topics (issue 12): depth and motion images with sibling CameraInfos by image_transport's rule, the
motion colour wheel, the distortion warning, the shipped rviz config and the USB-camera launch example.

The rule is image_transport's ``getCameraInfoTopic`` (image_common, camera_common.cpp), ported line for line:
the camera_info of ``/a/b/image`` is ``/a/b/camera_info``. rviz2's DepthCloud applies it to its depth topic when
its CameraInfo topic is empty, and depth_image_proc's CameraSubscriber always does.
"""
import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from selfdepth_ros.nodes.visual import motion_to_rgb

ROOT = Path(__file__).resolve().parents[2]
DT_NS = 100_000_000


def camera_info_topic(base_topic: str) -> str:
    """image_transport::getCameraInfoTopic: split on '/', drop empty tokens except the last, keep all but the last."""
    tokens, rest = [], base_topic
    while '/' in rest:
        token, rest = rest.split('/', 1)
        if token:
            tokens.append(token)
    tokens.append(rest)
    return ''.join('/' + t for t in tokens[:-1]) + '/camera_info'


def test_the_ported_rule():
    assert camera_info_topic('/selfdepth/depth/image') == '/selfdepth/depth/camera_info'
    assert camera_info_topic('/selfdepth/depth') == '/selfdepth/camera_info'  # why ~/depth alone is not enough
    assert camera_info_topic('/selfdepth/motion/visual') == '/selfdepth/motion/camera_info'


def test_motion_colour_wheel():
    m = np.zeros((1, 6, 3), np.float32)
    m[0, 0, 0] = m[0, 2, 0] = 0.2      # right; and at half the magnitude below
    m[0, 2, 0] = 0.1
    m[0, 3, 1] = 0.2                   # down
    m[0, 4, 0] = -0.2                  # left
    m[0, 5] = np.nan
    rgb, scale = motion_to_rgb(m, 0.2)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 6, 3) and scale == 0.2
    np.testing.assert_array_equal(rgb[0, 0], [255, 0, 0])                   # right: red, full brightness
    np.testing.assert_array_equal(rgb[0, 1], [0, 0, 0])                     # static: black
    assert rgb[0, 2, 0] == pytest.approx(128, abs=1) and rgb[0, 2, 1:].max() == 0  # half the magnitude: half bright
    assert rgb[0, 3, 1] == 255 and rgb[0, 3, 2] == 0 and 100 < rgb[0, 3, 0] < 160  # down: yellow-green
    np.testing.assert_array_equal(rgb[0, 4], [0, 255, 255])                 # left: cyan
    np.testing.assert_array_equal(rgb[0, 5], [0, 0, 0])                     # NaN: black
    auto, used = motion_to_rgb(m)                                           # 0: the 99th percentile
    assert used == pytest.approx(np.nanpercentile(np.linalg.norm(m, axis=2), 99))


pytest.importorskip('rclpy')

from selfdepth_ros.image_codec import image_to_numpy  # noqa: E402
from selfdepth_ros.nodes import conversions as cv  # noqa: E402


def _published(node):
    # The node's own publishers, not the ROS graph by node name: every harness node is named 'selfdepth', and the
    # graph query raced with earlier ones' teardown (1 failure in a run of all node tests).
    return {pub.topic_name for pub in node.publishers}


@pytest.mark.ros
def test_images_have_sibling_camera_infos_with_the_same_stamps_and_sizes(harness, fake_predictor_cls, make_frame):
    h = harness({'motion_visual_scale': 0.5})
    ref, frames, t0 = fake_predictor_cls(), [make_frame(48, 64, 3 * i) for i in range(3)], 3_000_000_000
    for i, rgb in enumerate(frames):
        h.send(rgb, t0 + i * DT_NS)
    h.wait(lambda: len(h.got['depth_image']) >= 3 and len(h.got['motion_visual']) >= 2
           and len(h.got['motion_info']) >= 2 and len(h.got['info']) >= 3, 10, 'images and infos')
    published = _published(h.node)
    pairs = {('depth_image', '/selfdepth/depth/image'): ('info', '/selfdepth/depth/camera_info'),
             ('motion_visual', '/selfdepth/motion/visual'): ('motion_info', '/selfdepth/motion/camera_info')}
    for (image_key, image_topic), (info_key, info_topic) in pairs.items():
        assert camera_info_topic(image_topic) == info_topic and {image_topic, info_topic} <= published
        infos = {cv.time_to_ns(m.header.stamp): m for m in h.got[info_key]}
        for img in h.got[image_key]:
            info = infos[cv.time_to_ns(img.header.stamp)]
            assert (info.width, info.height) == (img.width, img.height)
            assert info.header.frame_id == img.header.frame_id == 'cam_optical'
    for new, old in zip(h.got['depth_image'], h.got['depth']):  # the older ~/depth carries the same image
        np.testing.assert_array_equal(image_to_numpy(new), image_to_numpy(old))
    vis = h.got['motion_visual'][0]
    assert (vis.encoding, cv.time_to_ns(vis.header.stamp), vis.height, vis.width) == ('rgb8', t0 + DT_NS, 24, 32)
    preds = [ref.predict(rgb, None, t0 + i * DT_NS) for i, rgb in enumerate(frames)]
    np.testing.assert_array_equal(image_to_numpy(vis), motion_to_rgb(preds[1].motion_net, 0.5)[0])
    info = h.got['motion_info'][0]
    K_net = np.array([[25.0, 0, 15.75], [0, 25.0, 11.75], [0, 0, 1]])  # the FakePredictor's K_net of K_TEST
    np.testing.assert_allclose(np.reshape(info.k, (3, 3)), K_net)


@pytest.mark.ros
def test_distorted_input_warns_once_and_says_rectified_input_is_expected(harness, make_frame, console):
    h = harness()
    rgb = make_frame(48, 64)
    for i in range(3):
        info = cv.camera_info_msg(np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]]), 64, 48,
                                  4_000_000_000 + i * DT_NS, 'cam_optical')
        info.d = [-0.28, 0.07, 0.0, 0.0, 0.0]
        h.info_pub.publish(info)
        h.send(rgb, 4_000_000_000 + i * DT_NS, info=False)
    console.wait('distortion')
    time.sleep(0.5)
    warns = console.lines('distortion')
    assert len(warns) == 1 and warns[0].level == 'WARN', warns
    assert '/cam/info' in warns[0].msg and 'rectified' in warns[0].msg and '-0.28' in warns[0].msg


@pytest.mark.ros
def test_the_shipped_rviz_config_shows_what_the_node_publishes(harness):
    config = yaml.safe_load((ROOT / 'config' / 'selfdepth.rviz').read_text())
    manager = config['Visualization Manager']
    displays = {d['Class'].split('/')[-1]: d for d in manager['Displays']}
    assert {'DepthCloud', 'Image', 'Odometry', 'TF'} <= set(displays)
    h = harness()
    published = _published(h.node)
    cloud = displays['DepthCloud']
    assert cloud['Depth Map Topic'] in published
    assert not cloud.get('CameraInfo Topic')  # empty: rviz2 applies image_transport's rule
    assert camera_info_topic(cloud['Depth Map Topic']) in published
    images = [d['Topic']['Value'] for d in manager['Displays'] if d['Class'].endswith('/Image')]
    assert set(images) == {'/selfdepth/depth/image', '/selfdepth/motion/visual'} and set(images) <= published
    assert displays['Odometry']['Topic']['Value'] in published
    assert manager['Global Options']['Fixed Frame'] == h.node.get_parameter('odom_frame').value


def _launch_tools():
    spec = importlib.util.spec_from_file_location('launch_agreement', Path(__file__).with_name('test_launch_agreement.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('rectify, image', [('false', '/camera/image_raw'), ('true', '/camera/image_rect')])
def test_camera_launch_feeds_the_usb_camera_to_the_node(monkeypatch, rectify, image):
    tools = _launch_tools()
    entities = tools._load(monkeypatch, 'camera.launch.py')
    context = {**tools._defaults(entities), 'rectify': rectify}
    opaque = [e.kwargs['function'](context) for e in entities if type(e).__name__ == 'OpaqueFunction']
    actions = [a for group in opaque for a in group]
    nodes = [a.kwargs for a in actions if type(a).__name__ == 'Node']
    camera = next(n for n in nodes if n['package'] == 'v4l2_camera')
    params = camera['parameters'][0]
    assert camera['executable'] == 'v4l2_camera_node' and params['image_size'] == [640, 480]
    assert params['output_encoding'] == 'rgb8' and params['camera_frame_id'].endswith('optical_frame')
    # v4l2_camera publishes image_raw and camera_info in its namespace; rectify_node turns image_raw into image_rect.
    assert [n['package'] for n in nodes] == (['v4l2_camera', 'image_proc'] if rectify == 'true' else ['v4l2_camera'])
    include = next(a for a in actions if type(a).__name__ == 'IncludeLaunchDescription')
    assert include.args[0].args[0].endswith('perception.launch.py')
    passed = dict(include.kwargs['launch_arguments'])
    assert passed['image'] == image and passed['camera_info'] == f"/{camera['namespace']}/camera_info"
    perception = tools._defaults(tools._load(monkeypatch, 'perception.launch.py'))
    assert set(passed) <= set(perception)  # only arguments perception.launch.py declares
    rviz = next(e.kwargs for e in entities if type(e).__name__ == 'Node')
    assert rviz['package'] == 'rviz2' and Path(rviz['arguments'][1]) == ROOT / 'config' / 'selfdepth.rviz'
    assert type(rviz['condition']).__name__ == 'IfCondition'
