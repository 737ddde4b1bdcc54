"""Real rclpy messages: the image codec round-trips exactly, and two nodes exchange Images over DDS (loopback)."""
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from selfdepth_ros.image_codec import image_to_numpy, numpy_to_image  # noqa: E402

pytestmark = pytest.mark.ros

CASES = {  # encoding -> (dtype, channels)
    'rgb8': (np.uint8, 3), 'bgr8': (np.uint8, 3), 'rgba8': (np.uint8, 4), 'bgra8': (np.uint8, 4),
    'mono8': (np.uint8, 1), 'mono16': (np.uint16, 1), '32FC1': (np.float32, 1), '32FC3': (np.float32, 3),
}


def _sample(encoding: str, h: int = 5, w: int = 7, seed: int = 0) -> np.ndarray:
    dtype, c = CASES[encoding]
    rng = np.random.default_rng(seed)
    shape = (h, w) if c == 1 else (h, w, c)
    if np.dtype(dtype).kind == 'f':
        arr = rng.normal(0, 100, shape).astype(dtype)
        arr.flat[3] = np.nan  # NaN (REP 118 invalid depth) must survive too
        return arr
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize('encoding', sorted(CASES))
@pytest.mark.parametrize('pad', [0, 5])
@pytest.mark.parametrize('bigendian', [False, True])
def test_codec_roundtrips_exactly_on_rclpy_messages(encoding, pad, bigendian):
    arr = _sample(encoding)
    dtype, c = CASES[encoding]
    packed = arr.shape[1] * c * np.dtype(dtype).itemsize
    msg = numpy_to_image(arr, encoding, msg_cls=Image, stamp_ns=1_700_000_000_123_456_789, frame_id='cam',
                         step=packed + pad, is_bigendian=bigendian)
    assert isinstance(msg, Image)
    assert (msg.height, msg.width, msg.encoding, msg.step) == (5, 7, encoding, packed + pad)
    assert bool(msg.is_bigendian) == bigendian
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (1_700_000_000, 123_456_789, 'cam')
    # Through CDR exactly as DDS carries it.
    wire = deserialize_message(serialize_message(msg), Image)
    out = image_to_numpy(wire)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)  # NaNs compare equal here


def test_big_endian_bytes_are_really_big_endian():
    msg = numpy_to_image(np.array([[1, 258]], np.uint16), 'mono16', msg_cls=Image, is_bigendian=True)
    assert bytes(msg.data) == b'\x00\x01\x01\x02'


def test_unsupported_encoding_error_names_it():
    msg = Image(height=1, width=1, encoding='yuv422', step=2, data=b'\x00\x00')
    with pytest.raises(ValueError, match='yuv422'):
        image_to_numpy(msg)


def _make(ctx, name):
    node = rclpy.create_node(name, context=ctx)
    ex = SingleThreadedExecutor(context=ctx)
    ex.add_node(node)
    return node, ex


@pytest.mark.parametrize('encoding,size', [('rgb8', (48, 64)), ('32FC1', (480, 640))])
def test_two_nodes_exchange_an_image_over_dds(ros_context, spin, encoding, size):
    """A publisher node and a subscriber node (own executors) exchange an Image; the payload is exact.

    480×640 32FC1 is 1.2 MB: it needs the 16 MB SHM segment of config/fastdds_shm.xml (conftest loads it).
    """
    qos = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
    pub_node, pub_ex = _make(ros_context, 'image_sender')
    sub_node, sub_ex = _make(ros_context, 'image_receiver')
    got = []
    sub_node.create_subscription(Image, '/dds_test/image', got.append, qos)
    pub = pub_node.create_publisher(Image, '/dds_test/image', qos)
    try:
        assert spin(pub_ex, lambda: pub.get_subscription_count() > 0, 10.0), 'no DDS discovery on loopback'
        arr = _sample(encoding, *size, seed=3)
        msg = numpy_to_image(arr, encoding, msg_cls=Image, stamp_ns=42_000_000_007, frame_id='camera_optical_frame')
        pub.publish(msg)
        assert spin(sub_ex, lambda: len(got) > 0, 10.0), 'image not received'
        rx = got[0]
        assert (rx.header.stamp.sec, rx.header.stamp.nanosec) == (42, 7)
        assert rx.header.frame_id == 'camera_optical_frame' and rx.encoding == encoding
        np.testing.assert_array_equal(image_to_numpy(rx), arr)
    finally:
        pub_ex.shutdown()
        sub_ex.shutdown()
        pub_node.destroy_node()
        sub_node.destroy_node()
