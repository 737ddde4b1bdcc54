"""Message builders and the odometry integrator against analytic cases."""
import numpy as np
import pytest

pytest.importorskip('rclpy')
from selfdepth_ros.nodes import conversions as cv  # noqa: E402
from selfdepth_ros.nodes.odometry import OdometryIntegrator, rotation_log  # noqa: E402


def _rot(axis, angle):
    from selfdepth_ros.nodes.conversions import quaternion_to_rotation
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    return quaternion_to_rotation([*(axis * np.sin(angle / 2)), np.cos(angle / 2)])


@pytest.mark.parametrize('axis,angle', [((1, 0, 0), 0.3), ((0, 1, 0), 3.1), ((1, 2, 3), 2.0), ((0, 0, 1), 0.0)])
def test_quaternion_roundtrip_and_log(axis, angle):
    R = _rot(axis, angle)
    np.testing.assert_allclose(cv.quaternion_to_rotation(cv.rotation_to_quaternion(R)), R, atol=1e-12)
    np.testing.assert_allclose(rotation_log(R), np.asarray(axis) / np.linalg.norm(axis) * angle, atol=1e-9)


def test_odometry_integrates_a_known_trajectory():
    """Camera driving forward 1 m per frame while yawing 0.1 rad: poses match the composed ground truth."""
    odo, T_true = OdometryIntegrator(), np.eye(4)
    step = np.eye(4)
    step[:3, :3], step[:3, 3] = _rot((0, 1, 0), 0.1), (0, 0, 1.0)  # pose of cam_t in cam_{t-1}
    for _ in range(5):
        T_true = T_true @ step
        inv = np.linalg.inv(step)  # ego (R, t): cam_t <- cam_{t-1}
        odo.step(inv[:3, :3], inv[:3, 3], 0.1)
    np.testing.assert_allclose(odo.T_odom_cam, T_true, atol=1e-12)
    np.testing.assert_allclose(odo.linear, _rot((0, 1, 0), -0.1) @ np.array([0, 0, 10.0]), atol=1e-9)
    pose_cov, _ = odo.covariance(metric=True)
    assert pose_cov[0, 0] > 0 and odo.covariance(metric=False) == (None, None)


def test_builders_fill_messages():
    T = np.eye(4)
    T[:3, 3] = (1, 2, 3)
    odom = cv.odometry_msg(T, 1_500_000_000, 'odom', 'cam')
    assert (odom.header.stamp.sec, odom.header.stamp.nanosec, odom.pose.pose.position.z) == (1, 500_000_000, 3.0)
    pc = cv.pointcloud2_msg(np.arange(12, dtype=np.float32).reshape(4, 3), 0, 'cam')
    np.testing.assert_array_equal(np.frombuffer(bytes(pc.data), np.float32), np.arange(12))
    tf = cv.tf_message([cv.transform_msg(T, 0, 'odom', 'cam')])
    assert tf.transforms[0].transform.translation.y == 2.0
    diag = cv.diagnostic_array(0, [('n', 'WARN', 'm', {'k': 1})])
    assert diag.status[0].level == cv.DIAG_LEVELS['WARN'] and diag.status[0].values[0].value == '1'
    with pytest.raises(ValueError, match='T_odom_child'):
        cv.odometry_msg(np.eye(3), 0, 'odom', 'cam')


def test_tf2_msgs_has_the_real_type_hash():
    from selfdepth_ros.nodes.tf2_msgs_gen import REAL_HASHES, installed_hash
    import sys
    from pathlib import Path
    assert installed_hash(Path(sys.prefix)) == REAL_HASHES['TFMessage']


@pytest.mark.parametrize('arr, encoding', [
    (np.arange(12, dtype=np.float32).reshape(3, 4), '32FC1'),              # fast path: one copy
    (np.arange(36, dtype=np.float32).reshape(3, 4, 3), '32FC3'),
    (np.arange(72, dtype=np.float32).reshape(3, 8, 3)[:, ::2], '32FC3'),   # strided view: made contiguous
    (np.arange(12, dtype=np.float64).reshape(3, 4), '32FC1'),              # cast: the codec's general path
    (np.arange(12, dtype='>f4').reshape(3, 4), '32FC1')])                  # big-endian input: general path
def test_image_msg_sets_data_as_a_byte_array_and_round_trips(arr, encoding):
    import array
    from selfdepth_ros.image_codec import image_to_numpy
    msg = cv.image_msg(arr, encoding, 5, 'cam')
    assert isinstance(msg.data, array.array) and msg.data.typecode == 'B'  # never a list or numpy array
    assert msg.step == msg.width * (3 if encoding == '32FC3' else 1) * 4 and msg.is_bigendian == 0
    np.testing.assert_array_equal(image_to_numpy(msg), arr.astype(np.float32))
    with pytest.raises(ValueError, match='H×W×3'):
        cv.image_msg(np.zeros((3, 4), np.float32), '32FC3', 0, 'cam')


@pytest.mark.parametrize('k, why', [((1e-300, 50.0, 31.5, 23.5), 'no valid focal length'),
                                    ((2e6, 50.0, 31.5, 23.5), 'no valid focal length'),
                                    ((50.0, float('inf'), 31.5, 23.5), 'no valid focal length'),
                                    ((50.0, 50.0, 200.0, 23.5), 'principal point'),
                                    ((50.0, 50.0, 31.5, -60.0), 'principal point')])
def test_absurd_intrinsics_are_refused_with_a_reason(k, why):
    fx, fy, cx, cy = k
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
    with pytest.raises(ValueError, match=why):
        cv.camera_info_K(cv.camera_info_msg(K, 64, 48, 0, 'cam'))
    assert cv.camera_info_K(cv.camera_info_msg(np.array([[50.0, 0, 31.5], [0, 50, 23.5], [0, 0, 1]]), 64, 48, 0,
                                               'cam'))[0, 0] == 50.0


@pytest.mark.parametrize('name, value, why', [('odom_frame', '', 'must not be empty'),
                                              ('base_frame', 'base link', 'no spaces'),
                                              ('camera_frame', '/cam', 'no leading /')])
def test_invalid_frame_ids_are_refused_with_a_reason(name, value, why):
    from selfdepth_ros.nodes.params import validate
    assert why in validate(name, value)
    assert validate(name, 'base_link') is None
