"""One message builder (issue 12): the node's rclpy messages and the bag writer's rosbags messages take their
values from :mod:`selfdepth_ros.msg_fields`, so the same input gives the same field values (unknown covariance:
element 0 = -1 in both)."""
import numpy as np
import pytest

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.bag.writer import BagWriter
from selfdepth_ros.msg_fields import UNKNOWN_COVARIANCE, odometry_fields

pytest.importorskip('rclpy')
from selfdepth_ros.nodes import conversions as cv  # noqa: E402


def _pose():
    from scipy.spatial.transform import Rotation
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler('xyz', [0.3, -2.9, 2.0]).as_matrix()  # w < 0 for scipy's raw quaternion
    T[:3, 3] = [1.5, -2.0, 0.25]
    return T


def _odom_values(msg):
    p, q, tw = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    return {'stamp': (msg.header.stamp.sec, msg.header.stamp.nanosec), 'frame_id': msg.header.frame_id,
            'child': msg.child_frame_id, 'position': [p.x, p.y, p.z], 'orientation': [q.x, q.y, q.z, q.w],
            'linear': [tw.linear.x, tw.linear.y, tw.linear.z], 'angular': [tw.angular.x, tw.angular.y, tw.angular.z],
            'pose_cov': [float(v) for v in msg.pose.covariance], 'twist_cov': [float(v) for v in msg.twist.covariance]}


def _info_values(msg):
    return {'stamp': (msg.header.stamp.sec, msg.header.stamp.nanosec), 'frame_id': msg.header.frame_id,
            'size': (msg.height, msg.width), 'model': msg.distortion_model,
            **{k: [float(v) for v in getattr(msg, k)] for k in 'dkrp'}}


@pytest.mark.parametrize('cov', [None, np.diag(np.arange(1.0, 7.0))], ids=['unknown', 'given'])
def test_node_and_bag_writer_odometry_have_identical_fields(tmp_path, cov):
    T, lin, ang, stamp = _pose(), np.array([1.0, 0.5, -0.2]), np.array([0.01, -0.02, 0.03]), 12_345_678_901
    node_msg = cv.odometry_msg(T, stamp, 'odom', 'base_link', lin, ang, cov, cov)
    with BagWriter(tmp_path / 'bag') as w:
        w.write('/odom', m.ODOMETRY, m.odometry_msg(T, stamp, 'odom', 'base_link', np.r_[lin, ang], cov, cov), stamp)
        w.write_odometry('/odom2', T, stamp, 'odom', 'base_link', np.r_[lin, ang], cov)
    with BagReader(tmp_path / 'bag') as bag:
        bag_msg = next(bag.messages('/odom')).msg
        writer_msg = next(bag.messages('/odom2')).msg
    assert _odom_values(node_msg) == _odom_values(bag_msg)
    want_pose_cov = _odom_values(node_msg)['pose_cov']
    assert _odom_values(writer_msg)['pose_cov'] == want_pose_cov
    if cov is None:
        assert want_pose_cov == UNKNOWN_COVARIANCE.tolist() and want_pose_cov[0] == -1.0
    assert node_msg.pose.pose.orientation.w >= 0  # one quaternion sign in both


def test_node_and_bag_writer_camera_info_have_identical_fields(tmp_path):
    K = np.array([[500.5, 0, 319.25], [0, 501.0, 239.75], [0, 0, 1]])
    node_msg = cv.camera_info_msg(K, 640, 480, 7_000_000_001, 'cam_optical')
    with BagWriter(tmp_path / 'bag') as w:
        w.write_camera_info('/info', K, 640, 480, 7_000_000_001, 'cam_optical')
    with BagReader(tmp_path / 'bag') as bag:
        bag_msg = next(bag.messages('/info')).msg
    assert _info_values(node_msg) == _info_values(bag_msg)


def test_fields_refuse_bad_input_with_a_reason():
    with pytest.raises(ValueError, match='T_odom_child must be a finite 4×4'):
        odometry_fields(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match='pose_covariance must be 6×6'):
        odometry_fields(np.eye(4), pose_cov=np.eye(3))
