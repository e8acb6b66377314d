"""What the server remembers: frames it received, a timeline for benchmarks, and responses."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ReceivedFrame:
    """One client request: a WebSocket text frame or an HTTP request body."""

    conn_id: int
    transport: Literal["ws", "http"]
    nbytes: int
    payload: dict[str, Any]
    at: float


@dataclass(frozen=True)
class TimelineEntry:
    """A moment in a response's life, for latency measurements."""

    conn_id: int
    kind: Literal["create_received", "created_sent", "first_delta_sent", "completed_sent"]
    response_id: str | None
    at: float


@dataclass
class ResponseRecord:
    """A finished response: the full expanded context (input + output) it leaves behind."""

    id: str
    instructions: str | None
    context: list[dict[str, Any]]
    store: bool
    lane: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ResponseStore:
    """Server-wide store of ``store=true`` responses; survives reconnects. Thread-safe."""

    def __init__(self) -> None:
        self._records: dict[str, ResponseRecord] = {}
        self._lock = threading.Lock()

    def put(self, record: ResponseRecord) -> None:
        with self._lock:
            self._records[record.id] = record

    def get(self, response_id: str) -> ResponseRecord | None:
        with self._lock:
            return self._records.get(response_id)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
