"""Salvage the intact messages of a truncated MCAP file (a recording cut off by a power loss).

``rosbags`` cannot open an MCAP without its footer/summary. The ``mcap`` library's
:class:`~mcap.stream_reader.StreamReader` reads records front to back until the truncation raises; we keep
everything read until then. A chunk cut in the middle is lost whole by ``StreamReader``, so for an
chunk we also decode its complete leading records (zstd/lz4 decode a cut stream front to back): a whole
bag is often one or a few ~1 MB chunks, so the cut chunk holds most of the recording.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from mcap.data_stream import ReadDataStream
from mcap.exceptions import EndOfFile, McapError
from mcap.records import Channel, Chunk, Message, Schema
from mcap.stream_reader import StreamReader, breakup_chunk

from selfdepth_ros.bag.errors import BagError

__all__ = ['SalvagedMessage', 'SalvageResult', 'salvage_mcap']

_OP_CHUNK, _OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE = 0x06, 0x03, 0x04, 0x05


@dataclass(frozen=True)
class SalvagedMessage:
    topic: str
    msgtype: str
    log_time_ns: int
    data: bytes
    """Serialised (CDR) message bytes."""


@dataclass
class SalvageResult:
    """What :func:`salvage_mcap` recovered from one ``.mcap`` file."""
    path: Path
    messages: list[SalvagedMessage] = field(default_factory=list)
    msgdefs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """msgtype → (schema encoding, definition text) as stored in the file."""
    truncated: bool = False
    lost_bytes: int = 0
    """Bytes from the first damaged top-level record to the file end (part may have been decoded)."""
    lost_messages_estimate: int = 0
    """Messages lost: exact when the bag's metadata.yaml gives a count, else an estimate of those in the cut
    chunk (a power loss writes nothing after it; chunks after the cut of a damaged *copy* are not counted)."""
    expected_messages: int | None = None
    reason: str = ''

    @property
    def recovered(self) -> int:
        return len(self.messages)

    @property
    def warning(self) -> str:
        return (f'bag {self.path}: truncated/corrupt MCAP ({self.reason}); salvaged {self.recovered} intact '
                f'messages, lost about {self.lost_messages_estimate} messages ({self.lost_bytes} bytes)')


class _StrictIO:
    """A byte stream whose short read raises: mcap's ReadDataStream accepts a short read as a whole record."""

    def __init__(self, raw) -> None:
        self.raw = raw

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if n is not None and n >= 0 and len(data) < n:
            raise EndOfFile()
        return data

    def tell(self) -> int:
        return self.raw.tell()


class _Collector:
    def __init__(self, result: SalvageResult) -> None:
        self.result = result
        self.schemas: dict[int, Schema] = {}
        self.channels: dict[int, Channel] = {}

    def add(self, record: object) -> None:
        if isinstance(record, Schema):
            self.schemas[record.id] = record
            self.result.msgdefs[record.name] = (record.encoding, record.data.decode('utf-8', 'replace'))
        elif isinstance(record, Channel):
            self.channels[record.id] = record
        elif isinstance(record, Message):
            channel = self.channels.get(record.channel_id)
            schema = self.schemas.get(channel.schema_id) if channel else None
            if channel is not None and schema is not None:  # a message of an unknown channel is not decodable
                self.result.messages.append(SalvagedMessage(channel.topic, schema.name, record.log_time,
                                                            bytes(record.data)))


def _decompress_prefix(data: bytes, compression: str) -> bytes:
    """Decompress as much of a cut compressed stream as possible (zstd/lz4 stream decoders allow it)."""
    if compression == '':
        return data
    try:
        if compression == 'zstd':
            import zstandard
            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
        if compression == 'lz4':
            import lz4.frame
            return lz4.frame.LZ4FrameDecompressor().decompress(data)
    except Exception:  # noqa: BLE001 -- damaged beyond the cut: nothing more to read
        return b''
    return b''


