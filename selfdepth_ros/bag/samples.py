"""Typed samples decoded from bag messages: images as numpy, CameraInfo as K, Odometry as a 4×4 pose.

A sample's ``stamp_ns`` is the message's ``header.stamp`` (integer ns), or the bag receive time when the
header stamp is zero (drivers that never set it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from selfdepth_ros.bag import messages as m
from selfdepth_ros.image_codec import ENCODINGS, compressed_to_numpy, image_to_numpy, to_rgb8
from selfdepth_ros.msg_fields import camera_info_K

__all__ = ['ImageSample', 'CameraInfoSample', 'OdometrySample', 'MessageSample', 'Sample', 'to_sample',
           'UnsupportedEncoding', 'IMAGE_TYPES', 'header_stamp']

IMAGE_TYPES = (m.IMAGE, m.COMPRESSED_IMAGE)


class UnsupportedEncoding(ValueError):
    """An image topic uses an encoding the codec cannot decode (a topic-level problem, not a corrupt message)."""


@dataclass(frozen=True, eq=False)
class ImageSample:
    stamp_ns: int
    frame_id: str
    encoding: str
    """Encoding of ``image`` (for CompressedImage: ``rgb8``, ``rgba8``, ``mono8`` or ``mono16`` after decoding)."""
    image: np.ndarray
    """``H×W`` or ``H×W×C`` in ``encoding``'s dtype and channel order."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]

    def rgb8(self) -> np.ndarray:
        """``H×W×3`` uint8 RGB (see :func:`selfdepth_ros.image_codec.to_rgb8`)."""
        return to_rgb8(self.image, self.encoding)


@dataclass(frozen=True, eq=False)
class CameraInfoSample:
    stamp_ns: int
    frame_id: str
    K: np.ndarray
    """3×3 float64 intrinsics in pixels."""
    width: int
    height: int
    D: np.ndarray
    distortion_model: str

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True, eq=False)
class OdometrySample:
    stamp_ns: int
    frame_id: str
    child_frame_id: str
    T: np.ndarray
    """4×4 float64 ``T_frame_child`` (metres)."""
    twist: np.ndarray
    """(6,) ``[vx vy vz wx wy wz]`` in ``child_frame_id`` (m/s, rad/s)."""


@dataclass(frozen=True, eq=False)
class MessageSample:
    """Any other message type, undecoded beyond ``rosbags``' deserialisation."""
    stamp_ns: int
    msgtype: str
    msg: Any


Sample = Union[ImageSample, CameraInfoSample, OdometrySample, MessageSample]


def header_stamp(msg: Any, log_time_ns: int) -> tuple[int, str]:
    """(stamp_ns, frame_id): ``header.stamp``, or ``log_time_ns`` when there is no header or it is zero."""
    header = getattr(msg, 'header', None)
    if header is None:
        return int(log_time_ns), ''
    stamp = m.stamp_ns_of(header)
    return (stamp if stamp else int(log_time_ns)), str(header.frame_id)


def _decode_image(msgtype: str, msg: Any) -> tuple[str, np.ndarray]:
    if msgtype == m.COMPRESSED_IMAGE:
        img = compressed_to_numpy(msg)
        if img.ndim == 2:
            return ('mono16' if img.dtype == np.uint16 else 'mono8'), img
        return ('rgba8' if img.shape[2] == 4 else 'rgb8'), img
    if msg.encoding not in ENCODINGS:
        raise UnsupportedEncoding(f'unsupported image encoding {msg.encoding!r}; supported: {sorted(ENCODINGS)}')
    return msg.encoding, image_to_numpy(msg)


def to_sample(msgtype: str, msg: Any, log_time_ns: int) -> Sample:
    """Decode one deserialised message. Raises ``UnsupportedEncoding`` for an unknown image encoding and
    ``ValueError`` for a corrupt message (inconsistent sizes, undecodable compressed data, bad quaternion)."""
    stamp, frame_id = header_stamp(msg, log_time_ns)
    if msgtype in IMAGE_TYPES:
        encoding, image = _decode_image(msgtype, msg)
        return ImageSample(stamp, frame_id, encoding, image)
    if msgtype == m.CAMERA_INFO:
        K = camera_info_K(msg)  # the node's rule: absurd intrinsics are refused with the reason
        return CameraInfoSample(stamp, frame_id, K, int(msg.width), int(msg.height),
                                np.asarray(msg.d, dtype=np.float64), str(msg.distortion_model))
    if msgtype == m.ODOMETRY:
        tw = msg.twist.twist
        twist = np.array([tw.linear.x, tw.linear.y, tw.linear.z, tw.angular.x, tw.angular.y, tw.angular.z])
        return OdometrySample(stamp, frame_id, str(msg.child_frame_id), m.pose_matrix_of(msg.pose.pose), twist)
    return MessageSample(stamp, msgtype, msg)
