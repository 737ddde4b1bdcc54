"""Image ⇄ CameraInfo pairing by stamp, newest-frame-wins, with drop counting (no ROS inside).

Callbacks only store messages here; the worker thread takes the newest image together with the CameraInfo of
the same stamp (within ``tolerance_ns``). A camera whose CameraInfo never matches still gets processed after
``wait_ns`` with the most recent CameraInfo of the same size (and a note saying so), and a camera with no
CameraInfo at all runs with ``K = None`` (the Predictor's checkpoint or nominal intrinsics).
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass
class Frame:
    """One image ready for the worker. ``note`` explains a non-exact pairing ('' when exact)."""
    msg: Any              # the sensor_msgs Image / CompressedImage message, still encoded
    stamp_ns: int
    received_ns: int      # monotonic receive time (for end-to-end latency)
    K: np.ndarray | None  # 3×3 intrinsics of the image, or None
    info_size: tuple[int, int] | None  # (H, W) the CameraInfo declares
    note: str


class FramePairer:
    """Thread-safe store of the newest image and recent CameraInfos."""

    def __init__(self, tolerance_ns: int = 1_000_000, wait_ns: int = 200_000_000, history: int = 30) -> None:
        self.tolerance_ns, self.wait_ns = int(tolerance_ns), int(wait_ns)
        self._infos: deque[tuple[int, np.ndarray, tuple[int, int]]] = deque(maxlen=history)
        self._image: tuple[Any, int, int] | None = None
        self._cond = threading.Condition()
        self.dropped = 0           # images replaced by a newer one before the worker took them
        self.received = 0
        self.last_pair_ns: int | None = None  # monotonic time of the last image handed out with its own CameraInfo
        self.infos_received = 0

    def add_image(self, msg: Any, stamp_ns: int, now_ns: int) -> None:
        with self._cond:
            if self._image is not None:
                self.dropped += 1
            self._image = (msg, int(stamp_ns), int(now_ns))
            self.received += 1
            self._cond.notify_all()

    def add_info(self, stamp_ns: int, K: np.ndarray, size: tuple[int, int]) -> None:
        with self._cond:
            self._infos.append((int(stamp_ns), K, size))
            self.infos_received += 1
            self._cond.notify_all()

    def _match(self, stamp_ns: int):
        best = min(self._infos, key=lambda e: abs(e[0] - stamp_ns), default=None)
        if best is not None and abs(best[0] - stamp_ns) <= self.tolerance_ns:
            return best
        return None

    def _ready(self, now_ns: int) -> Frame | None:
        if self._image is None:
            return None
        msg, stamp, recv = self._image
        match = self._match(stamp)
        if match is not None:
            self._image, self.last_pair_ns = None, now_ns
            return Frame(msg, stamp, recv, match[1], match[2], '')
        if now_ns - recv < self.wait_ns:
            return None  # its CameraInfo may still be on the way
        if not self._infos:
            self._image = None
            return Frame(msg, stamp, recv, None, None, 'no CameraInfo received; using the model\'s intrinsics')
        latest = self._infos[-1]
        self._image = None
        return Frame(msg, stamp, recv, latest[1], latest[2],
                     f'no CameraInfo with this stamp (latest is {(latest[0] - stamp) * 1e-9:+.3f} s away); using it')

    def take(self, clock: Callable[[], int], timeout_s: float = 0.05) -> Frame | None:
        """The newest image once paired (or after ``wait_ns`` without a pair); None if nothing is ready.

        ``clock()`` returns monotonic nanoseconds (the same clock as ``now_ns`` of :meth:`add_image`).
        Waits at most ``timeout_s`` for new messages.
        """
        with self._cond:
            frame = self._ready(clock())
            if frame is None:
                self._cond.wait(timeout_s)
                frame = self._ready(clock())
            return frame
