"""ROS ``sensor_msgs/Image`` and ``CompressedImage`` <-> numpy, with no ROS import.

Works on any object with ``height, width, encoding, is_bigendian, step, data`` -- the rclpy message class
or the ``rosbags`` typestore class. We keep our own codec because ``rosbags-image`` ignores ``step`` (row
padding) and silently returns a sheared image.

Arrays are HWC (docs/CONVENTIONS.md): ``H×W`` for one-channel encodings, ``H×W×C`` otherwise, in the
encoding's own channel order and dtype (``bgr8`` stays BGR; :func:`to_rgb8` converts).
"""
from __future__ import annotations

import array
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    'ENCODINGS', 'image_to_numpy', 'numpy_to_image', 'to_rgb8', 'compressed_to_numpy',
    'encode_compressed', 'image_msg_class', 'header_for', 'rosbags_typestore',
]


class Encoding(NamedTuple):
    dtype: np.dtype  # element type (native byte order)
    channels: int


ENCODINGS: dict[str, Encoding] = {
    'rgb8': Encoding(np.dtype(np.uint8), 3),
    'bgr8': Encoding(np.dtype(np.uint8), 3),
    'rgba8': Encoding(np.dtype(np.uint8), 4),
    'bgra8': Encoding(np.dtype(np.uint8), 4),
    'mono8': Encoding(np.dtype(np.uint8), 1),
    'mono16': Encoding(np.dtype(np.uint16), 1),
    '8UC1': Encoding(np.dtype(np.uint8), 1),
    '8UC3': Encoding(np.dtype(np.uint8), 3),
    '16UC1': Encoding(np.dtype(np.uint16), 1),
    '32FC1': Encoding(np.dtype(np.float32), 1),
    '32FC3': Encoding(np.dtype(np.float32), 3),
}
"""Supported ``sensor_msgs/Image`` encodings (REP 104 names and the OpenCV-style aliases)."""


def _lookup(encoding: str) -> Encoding:
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise ValueError(f'unsupported image encoding {encoding!r}; supported: {sorted(ENCODINGS)}') from None


def _as_bytes(data: Any) -> np.ndarray:
    """Message ``data`` (numpy uint8, bytes, array.array('B') or a list of ints) as a flat uint8 array."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:  # a plain list/tuple of ints
        return np.asarray(data, dtype=np.uint8)


def image_to_numpy(msg: Any) -> np.ndarray:
    """Decode an Image message into a fresh, writable numpy array.

    Returns ``H×W`` (one channel) or ``H×W×C`` with the encoding's dtype in native byte order; row padding
    (``step`` > ``width·C·itemsize``) is dropped and ``is_bigendian`` is honoured.
    Raises ``ValueError`` naming the encoding for unsupported encodings, and for ``step`` / ``data``
    lengths inconsistent with ``height``, ``width`` and the encoding.
    """
    enc = _lookup(msg.encoding)
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = w * enc.channels * enc.dtype.itemsize
    if step < row_bytes:
        raise ValueError(f'{msg.encoding} image: step {step} < width {w} × {enc.channels} channels × '
                         f'{enc.dtype.itemsize} bytes = {row_bytes}')
    buf = _as_bytes(msg.data)
    if buf.size != step * h:
        raise ValueError(f'{msg.encoding} image: data has {buf.size} bytes, expected step {step} × height {h} '
                         f'= {step * h}')
    rows = buf.reshape(h, step)[:, :row_bytes]
    wire = enc.dtype.newbyteorder('>' if msg.is_bigendian else '<')
    out = np.ascontiguousarray(rows).view(wire).astype(enc.dtype, copy=True)
    return out.reshape((h, w) if enc.channels == 1 else (h, w, enc.channels))


def _check_array(arr: np.ndarray, encoding: str, enc: Encoding) -> np.ndarray:
    arr = np.asarray(arr)
    if enc.channels == 1 and arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    want = 'H×W' if enc.channels == 1 else f'H×W×{enc.channels}'
    if (enc.channels == 1 and arr.ndim != 2) or (enc.channels > 1 and (arr.ndim != 3 or arr.shape[2] != enc.channels)):
        raise ValueError(f'arr for encoding {encoding!r} must be {want}, got shape {arr.shape}')
    if arr.dtype != enc.dtype:
        float_narrowing = arr.dtype.kind == 'f' and enc.dtype.kind == 'f'
        if not (np.can_cast(arr.dtype, enc.dtype, 'safe') or float_narrowing):
            raise ValueError(f'arr for encoding {encoding!r} must be {enc.dtype}, got {arr.dtype} '
                             '(would lose values; convert explicitly)')
    return arr.astype(enc.dtype, copy=False)


_TYPESTORE = None


def rosbags_typestore():
    """The project's ``rosbags`` typestore (ROS 2 Kilted message definitions), created on first use."""
    global _TYPESTORE
    if _TYPESTORE is None:
        from rosbags.typesys import Stores, get_typestore
        _TYPESTORE = get_typestore(Stores.ROS2_KILTED)
    return _TYPESTORE


def image_msg_class() -> type:
    """The ``rosbags`` class of ``sensor_msgs/msg/Image`` (the default ``msg_cls``)."""
    return rosbags_typestore().types['sensor_msgs/msg/Image']


