"""selfdepth_ros.image_codec: exact round trips (padding, big-endian), independent byte layouts, errors."""
import struct
from types import SimpleNamespace

import numpy as np
import pytest

from selfdepth_ros.image_codec import (ENCODINGS, compressed_to_numpy, encode_compressed, image_to_numpy,
                                       numpy_to_image, rosbags_typestore, to_rgb8)


def _sample(encoding, h=5, w=7, seed=0):
    enc = ENCODINGS[encoding]
    rng = np.random.default_rng(seed)
    shape = (h, w) if enc.channels == 1 else (h, w, enc.channels)
    if enc.dtype.kind == 'f':
        return rng.normal(size=shape).astype(enc.dtype) * 100
    return rng.integers(0, np.iinfo(enc.dtype).max, size=shape, endpoint=True).astype(enc.dtype)


def _rclpy_image():
    msg = pytest.importorskip('sensor_msgs.msg')
    return msg.Image


@pytest.mark.parametrize('encoding', sorted(ENCODINGS))
@pytest.mark.parametrize('pad', [0, 3, 13])
@pytest.mark.parametrize('big', [False, True])
def test_round_trip_exact_rosbags(encoding, pad, big):
    arr = _sample(encoding)
    row = arr.shape[1] * ENCODINGS[encoding].channels * arr.itemsize
    msg = numpy_to_image(arr, encoding, stamp_ns=1_700_000_000_123_456_789, frame_id='cam', step=row + pad,
                         is_bigendian=big)
    assert (msg.height, msg.width, msg.step, msg.is_bigendian) == (5, 7, row + pad, int(big))
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (1_700_000_000, 123_456_789, 'cam')
    out = image_to_numpy(msg)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    # through CDR serialisation as a bag stores it
    ts = rosbags_typestore()
    back = ts.deserialize_cdr(ts.serialize_cdr(msg, 'sensor_msgs/msg/Image'), 'sensor_msgs/msg/Image')
    np.testing.assert_array_equal(image_to_numpy(back), arr)


@pytest.mark.parametrize('encoding', ['rgb8', 'mono16', '32FC1', '32FC3'])
def test_round_trip_exact_rclpy(encoding):
    Image = _rclpy_image()
    arr = _sample(encoding, seed=3)
    msg = numpy_to_image(arr, encoding, msg_cls=Image, stamp_ns=5_000_000_007, frame_id='f', is_bigendian=True)
    assert isinstance(msg, Image)
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id) == (5, 7, 'f')
    np.testing.assert_array_equal(image_to_numpy(msg), arr)


def test_big_endian_and_padding_against_hand_built_bytes():
    # mono16 2×2, values 1, 258, 513, 65535, big-endian, step 6 (2 bytes padding per row): bytes built by struct
    vals = [[1, 258], [513, 65535]]
    data = b''.join(struct.pack('>HH', *r) + b'\xaa\xbb' for r in vals)
    msg = SimpleNamespace(height=2, width=2, encoding='mono16', is_bigendian=1, step=6, data=data)
    np.testing.assert_array_equal(image_to_numpy(msg), np.array(vals, np.uint16))
    # little-endian 32FC1 with padding, data as a list of ints
    data = list(struct.pack('<ff', 1.5, -2.0) + b'\x00' * 4)
    msg = SimpleNamespace(height=1, width=2, encoding='32FC1', is_bigendian=0, step=12, data=data)
    np.testing.assert_array_equal(image_to_numpy(msg), np.array([[1.5, -2.0]], np.float32))


def test_padding_changes_bytes_but_not_pixels():
    arr = _sample('bgr8')
    packed = numpy_to_image(arr, 'bgr8')
    padded = numpy_to_image(arr, 'bgr8', step=packed.step + 5)
    assert padded.data.size == packed.data.size + 5 * arr.shape[0]
    np.testing.assert_array_equal(image_to_numpy(padded), image_to_numpy(packed))


