"""What the server remembers: frames it received, a timeline for benchmarks, and responses."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

#: What a timeline entry marks in a response's life.
TimelineKind = Literal[
    "create_received", "created_sent", "first_delta_sent", "completed_sent", "peer_gone"
]


@dataclass(frozen=True)
class ReceivedFrame:
    """One client request: a WebSocket text frame or an HTTP request body.

    Only the raw text is kept (compact); ``payload`` decodes it on each access, ``{}`` for a
    frame that is not a JSON object.
    """

    conn_id: int
    transport: Literal["ws", "http"]
    nbytes: int
    raw: str | None
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        if self.raw is None:
            return {}
        value = json.loads(self.raw)
        return value if isinstance(value, dict) else {}


#: Bounds of :class:`FrameLog` (documented in the server README).
MAX_FRAMES = 4096
MAX_FRAME_BYTES_KEPT = 64 * 1024 * 1024
MAX_FRAMES_PER_CONNECTION = 1024
MAX_BYTES_PER_CONNECTION = 16 * 1024 * 1024


class FrameLog(list):
    """The frames received, oldest first, bounded per connection and server-wide.

    Appending evicts the oldest frames of the same connection beyond
    ``MAX_FRAMES_PER_CONNECTION`` / ``MAX_BYTES_PER_CONNECTION``, then the oldest frames of any
    connection beyond ``MAX_FRAMES`` / ``MAX_FRAME_BYTES_KEPT``; the newest frame is always kept.
    A plain list otherwise, so tests can index, slice, compare and ``clear()`` it.
    """

    def __init__(
        self,
        max_frames: int = MAX_FRAMES,
        max_bytes: int = MAX_FRAME_BYTES_KEPT,
        per_connection_frames: int = MAX_FRAMES_PER_CONNECTION,
        per_connection_bytes: int = MAX_BYTES_PER_CONNECTION,
    ) -> None:
        super().__init__()
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self.per_connection = (per_connection_frames, per_connection_bytes)
        self._lock = threading.Lock()
        self._recount()

    @property
    def kept_bytes(self) -> int:
        """Bytes of request text held now (what the byte bounds limit)."""
        return sum(_held(frame) for frame in list(self))

    def kept_bytes_of(self, conn_id: int) -> int:
        """Bytes of request text held now for one connection."""
        return sum(_held(frame) for frame in list(self) if frame.conn_id == conn_id)

    def append(self, frame: ReceivedFrame) -> None:
        with self._lock:
            if len(self) != sum(self._counts.values()):
                self._recount()  # the list was changed by other means (del, pop ...)
            super().append(frame)
            self._add(frame, 1)
            self._evict(frame.conn_id)

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._recount()

    def _recount(self) -> None:
        self._counts: dict[int, int] = {}
        self._bytes: dict[int, int] = {}
        self._total = 0
        for frame in self:
            self._add(frame, 1)

    def _add(self, frame: ReceivedFrame, sign: int) -> None:
        conn = frame.conn_id
        self._counts[conn] = self._counts.get(conn, 0) + sign
        self._bytes[conn] = self._bytes.get(conn, 0) + sign * _held(frame)
        self._total += sign * _held(frame)
        if not self._counts[conn]:
            del self._counts[conn], self._bytes[conn]

    def _evict(self, conn_id: int) -> None:
        max_count, max_bytes = self.per_connection
        while self._counts[conn_id] > 1 and (
            self._counts[conn_id] > max_count or self._bytes[conn_id] > max_bytes
        ):
            index = next(i for i, f in enumerate(self) if f.conn_id == conn_id)
            self._add(self.pop(index), -1)
        while len(self) > 1 and (len(self) > self.max_frames or self._total > self.max_bytes):
            self._add(self.pop(0), -1)


def _held(frame: ReceivedFrame) -> int:
    return frame.nbytes if frame.raw is not None else 0


class TimelineLog(list):
    """The timeline, keeping the newest ``max_entries`` entries."""

    def __init__(self, max_entries: int = 100_000) -> None:
        super().__init__()
        self.max_entries = max_entries

    def append(self, entry: TimelineEntry) -> None:
        super().append(entry)
        if len(self) > self.max_entries:
            del self[: len(self) - self.max_entries]


@dataclass(frozen=True)
class TimelineEntry:
    """A moment in a response's life, for latency measurements."""

    conn_id: int
    kind: TimelineKind
    response_id: str | None
    at: float
    #: For ``peer_gone``: how many events of the response were sent before the client left.
    events: int | None = None


@dataclass
class ResponseRecord:
    """A finished response: the full expanded context (input + output) it leaves behind."""

    id: str
    instructions: str | None
    context: list[dict[str, Any]]
    store: bool
    lane: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: Estimated tokens of ``context`` (without instructions), so a continuation adds only its
    #: new items' instead of re-encoding the whole chain each request. None: not counted.
    item_tokens: int | None = None


class ResponseStore:
    """Server-wide store of ``store=true`` responses; survives reconnects. Thread-safe.

    Keeps the ``max_records`` most recently stored or read responses (a context shares its
    items with its parent's, so each record costs little beyond its new items).
    """

    def __init__(self, max_records: int = 1000) -> None:
        self._records: OrderedDict[str, ResponseRecord] = OrderedDict()
        self.max_records = max_records
        self._lock = threading.Lock()

    def put(self, record: ResponseRecord) -> None:
        with self._lock:
            self._records[record.id] = record
            self._records.move_to_end(record.id)
            while len(self._records) > self.max_records:
                self._records.popitem(last=False)

    def get(self, response_id: str) -> ResponseRecord | None:
        with self._lock:
            record = self._records.get(response_id)
            if record is not None:
                self._records.move_to_end(response_id)
            return record

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


@dataclass(frozen=True)
class ResponseInput:
    """What one WebSocket response was asked to continue with, as the server took it: the
    request's own ``input`` items with any queued steering input prepended (an explicit
    continuation), or the steer input alone (an automatic successor)."""

    conn_id: int
    response_id: str
    lane: str | None
    previous_response_id: str | None
    items: list[dict[str, Any]]
    #: Ids of the accepted steers this response's ``response.created`` commits.
    steer_ids: tuple[str, ...] = ()
    #: Whether the server created the response itself (an automatic steering successor).
    automatic: bool = False


class InputLog(list):
    """The inputs of the newest ``max_entries`` WebSocket responses, oldest first."""

    def __init__(self, max_entries: int = 4096) -> None:
        super().__init__()
        self.max_entries = max_entries

    def append(self, entry: ResponseInput) -> None:
        super().append(entry)
        if len(self) > self.max_entries:
            del self[: len(self) - self.max_entries]

    def of(self, response_id: str) -> ResponseInput | None:
        """The input of ``response_id``, if it is still kept."""
        return next((entry for entry in reversed(self) if entry.response_id == response_id), None)
