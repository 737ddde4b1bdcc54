"""The perception node over real DDS (loopback): outputs, TF, diagnostics, parameters and bad input.

The ``harness`` fixture (node + player + collector over DDS) lives in ``conftest.py``."""
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from selfdepth_ros.image_codec import image_to_numpy  # noqa: E402
from selfdepth_ros.nodes import conversions as cv  # noqa: E402
from selfdepth_ros.nodes.perception_node import PerceptionNode  # noqa: E402

pytestmark = pytest.mark.ros
DT_NS = 100_000_000  # 10 Hz stamps
K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])  # = conftest.K_TEST, the harness's CameraInfo


def test_outputs_equal_the_predictor_with_stamps_frames_and_tf(harness, fake_predictor_cls, make_frame):
    h = harness({'diagnostics_period': 0.2})
    ref = fake_predictor_cls()
    frames = [make_frame(48, 64, shift=3 * i) for i in range(4)]
    for i, rgb in enumerate(frames):
        h.send(rgb, 5_000_000_000 + i * DT_NS)
    h.wait(lambda: len(h.got['odom']) >= 4 and len(h.got['tf']) >= 4 and len(h.got['motion']) >= 3, 10, 'odom/tf')
    h.wait(lambda: any(float(dict((kv.key, kv.value) for kv in s.values)['rate_hz']) > 0
                       for d in h.got['diag'] for s in d.status if s.name.endswith('perception')), 10, 'diagnostics')
    T, preds = np.eye(4), []
    for i, rgb in enumerate(frames):
        stamp = 5_000_000_000 + i * DT_NS
        pred = ref.predict(rgb, K, stamp)
        preds.append(pred)
        d, info, odom = h.got['depth'][i], h.got['info'][i], h.got['odom'][i]
        assert cv.time_to_ns(d.header.stamp) == stamp and d.header.frame_id == 'cam_optical'
        assert (d.encoding, d.height, d.width) == ('32FC1', 48, 64)
        np.testing.assert_array_equal(image_to_numpy(d), pred.depth)  # relative mode: factor 1
        assert (info.width, info.height) == (64, 48) and np.allclose(np.reshape(info.k, (3, 3)), K)
        if pred.ego is not None:
            step = np.eye(4)
            step[:3, :3], step[:3, 3] = pred.ego[0].T, -pred.ego[0].T @ pred.ego[1]
            T = T @ step
        assert (odom.header.frame_id, odom.child_frame_id) == ('odom', 'cam_optical')
        p = odom.pose.pose.position
        np.testing.assert_allclose([p.x, p.y, p.z], T[:3, 3], atol=1e-9)
        assert odom.pose.covariance[0] == -1.0  # relative scale: covariance unknown
    assert abs(h.got['odom'][3].twist.twist.linear.z - 5.0) < 1e-9  # 0.5 m forward / 0.1 s
    m = h.got['motion'][0]
    assert (m.encoding, cv.time_to_ns(m.header.stamp)) == ('32FC3', 5_000_000_000 + DT_NS)
    assert (m.height, m.width) == (24, 32)  # motion_resolution: network (the default)
    np.testing.assert_array_equal(image_to_numpy(m), preds[1].motion_net)
    tf = h.got['tf'][-1].transforms[0]
    assert (tf.header.frame_id, tf.child_frame_id) == ('odom', 'cam_optical')
    status = {s.name.split(': ')[-1]: dict((kv.key, kv.value) for kv in s.values) for s in h.got['diag'][-1].status}
    assert {'rate_hz', 'latency_ms_p50', 'e2e_ms_p50', 'frames_dropped', 'model', 'device'} <= set(status['perception'])
    assert status['scale']['scale'] == 'relative' and status['scale']['metric'] == 'False'


