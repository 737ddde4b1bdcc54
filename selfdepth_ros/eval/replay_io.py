"""The wire side of ``selfdepth replay``: camera frames out of a bag, node outputs into a bag.

- :func:`camera_frames`: the bag's images as CDR bytes, each preceded by its CameraInfo (stamps untouched).
- :class:`ReceiveClock`: puts a wall-clock receive moment on the input bag's timeline (see
  :mod:`selfdepth_ros.eval.replay`, "Receive times").
- :class:`Recorder`: subscribes to the node's outputs and writes each message as it arrives.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.reader import BagReader
from selfdepth_ros.image_codec import rosbags_typestore

IMAGE_TYPES = (m.IMAGE, m.COMPRESSED_IMAGE)
DIAGNOSTICS_TOPIC = '/diagnostics'
PAIR_TOLERANCE_NS = 1_000_000  # CameraInfo sent with an image when its stamp is at most this much later


# -- the input side -----------------------------------------------------------------------------------------
@dataclass
class Frame:
    """One camera frame to send: ``messages`` = ``(topic, msgtype, CDR bytes)``, its CameraInfo(s) first."""

    log_ns: int
    stamp_ns: int
    messages: list[tuple[str, str, bytes]]


def camera_frames(bag: Path, image_topic: str, info_topic: str | None,
                  max_frames: int | None = None) -> Iterator[Frame]:
    """The bag's images in receive order, each preceded by the CameraInfos stamped up to its own stamp.

    The CameraInfo goes first so the node pairs the image with its own intrinsics at once; messages are
    re-serialised unchanged (rosbags → CDR), so stamps, frame ids and encodings are exactly the bag's.
    """
    store = rosbags_typestore()
    with BagReader(bag) as images, BagReader(bag) as infos:
        images.require(image_topic, IMAGE_TYPES)
        info_iter = iter(infos.messages(info_topic)) if info_topic and info_topic in infos.topics else iter(())
        pending = None
        for n, raw in enumerate(images.messages(image_topic)):
            if max_frames is not None and n >= max_frames:
                return
            stamp = m.stamp_ns_of(raw.msg.header)
            out = []
            while True:
                pending = next(info_iter, None) if pending is None else pending
                if pending is None or m.stamp_ns_of(pending.msg.header) > stamp + PAIR_TOLERANCE_NS:
                    break
                out.append((info_topic, pending.msgtype, bytes(store.serialize_cdr(pending.msg, pending.msgtype))))
                pending = None
            out.append((image_topic, raw.msgtype, bytes(store.serialize_cdr(raw.msg, raw.msgtype))))
            yield Frame(raw.log_time_ns, stamp, out)


def message_class(msgtype: str) -> type:
    """``'sensor_msgs/msg/Image'`` → the rclpy message class."""
    package, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{package}.msg'), name)


# -- the output side ----------------------------------------------------------------------------------------
class ReceiveClock:
    """Maps a wall-clock receive moment onto the input bag's timeline (module docstring, 'Receive times')."""

    def __init__(self) -> None:
        self._sent: dict[int, tuple[int, int]] = {}   # stamp -> (input log time, monotonic send time)
        self._last: tuple[int, int] | None = None

    def sent(self, stamp_ns: int, log_ns: int) -> None:
        self._last = self._sent[stamp_ns] = (int(log_ns), time.monotonic_ns())

    def log_time(self, stamp_ns: int | None, recv_mono_ns: int) -> int:
        log, mono = self._sent.get(stamp_ns) or self._last or (int(stamp_ns or 0), recv_mono_ns)
        return log + (recv_mono_ns - mono)

    def delay_ms(self, stamp_ns: int, recv_mono_ns: int) -> float | None:
        sent = self._sent.get(stamp_ns)
        return None if sent is None else (recv_mono_ns - sent[1]) * 1e-6


def _stamp_ns(msg: Any) -> int | None:
    header = getattr(msg, 'header', None)
    if header is None and getattr(msg, 'transforms', None):
        header = msg.transforms[0].header  # tf2_msgs/TFMessage
    return None if header is None else int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


class Recorder:
    """Subscribes (reliable, depth 100) to ``topics`` on ``node`` and writes every message into ``writer``.

    ``synced`` maps the stamps seen on ``sync_topic`` (the node's ``~/depth``) to their graph delay (ms).
    """

    def __init__(self, node, writer, topics: dict[str, str], clock: ReceiveClock, sync_topic: str) -> None:
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from rclpy.serialization import serialize_message
        self._serialize, self.writer, self.clock, self.sync_topic = serialize_message, writer, clock, sync_topic
        self.synced: dict[int, float | None] = {}
        self.node_dropped: int | None = None
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.subscriptions = {
            topic: node.create_subscription(message_class(msgtype), topic,
                                            lambda msg, t=topic, mt=msgtype: self._on(t, mt, msg), qos)
            for topic, msgtype in topics.items()}

    def _on(self, topic: str, msgtype: str, msg: Any) -> None:
        recv = time.monotonic_ns()
        stamp = _stamp_ns(msg)
        # The bytes came off DDS as CDR; rclpy re-serialises the same CDR, rosbags only stores it.
        self.writer.write_raw(topic, msgtype, self._serialize(msg), self.clock.log_time(stamp, recv))
        if topic == self.sync_topic and stamp is not None:
            self.synced[stamp] = self.clock.delay_ms(stamp, recv)
        elif topic == DIAGNOSTICS_TOPIC:
            for status in msg.status:
                if status.name.endswith(': perception'):
                    values = {kv.key: kv.value for kv in status.values}
                    if values.get('frames_dropped', '').isdigit():
                        self.node_dropped = int(values['frames_dropped'])
