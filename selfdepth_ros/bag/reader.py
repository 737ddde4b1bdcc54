"""Read any rosbag2 (MCAP or sqlite3) by topic through ``rosbags``, with automatic salvage of a truncated MCAP.

::

    with BagReader('drive_bag') as bag:
        print(bag.topics)                                   # {topic: TopicInfo(topic, msgtype, count)}
        for s in bag.samples('/camera/image_raw'):          # ImageSample(stamp_ns, frame_id, encoding, image)
            ...
        bag.skipped                                         # {topic: corrupt messages skipped}

Errors are :class:`BagError` naming the bag, the topic and the reason. A corrupt single message is skipped,
counted in :attr:`BagReader.skipped` and warned about once per topic; it never stops the read.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from selfdepth_ros.bag.errors import BagError
from selfdepth_ros.bag.salvage import SalvageResult, salvage_mcap
from selfdepth_ros.bag.samples import Sample, UnsupportedEncoding, to_sample
from selfdepth_ros.image_codec import rosbags_typestore

__all__ = ['BagReader', 'TopicInfo', 'RawMessage']


class TopicInfo(NamedTuple):
    topic: str
    msgtype: str
    count: int


class RawMessage(NamedTuple):
    topic: str
    msgtype: str
    log_time_ns: int
    """Bag receive time (ns)."""
    msg: Any
    """The deserialised ``rosbags`` message object."""


def _mcap_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix == '.mcap' else []
    return sorted(path.glob('*.mcap')) if path.is_dir() else []


def _salvage_typestore(results: list[SalvageResult]) -> Any:
    """Kilted definitions plus the ``ros2msg`` schemas stored in the salvaged files (for custom types)."""
    store = get_typestore(Stores.ROS2_KILTED)
    for res in results:
        for msgtype, (encoding, text) in res.msgdefs.items():
            if encoding == 'ros2msg' and msgtype not in store.types:
                try:
                    store.register(get_types_from_msg(text, msgtype))
                except Exception:  # noqa: BLE001 -- an unparsable schema leaves that type undecodable (skipped)
                    pass
    return store


class BagReader:
    """One rosbag2 opened for reading.

    Args:
        path: a bag directory (``metadata.yaml`` + ``.mcap``/``.db3``) or a bare ``.mcap`` file.
        salvage: for an MCAP that ``rosbags`` cannot open (truncated, no summary), read its intact messages
            with :func:`~selfdepth_ros.bag.salvage.salvage_mcap` and warn, instead of failing.

    Attributes:
        storage: ``'mcap'`` or ``'sqlite3'``.
        salvage_results: the :class:`SalvageResult` per file when the bag was salvaged, else ``[]``.
        skipped: corrupt messages skipped so far, per topic.
        first_skip_reason: per topic, why its first skipped message was skipped.
    """

    def __init__(self, path: str | Path, *, salvage: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f'bag {self.path}: no such file or directory')
        self.storage = 'mcap' if _mcap_files(self.path) else 'sqlite3'
        self.salvage_results: list[SalvageResult] = []
        self.skipped: dict[str, int] = {}
        self.first_skip_reason: dict[str, str] = {}
        self._reader: AnyReader | None = None
        self._salvaged: list[RawMessage] = []
        try:
            self._reader = AnyReader([self.path], default_typestore=rosbags_typestore())
            self._reader.open()
        except Exception as exc:  # noqa: BLE001 -- rosbags raises several unrelated types for a damaged bag
            self._reader = None
            files = _mcap_files(self.path)
            if not (salvage and files):
                raise BagError(f'bag {self.path}: cannot be opened ({type(exc).__name__}: {exc})') from exc
            self._open_salvaged(files, exc)
        if not self._topics:
            raise BagError(f'bag {self.path}: empty (no topics)')
        if sum(t.count for t in self._topics.values()) == 0:
            raise BagError(f'bag {self.path}: empty (no messages on topics {sorted(self._topics)})')

    def _open_salvaged(self, files: list[Path], exc: Exception) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # one warning for the bag below, not one per file
            self.salvage_results = [salvage_mcap(f, warn=False) for f in files]
        store = _salvage_typestore(self.salvage_results)
        for res in self.salvage_results:
            for rec in res.messages:
                try:
                    msg = store.deserialize_cdr(rec.data, rec.msgtype)
                except Exception:  # noqa: BLE001 -- corrupt CDR: skip and count
                    self.skipped[rec.topic] = self.skipped.get(rec.topic, 0) + 1
                    continue
                self._salvaged.append(RawMessage(rec.topic, rec.msgtype, rec.log_time_ns, msg))
        self._salvaged.sort(key=lambda r: r.log_time_ns)
        lost = sum(r.lost_messages_estimate for r in self.salvage_results)
        warnings.warn(f'bag {self.path}: rosbags could not open it ({type(exc).__name__}: {exc}); salvaged '
                      f'{len(self._salvaged)} intact messages from {len(files)} MCAP file(s), about {lost} '
                      'messages lost', UserWarning, stacklevel=3)

    # -- context manager -------------------------------------------------------------------------------------
    def __enter__(self) -> BagReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def salvaged(self) -> bool:
        return bool(self.salvage_results)

    # -- topics ----------------------------------------------------------------------------------------------
    @property
    def _topics(self) -> dict[str, TopicInfo]:
        if self._reader is not None:
            out: dict[str, TopicInfo] = {}
            for c in self._reader.connections:
                prev = out.get(c.topic)
                out[c.topic] = TopicInfo(c.topic, c.msgtype, c.msgcount + (prev.count if prev else 0))
            return out
        counts: dict[str, TopicInfo] = {}
        for r in self._salvaged:
            prev = counts.get(r.topic)
            counts[r.topic] = TopicInfo(r.topic, r.msgtype, 1 + (prev.count if prev else 0))
        return counts

    @property
    def topics(self) -> dict[str, TopicInfo]:
        """``{topic: TopicInfo(topic, msgtype, count)}``, sorted by topic name."""
        return dict(sorted(self._topics.items()))

    def require(self, topic: str, msgtypes: Iterable[str] | None = None) -> TopicInfo:
        """The topic's info; :class:`BagError` naming the available topics when it is missing or of another type."""
        info = self._topics.get(topic)
        available = ', '.join(f'{t} ({i.msgtype}, {i.count})' for t, i in self.topics.items())
        if info is None:
            raise BagError(f'bag {self.path}: missing topic {topic!r}; available topics: {available}')
        allowed = list(msgtypes) if msgtypes is not None else None
        if allowed is not None and info.msgtype not in allowed:
            raise BagError(f'bag {self.path}, topic {topic}: type {info.msgtype}, expected one of {allowed}')
        if info.count == 0:
            raise BagError(f'bag {self.path}, topic {topic}: no messages')
        return info

    # -- messages --------------------------------------------------------------------------------------------
    def count_skipped(self, topic: str, reason: str) -> None:
        """Count a corrupt message of ``topic`` as skipped (warns on the first one of the topic)."""
        self.skipped[topic] = self.skipped.get(topic, 0) + 1
        self.first_skip_reason.setdefault(topic, reason)
        if self.skipped[topic] == 1:
            warnings.warn(f'bag {self.path}, topic {topic}: skipping corrupt message ({reason}); further ones on '
                          'this topic are counted in BagReader.skipped', UserWarning, stacklevel=3)

    def messages(self, topic: str, start_ns: int | None = None, stop_ns: int | None = None) -> Iterator[RawMessage]:
        """Deserialised messages of ``topic`` with receive time in ``[start_ns, stop_ns)``, in time order.

        Messages whose CDR fails to deserialise are skipped and counted in :attr:`skipped`.
        """
        self.require(topic)
        if self._reader is None:
            for r in self._salvaged:
                if r.topic == topic and (start_ns is None or r.log_time_ns >= start_ns) and (
                        stop_ns is None or r.log_time_ns < stop_ns):
                    yield r
            return
        conns = [c for c in self._reader.connections if c.topic == topic]
        for conn, log_time, raw in self._reader.messages(conns, start=start_ns, stop=stop_ns):
            try:
                msg = self._reader.deserialize(raw, conn.msgtype)
            except Exception as exc:  # noqa: BLE001 -- corrupt CDR: skip and count, never fatal
                self.count_skipped(topic, f'{type(exc).__name__}: {exc}')
                continue
            yield RawMessage(topic, conn.msgtype, int(log_time), msg)

    def samples(self, topic: str, start_ns: int | None = None, stop_ns: int | None = None,
                with_log_time: bool = False) -> Iterator[Sample] | Iterator[tuple[int, Sample]]:
        """Typed samples of ``topic`` (see :mod:`selfdepth_ros.bag.samples`), corrupt messages skipped and counted.

        With ``with_log_time`` yields ``(log_time_ns, sample)``. An unsupported image encoding raises
        :class:`BagError` naming the bag, topic and encoding.
        """
        for raw in self.messages(topic, start_ns, stop_ns):
            try:
                sample = to_sample(raw.msgtype, raw.msg, raw.log_time_ns)
            except UnsupportedEncoding as exc:
                raise BagError(f'bag {self.path}, topic {topic}: {exc}') from exc
            except ValueError as exc:
                self.count_skipped(topic, str(exc))
                continue
            yield (raw.log_time_ns, sample) if with_log_time else sample

    def __repr__(self) -> str:
        return f'BagReader({str(self.path)!r}, storage={self.storage!r}, salvaged={self.salvaged})'
