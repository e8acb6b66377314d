"""State shared by every connection of one server: script, store, faults, records, settings."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any, Literal

from codeagent.responses.catalog import Catalog, load_catalog
from codeagent.server.backends.base import Backend
from codeagent.server.backends.scripted import ScriptedBackend
from codeagent.server.faults import Faults
from codeagent.server.records import (
    FrameLog,
    InputLog,
    ReceivedFrame,
    ResponseStore,
    TimelineEntry,
    TimelineKind,
    TimelineLog,
)
from codeagent.server.script import Script, StepFault, echo_script

#: The real API refuses a ~20 MB ``response.create`` with close code 1009 (opencode#42572).
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024


def resolve_script(script: Script | str | Path | None) -> Script:
    """A script object from a Script, a file path, ``"demo"`` or None (the echo script)."""
    if script is None:
        return echo_script()
    if isinstance(script, Script):
        return script
    if str(script) == "demo":
        from codeagent.server.demo import DEMO_SCRIPT

        return DEMO_SCRIPT
    return Script.load(script)


class ServerState:
    """Everything a request handler may need, besides its own connection."""

    def __init__(
        self,
        script: Script | str | Path | None = None,
        *,
        api_key: str | None = None,
        max_connection_age: float = 3600.0,
        backend: Backend | None = None,
        any_model: bool = False,
        catalog: Catalog | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ):
        self.script = resolve_script(script)
        #: Models the server knows (unknown or shut-down ones get ``model_not_found``) ...
        self.catalog = catalog or load_catalog()
        #: ... unless any model name is accepted (``--any-model``).
        self.any_model = any_model
        #: Largest WebSocket frame / HTTP body accepted (1009 close / 413 above it).
        self.max_frame_bytes = max_frame_bytes
        self.api_key = api_key
        self.max_connection_age = max_connection_age
        self.backend: Backend = backend or ScriptedBackend(lambda: self.script)
        self.faults = Faults()
        self.store = ResponseStore()
        self.record = FrameLog()
        self.timeline = TimelineLog()
        #: Each WebSocket response's input as taken, steering input included.
        self.inputs = InputLog()
        self.connections_opened = 0
        #: Open WebSocket connections (``Connection`` objects), for changing their lifetime.
        self._open: set = set()
        self._fault_uses: dict[int, tuple[StepFault, int]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_conn_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def connection_opened(self, connection: object) -> None:
        with self._lock:
            self._open.add(connection)

    def connection_closed(self, connection: object) -> None:
        with self._lock:
            self._open.discard(connection)

    def open_connections(self) -> list:
        """A snapshot of the open connections (safe from any thread)."""
        with self._lock:
            return list(self._open)

    def use_step_fault(self, fault: StepFault) -> bool:
        """Whether a step's fault still fires (it fires ``fault.times`` times per server)."""
        with self._lock:
            _, used = self._fault_uses.get(id(fault), (fault, 0))
            if used >= fault.times:
                return False
            self._fault_uses[id(fault)] = (fault, used + 1)
            return True

    def note_frame(
        self, conn_id: int, transport: Literal["ws", "http"], raw: bytes | str, payload: Any
    ) -> None:
        """Record a received request; its text is kept only when it decoded to a JSON object."""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
        text = None
        if isinstance(payload, dict) and payload:
            text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        frame = ReceivedFrame(conn_id, transport, len(data), text, time.monotonic())
        self.record.append(frame)

    def mark(
        self, conn_id: int, kind: TimelineKind, response_id: str | None, events: int | None = None
    ) -> None:
        entry = TimelineEntry(conn_id, kind, response_id, time.monotonic(), events)
        self.timeline.append(entry)