def test_bad_inputs_leave_the_node_publishing(harness, make_frame):
    h = harness({'camera_info_wait': 0.05})
    rgb, t = make_frame(48, 64), 10_000_000_000
    resets = []

    def send(*args, **kwargs):  # each frame, then why its pair was (re)started
        h.send(*args, **kwargs)
        resets.append(h.node._last_reset)
    send(rgb, t)
    bad = Image(header=cv.header(t + DT_NS, 'cam_optical'), height=2, width=2, encoding='yuv422', step=4, data=bytes(8))
    h.img_pub.publish(bad)                                         # unsupported encoding
    h.info_pub.publish(cv.camera_info_msg(np.full((3, 3), np.nan), 64, 48, t + 2 * DT_NS, 'cam_optical'))  # NaN K
    time.sleep(0.3)
    send(rgb, t + 3 * DT_NS)                                       # still alive (the skipped frames: a pair reset)
    send(make_frame(24, 32), t + 4 * DT_NS, K_info=K / 2 + np.diag([0, 0, 0.5]))  # size change resets the pair
    send(make_frame(24, 32), t + 50 * DT_NS, info=False)          # no CameraInfo + time gap
    send(rgb, t + 51 * DT_NS, encoding='bgr8')                     # bgr8 decodes to the same depth (size changes)
    depths = h.got['depth']
    assert [cv.time_to_ns(d.header.stamp) for d in depths] == [t, t + 3 * DT_NS, t + 4 * DT_NS, t + 50 * DT_NS,
                                                                t + 51 * DT_NS]
    assert (depths[2].height, depths[2].width) == (24, 32)
    np.testing.assert_array_equal(image_to_numpy(depths[-1]), image_to_numpy(depths[0]))
    assert resets[0] == 'first frame' and resets[1].startswith('frames dropped: the pair spans 0.300 s')
    assert resets[2:] == ['image size changed', 'time gap', 'image size changed']


def test_compressed_input(harness, make_frame, fake_predictor_cls):
    h = harness({'image_transport': 'compressed'}, compressed=True)
    rgb = make_frame(48, 64)
    h.send(rgb, 7_000_000_000)
    np.testing.assert_array_equal(image_to_numpy(h.got['depth'][0]), fake_predictor_cls().predict(rgb).depth)


def test_parameters_are_validated_and_checkpoint_hot_reloads(harness):
    h = harness()
    node = h.node
    bad = {'scale_mode': ('magic', "scale_mode: 'magic' is not one of"),
           'camera_height': (-1.0, 'camera_height out of range Min: 0.05, Max: 100.0'),  # rclpy's descriptor check
           'odom_frame': ('/odom', "odom_frame: '/odom' must be a tf2 frame id"),
           'output_resolution': ('huge', "output_resolution: 'huge' is not one of"),
           'checkpoint': ('/nonexistent/weights.bin', "checkpoint: cannot load '/nonexistent/weights.bin'")}
    for name, (value, reason) in bad.items():
        res = node.set_parameters([Parameter(name, value=value)])[0]
        assert not res.successful and reason in res.reason, (name, res.reason)
        assert node.get_parameter(name).value != value  # refused: the old value stays
    res = node.set_parameters([Parameter('device', value='cpu')])[0]
    assert not res.successful and 'read-only' in res.reason  # read-only at run time
    assert node.set_parameters([Parameter('checkpoint', value='/tmp/new_weights.pt')])[0].successful
    assert node.predictor.loaded == '/tmp/new_weights.pt' and node.model_info['checkpoint'] == '/tmp/new_weights.pt'
    assert node.set_parameters([Parameter('scale_mode', value='camera_height')])[0].successful
    assert node.scale.mode == 'camera_height'


def test_no_pair_warning_names_the_topics(harness):
    h = harness({'no_pair_warn': 0.2, 'diagnostics_period': 0.1})

    def warned():
        return any(s.level == b'\x01' and '/cam/image' in s.message and '/cam/info' in s.message
                   for d in h.got['diag'] for s in d.status)
    h.wait(warned, 10, 'WARN diagnostic')


def test_invalid_startup_parameter_is_rejected_with_reason(ros_context, fake_predictor_cls):
    with pytest.raises(ValueError, match='scale_mode'):
        PerceptionNode(context=ros_context, predictor_factory=lambda p: fake_predictor_cls(),
                       parameter_overrides=[Parameter('scale_mode', value='magic')])


def test_yaml_params_apply_in_any_namespace(ros_context, fake_predictor_cls, tmp_path):
    import yaml
    cfg = yaml.safe_load(open('config/perception.yaml'))
    cfg['/**/selfdepth']['ros__parameters']['camera_height'] = 2.25
    path = tmp_path / 'p.yaml'
    path.write_text(yaml.safe_dump(cfg))
    node = PerceptionNode(context=ros_context, predictor_factory=lambda p: fake_predictor_cls(),
                          cli_args=['--ros-args', '--params-file', str(path), '-r', '__ns:=/robot7'])
    try:
        assert node.get_parameter('camera_height').value == 2.25
        assert node.get_fully_qualified_name() == '/robot7/selfdepth'
    finally:
        node.destroy_node()
