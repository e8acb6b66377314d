"""State shared by every connection of one server: script, store, faults, records, settings."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from codeagent.server.backends.base import Backend
from codeagent.server.backends.scripted import ScriptedBackend
from codeagent.server.faults import Faults
from codeagent.server.records import ReceivedFrame, ResponseStore, TimelineEntry
from codeagent.server.script import Script, StepFault, echo_script


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
    ):
        self.script = resolve_script(script)
        self.api_key = api_key
        self.max_connection_age = max_connection_age
        self.backend: Backend = backend or ScriptedBackend(lambda: self.script)
        self.faults = Faults()
        self.store = ResponseStore()
        self.record: list[ReceivedFrame] = []
        self.timeline: list[TimelineEntry] = []
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

    def note_frame(self, conn_id: int, transport: str, raw: bytes | str, payload: dict) -> None:
        nbytes = len(raw.encode() if isinstance(raw, str) else raw)
        self.record.append(ReceivedFrame(conn_id, transport, nbytes, payload, time.monotonic()))  # type: ignore[arg-type]

    def mark(self, conn_id: int, kind: str, response_id: str | None) -> None:
        self.timeline.append(TimelineEntry(conn_id, kind, response_id, time.monotonic()))  # type: ignore[arg-type]