def header_for(stamp_ns: int | None, frame_id: str = '') -> Any:
    """A ``rosbags`` ``std_msgs/msg/Header`` for an integer nanosecond stamp (``None`` → 0)."""
    types = rosbags_typestore().types
    sec, nanosec = divmod(int(stamp_ns or 0), 1_000_000_000)
    return types['std_msgs/msg/Header'](stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
                                        frame_id=frame_id)


def numpy_to_image(arr: np.ndarray, encoding: str, *, msg_cls: type | None = None, stamp_ns: int | None = None,
                   frame_id: str = '', step: int | None = None, is_bigendian: bool = False) -> Any:
    """Encode a numpy image as an Image message of class ``msg_cls`` (default: the rosbags class).

    Args:
        arr: ``H×W`` (or ``H×W×1``) for one-channel encodings, ``H×W×C`` otherwise, in the encoding's dtype
            (safe up-casts and float64→float32 are accepted).
        encoding: one of :data:`ENCODINGS`.
        msg_cls: the message class, e.g. ``sensor_msgs.msg.Image`` from rclpy; ``None`` → rosbags' class.
        stamp_ns: ``header.stamp`` in integer nanoseconds (``None`` → 0).
        frame_id: ``header.frame_id``.
        step: row length in bytes (≥ the packed row; the rest is zero padding); ``None`` → packed.
        is_bigendian: write multi-byte elements big-endian (and set the flag).
    """
    enc = _lookup(encoding)
    arr = _check_array(arr, encoding, enc)
    h, w = arr.shape[:2]
    row_bytes = w * enc.channels * enc.dtype.itemsize
    step = row_bytes if step is None else int(step)
    if step < row_bytes:
        raise ValueError(f'step {step} < packed row of {row_bytes} bytes for a {w}-wide {encoding} image')
    wire = arr.astype(enc.dtype.newbyteorder('>' if is_bigendian else '<'), copy=False)
    rows = np.ascontiguousarray(wire).view(np.uint8).reshape(h, row_bytes)
    if step != row_bytes:
        rows = np.concatenate([rows, np.zeros((h, step - row_bytes), np.uint8)], axis=1)
    data = np.ascontiguousarray(rows).reshape(-1)
    fields = dict(height=h, width=w, encoding=encoding, is_bigendian=int(bool(is_bigendian)), step=step)
    if msg_cls is None or hasattr(msg_cls, '__msgtype__'):  # rosbags dataclass: all fields at construction
        return (msg_cls or image_msg_class())(header=header_for(stamp_ns, frame_id), data=data, **fields)
    msg = msg_cls()  # rclpy-style: default-construct, then set attributes
    for key, value in fields.items():
        setattr(msg, key, value)
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(int(stamp_ns or 0), 1_000_000_000)
    msg.header.frame_id = frame_id
    msg.data = array.array('B', data.tobytes())  # array.array('B') skips rclpy's per-element check
    return msg


def to_rgb8(arr: np.ndarray, encoding: str) -> np.ndarray:
    """Any supported colour or mono image → ``H×W×3`` uint8 RGB.

    ``8UC3`` is taken as BGR (the OpenCV convention, as cv_bridge does); 16-bit mono is rescaled to 8 bits
    (rounded ``v·255/65535``). Float encodings are depth/motion, not colour, and raise ``ValueError``.
    """
    enc = _lookup(encoding)
    arr = _check_array(arr, encoding, enc)
    if enc.dtype.kind == 'f':
        raise ValueError(f'to_rgb8: {encoding!r} is not a colour or mono image encoding')
    if enc.dtype == np.uint16:
        arr = ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if encoding in ('bgr8', 'bgra8', '8UC3'):
        arr = arr[:, :, 2::-1]
    return np.ascontiguousarray(arr[:, :, :3])


def compressed_to_numpy(msg: Any) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) with OpenCV.

    Returns ``H×W×3`` uint8 **RGB** for colour, ``H×W×4`` RGBA for png with alpha, ``H×W`` uint8/uint16 for
    grayscale. Raises ``ValueError`` naming ``format`` when the bytes do not decode.
    """
    import cv2
    fmt = str(getattr(msg, 'format', ''))
    buf = _as_bytes(msg.data)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise ValueError(f'compressed image (format {fmt!r}, {buf.size} bytes) could not be decoded as jpeg/png')
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return img


def encode_compressed(arr: np.ndarray, fmt: str = 'jpeg', *, jpeg_quality: int = 95) -> bytes:
    """``H×W×3`` uint8 RGB (or ``H×W`` mono) → jpeg/png bytes for a ``CompressedImage``."""
    import cv2
    if fmt not in ('jpeg', 'png'):
        raise ValueError(f"fmt must be 'jpeg' or 'png', got {fmt!r}")
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f'arr must be H×W×3 uint8 RGB or H×W uint8, got {arr.shape} {arr.dtype}')
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if arr.ndim == 3 else arr
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if fmt == 'jpeg' else []
    ok, out = cv2.imencode('.jpg' if fmt == 'jpeg' else '.png', bgr, params)
    if not ok:
        raise ValueError(f'OpenCV failed to encode a {arr.shape} image as {fmt}')
    return out.tobytes()