def _partial_chunk(tail: bytes, collector: _Collector) -> int:
    """Read the complete leading records of a chunk cut in the middle (``tail`` starts at its opcode).

    Returns an estimate of the messages lost in it: the undecoded part of its declared uncompressed size over
    the mean size of the message records read from it (0 when ``tail`` is not a chunk: only index/summary
    records, which hold no messages, were cut; 1 for a single cut top-level message record).
    """
    stream = ReadDataStream(_StrictIO(io.BytesIO(tail)))
    try:
        opcode = stream.read1()
        if opcode != _OP_CHUNK:
            return int(opcode == _OP_MESSAGE)
        stream.read8(), stream.read8(), stream.read8()  # record length, start and end time
        uncompressed_size = stream.read8()
        stream.read4()  # crc
        compression = stream.read(stream.read4()).decode()
        stream.read8()  # records length (beyond the file end)
    except (McapError, EOFError, ValueError, UnicodeDecodeError):
        return 1
    records = _decompress_prefix(tail[stream.count:], compression)
    inner = ReadDataStream(_StrictIO(io.BytesIO(records)))
    used, msg_bytes, n_msgs = 0, 0, 0
    try:
        while True:
            opcode, length = inner.read1(), inner.read8()
            body = ReadDataStream(io.BytesIO(inner.read(length)))  # raises EndOfFile on a partial record
            if opcode == _OP_SCHEMA:
                collector.add(Schema.read(body))
            elif opcode == _OP_CHANNEL:
                collector.add(Channel.read(body))
            elif opcode == _OP_MESSAGE:
                collector.add(Message.read(body, length))
                msg_bytes, n_msgs = msg_bytes + 9 + length, n_msgs + 1
            used = inner.count
    except (McapError, EOFError, ValueError, UnicodeDecodeError):
        pass
    mean = msg_bytes / n_msgs if n_msgs else None
    missing = max(0, uncompressed_size - used)
    return max(1, round(missing / mean)) if mean and missing else int(missing > 0)


def _expected_count(path: Path) -> int | None:
    meta = path.parent / 'metadata.yaml'
    try:
        info = yaml.safe_load(meta.read_text())['rosbag2_bagfile_information']
        for entry in info.get('files', []):
            if Path(entry['path']).name == path.name:
                return int(entry['message_count'])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        pass
    return None


def salvage_mcap(path: str | Path, *, warn: bool = True) -> SalvageResult:
    """Read every intact message of the MCAP file ``path``, stopping at the first damaged record.

    Returns a :class:`SalvageResult` (messages in file order, with lost-byte/lost-message counts); emits a
    ``UserWarning`` naming the bag when anything was lost (``warn=False`` to silence). Raises
    :class:`BagError` when the file is not an MCAP at all or holds no intact message.
    """
    path = Path(path)
    result = SalvageResult(path=path)
    collector = _Collector(result)
    size = path.stat().st_size
    with path.open('rb') as f:
        if f.read(8) != b'\x89MCAP0\r\n':
            raise BagError(f'bag {path}: not an MCAP file (bad magic bytes)')
        f.seek(0)
        # record_size_limit=size: a record longer than the file is a cut one
        reader = StreamReader(_StrictIO(f), emit_chunks=True, record_size_limit=size)
        good_end, lost_in_cut = 8, 0
        try:
            for record in reader.records:
                for sub in (breakup_chunk(record) if isinstance(record, Chunk) else [record]):
                    collector.add(sub)
                good_end = f.tell()
            good_end = size
        except Exception as exc:  # noqa: BLE001 -- any damage ends the readable part; keep what was read
            result.truncated, result.reason = True, f'{type(exc).__name__}: {exc}'.rstrip(': ')
            f.seek(good_end)
            before = len(result.messages)
            lost_in_cut = _partial_chunk(f.read(), collector)
            if len(result.messages) > before:
                result.reason += f'; {len(result.messages) - before} messages decoded from the cut chunk'
    if result.truncated:
        result.lost_bytes = size - good_end
        result.expected_messages = _expected_count(path)
        result.lost_messages_estimate = (lost_in_cut if result.expected_messages is None
                                         else max(0, result.expected_messages - result.recovered))
        if warn:
            warnings.warn(result.warning, UserWarning, stacklevel=2)
    if not result.messages:
        raise BagError(f'bag {path}: no intact message could be salvaged ({result.reason or "empty MCAP"})')
    return result