def test_unsupported_encoding_named():
    msg = SimpleNamespace(height=1, width=1, encoding='bayer_rggb8', is_bigendian=0, step=1, data=b'\x00')
    with pytest.raises(ValueError, match='bayer_rggb8'):
        image_to_numpy(msg)
    with pytest.raises(ValueError, match='yuv422'):
        numpy_to_image(np.zeros((2, 2), np.uint8), 'yuv422')


def test_inconsistent_lengths():
    msg = SimpleNamespace(height=2, width=2, encoding='rgb8', is_bigendian=0, step=6, data=b'\x00' * 11)
    with pytest.raises(ValueError, match=r'rgb8.*11 bytes.*step 6 × height 2 = 12'):
        image_to_numpy(msg)
    msg = SimpleNamespace(height=2, width=2, encoding='rgb8', is_bigendian=0, step=5, data=b'\x00' * 10)
    with pytest.raises(ValueError, match='step 5'):
        image_to_numpy(msg)
    with pytest.raises(ValueError, match='step 2'):
        numpy_to_image(np.zeros((2, 2), np.uint16), 'mono16', step=2)


def test_bad_array_shape_and_dtype():
    with pytest.raises(ValueError, match=r"'rgb8' must be H×W×3"):
        numpy_to_image(np.zeros((2, 2), np.uint8), 'rgb8')
    with pytest.raises(ValueError, match='must be uint8, got float32'):
        numpy_to_image(np.zeros((2, 2, 3), np.float32), 'rgb8')
    # safe casts are accepted: H×W×1 mono and float64 depth
    assert image_to_numpy(numpy_to_image(np.ones((2, 2, 1), np.uint8), 'mono8')).shape == (2, 2)
    assert image_to_numpy(numpy_to_image(np.ones((2, 2)), '32FC1')).dtype == np.float32


def test_to_rgb8():
    rgb = _sample('rgb8')
    np.testing.assert_array_equal(to_rgb8(rgb, 'rgb8'), rgb)
    np.testing.assert_array_equal(to_rgb8(rgb[:, :, ::-1], 'bgr8'), rgb)
    alpha = np.full(rgb.shape[:2] + (1,), 7, np.uint8)
    np.testing.assert_array_equal(to_rgb8(np.concatenate([rgb, alpha], 2), 'rgba8'), rgb)
    np.testing.assert_array_equal(to_rgb8(np.concatenate([rgb[:, :, ::-1], alpha], 2), 'bgra8'), rgb)
    mono = rgb[:, :, 0]
    np.testing.assert_array_equal(to_rgb8(mono, 'mono8'), np.stack([mono] * 3, 2))
    m16 = np.array([[0, 257, 65535, 32896]], np.uint16)
    np.testing.assert_array_equal(to_rgb8(m16, 'mono16')[..., 0], [[0, 1, 255, 128]])
    with pytest.raises(ValueError, match='32FC1'):
        to_rgb8(np.zeros((2, 2), np.float32), '32FC1')


def test_compressed_png_exact_and_jpeg_close():
    ctype = rosbags_typestore().types['sensor_msgs/msg/CompressedImage']
    header = numpy_to_image(np.zeros((1, 1), np.uint8), 'mono8').header
    rgb = _sample('rgb8', h=16, w=24)
    png = ctype(header=header, format='png', data=np.frombuffer(encode_compressed(rgb, 'png'), np.uint8))
    np.testing.assert_array_equal(compressed_to_numpy(png), rgb)
    smooth = np.zeros((32, 32, 3), np.uint8)
    smooth[..., 0], smooth[..., 2] = 200, 40  # distinct R and B: a channel swap would show
    jpg = ctype(header=header, format='jpeg', data=np.frombuffer(encode_compressed(smooth, 'jpeg'), np.uint8))
    assert np.abs(compressed_to_numpy(jpg).astype(int) - smooth).max() <= 3
    bad = ctype(header=header, format='jpeg', data=np.frombuffer(b'not an image', np.uint8))
    with pytest.raises(ValueError, match="format 'jpeg'"):
        compressed_to_numpy(bad)
