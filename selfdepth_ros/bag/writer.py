"""Write rosbag2 files (MCAP or sqlite3) through ``rosbags``, one connection per topic created on first use.

Usage::

    with BagWriter('drive_bag', storage='mcap') as w:
        w.write_image('/camera/image_raw', rgb, 'rgb8', stamp_ns, 'camera_optical_frame')
        w.write_camera_info('/camera/camera_info', K, width, height, stamp_ns, 'camera_optical_frame')
        w.write_odometry('/gt/odom', T_odom_cam, stamp_ns, 'odom', 'camera_optical_frame')

The bag receive timestamp of every message is its ``stamp_ns`` (header stamp), so readers can index by either.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.rosbag2.errors import WriterError

from selfdepth_ros.bag import messages as m
from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.image_codec import rosbags_typestore

__all__ = ['BagWriter', 'STORAGES']

STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
BAG_VERSION = 9  # rosbag2 metadata version of Jazzy/Kilted


class BagWriter:
    """A context manager writing one rosbag2 directory at ``path`` (which must not exist yet).

    Args:
        path: the bag directory to create.
        storage: ``'mcap'`` or ``'sqlite3'``.
    """

    def __init__(self, path: str | Path, storage: str = 'mcap') -> None:
        self.path = Path(path)
        if storage not in STORAGES:
            raise BagError(f'bag {self.path}: storage must be one of {sorted(STORAGES)}, got {storage!r}')
        if self.path.exists():
            raise BagError(f'bag {self.path}: path exists already; BagWriter never overwrites, choose a new path')
        self.storage = storage
        self._writer = Writer(self.path, version=BAG_VERSION, storage_plugin=STORAGES[storage])
        self._connections: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        """Messages written per topic."""
        self._open = False

    def __enter__(self) -> BagWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # keep what was written even on an exception: a partial bag is still a valid bag

    def open(self) -> None:
        try:
            self._writer.open()
        except WriterError as exc:
            raise BagError(f'bag {self.path}: cannot create ({exc})') from exc
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self._writer.close()

    def set_custom_data(self, key: str, value: str) -> None:
        """Store a string ``key: value`` pair in ``metadata.yaml``'s ``custom_data`` (rosbag2 ≥ Iron), e.g.
        provenance of an imported bag; written when the bag is closed."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise BagError(f'bag {self.path}: custom data key and value must be strings, got {key!r}: {value!r}')
        self._writer.set_custom_data(key, value)

    def _connection(self, topic: str, msgtype: str) -> Any:
        conn = self._connections.get(topic)
        if conn is None:
            if not topic.startswith('/'):
                raise BagError(f'bag {self.path}: topic {topic!r} must be absolute (start with "/")')
            if msgtype not in rosbags_typestore().types:
                raise BagError(f'bag {self.path}, topic {topic}: unknown message type {msgtype!r}')
            conn = self._writer.add_connection(topic, msgtype, typestore=rosbags_typestore())
            self._connections[topic] = conn
            self.counts[topic] = 0
        elif conn.msgtype != msgtype:
            raise BagError(f'bag {self.path}, topic {topic}: already holds {conn.msgtype}, cannot write {msgtype}')
        return conn

    def write(self, topic: str, msgtype: str, msg: Any, stamp_ns: int) -> None:
        """Serialise any ``rosbags`` message object ``msg`` of type ``msgtype`` (e.g. ``'nav_msgs/msg/Odometry'``)
        to CDR and write it with receive time ``stamp_ns`` (integer ns)."""
        if not self._open:
            raise BagError(f'bag {self.path}: writer is not open (use `with BagWriter(...) as w`)')
        conn = self._connection(topic, msgtype)
        data = rosbags_typestore().serialize_cdr(msg, msgtype)
        self._writer.write(conn, int(stamp_ns), data)
        self.counts[topic] += 1

    def write_raw(self, topic: str, msgtype: str, data: bytes, stamp_ns: int) -> None:
        """Write already-serialised CDR bytes (used by tests to store corrupt messages)."""
        if not self._open:
            raise BagError(f'bag {self.path}: writer is not open (use `with BagWriter(...) as w`)')
        self._writer.write(self._connection(topic, msgtype), int(stamp_ns), bytes(data))
        self.counts[topic] += 1

    def write_image(self, topic: str, array: np.ndarray, encoding: str, stamp_ns: int, frame_id: str) -> None:
        """``sensor_msgs/Image`` from an HWC array in ``encoding`` (see :mod:`selfdepth_ros.image_codec`)."""
        self.write(topic, m.IMAGE, m.image_msg(array, encoding, stamp_ns, frame_id), stamp_ns)

    def write_compressed_image(self, topic: str, array_rgb: np.ndarray, fmt: str = 'jpeg', stamp_ns: int = 0,
                               frame_id: str = '') -> None:
        """``sensor_msgs/CompressedImage`` (jpeg or png) from an ``H×W×3`` uint8 RGB array."""
        self.write(topic, m.COMPRESSED_IMAGE, m.compressed_image_msg(array_rgb, fmt, stamp_ns, frame_id), stamp_ns)

    def write_camera_info(self, topic: str, K: np.ndarray, width: int, height: int, stamp_ns: int,
                          frame_id: str) -> None:
        """``sensor_msgs/CameraInfo``: pinhole ``K`` (3×3, pixels), plumb_bob with zero distortion."""
        self.write(topic, m.CAMERA_INFO, m.camera_info_msg(K, width, height, stamp_ns, frame_id), stamp_ns)

    def write_odometry(self, topic: str, T_odom_child: np.ndarray, stamp_ns: int, frame_id: str,
                       child_frame_id: str, twist: np.ndarray | None = None,
                       pose_covariance: np.ndarray | None = None) -> None:
        """``nav_msgs/Odometry``: pose ``T_odom_child`` (4×4, metres), optional twist (6,) and covariance (6×6)."""
        msg = m.odometry_msg(T_odom_child, stamp_ns, frame_id, child_frame_id, twist, pose_covariance)
        self.write(topic, m.ODOMETRY, msg, stamp_ns)
