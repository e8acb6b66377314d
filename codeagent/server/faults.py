"""Fault injection for tests and scripts (``EmbeddedServer.faults``).

One-shot faults apply to the next matching request(s) or handshake(s), then disarm; a fault
armed with ``conn_id`` only matches requests of that connection (ids as in
``EmbeddedServer.record``). Settings (``max_frame_size``, ``connection_limit``) stay until
``clear()``. Armed from the test's thread, consumed on the server's loop, hence the lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

#: A frame no JSON parser accepts (the default of ``malformed_frame``).
MALFORMED_TEXT = '{"type": "response.output_text.delta", "delta": "cut'


@dataclass
class ErrorFault:
    """Answer with an error instead of a response."""

    code: str
    status: int
    message: str
    retry_after: float | None


@dataclass
class StreamFaults:
    """Faults that act while a response streams."""

    drop_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    raw_frames: tuple[str, ...] = ()
    #: Send ``malformed_text`` (not JSON) in place of the event at this index, then go on.
    malformed_at: int | None = None
    malformed_text: str = MALFORMED_TEXT


@dataclass(frozen=True)
class LimitBehaviour:
    """What happens when a WebSocket connection reaches its lifetime."""

    #: Send the ``websocket_connection_limit_reached`` error event before closing.
    error_event: bool = True
    #: Also close idle connections at their limit (not only on their next request).
    push_to_idle: bool = False
    close_code: int = 1000


class Faults:
    """The armed faults of one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._drops: list[tuple[int | None, int]] = []
            self._stalls: list[tuple[int | None, tuple[int, float]]] = []
            self._raws: list[tuple[int | None, str]] = []
            self._errors: list[tuple[int | None, ErrorFault]] = []
            self._forgets: list[tuple[int | None, bool]] = []
            self._reject_status: int | None = None
            self._reject_times: int | None = 0
            self._closes: list[tuple[int, str]] = []
            self._malformed: list[tuple[int | None, tuple[int, str]]] = []
            self._max_frame: int | None = None
            self._limit = LimitBehaviour()

    # ------------------------------------------------------------------ arming

    def drop_mid_stream(
        self, after_events: int = 3, times: int = 1, *, conn_id: int | None = None
    ) -> None:
        """Cut the connection abruptly after ``after_events`` events of the next response(s)."""
        with self._lock:
            self._drops += [(conn_id, after_events)] * times

    def forget_cached_responses(self, *, conn_id: int | None = None) -> None:
        """The next continuation gets ``previous_response_not_found``."""
        with self._lock:
            self._forgets.append((conn_id, True))

    def reject_websocket(self, status: int = 426, times: int | None = None) -> None:
        """Answer the next WebSocket handshake(s) with HTTP ``status`` (None = for ever)."""
        with self._lock:
            self._reject_status = status
            self._reject_times = times

    def error(
        self,
        code: str,
        status: int,
        message: str = "",
        times: int = 1,
        retry_after: float | None = None,
        *,
        conn_id: int | None = None,
    ) -> None:
        """Answer the next request(s) with an error ``code``/``status``."""
        message = message or f"Injected error: {code}"
        with self._lock:
            self._errors += [(conn_id, ErrorFault(code, status, message, retry_after))] * times

    def stall(
        self, after_events: int, seconds: float, times: int = 1, *, conn_id: int | None = None
    ) -> None:
        """Stop sending for ``seconds`` after ``after_events`` events."""
        with self._lock:
            self._stalls += [(conn_id, (after_events, seconds))] * times

    def send_raw(self, text: str, times: int = 1, *, conn_id: int | None = None) -> None:
        """Send ``text`` as a raw frame before the next response's events."""
        with self._lock:
            self._raws += [(conn_id, text)] * times

    def close_after_upgrade(self, code: int = 1008, times: int = 1, reason: str = "") -> None:
        """Accept the next WebSocket handshake(s), then close at once with ``code`` (some
        accounts see the real API do this with 1008)."""
        with self._lock:
            self._closes += [(code, reason)] * times

    def max_frame_size(self, nbytes: int | None) -> None:
        """Close connections with 1009 when a client frame exceeds ``nbytes`` (None: back to
        the server's own limit, which this can only lower)."""
        with self._lock:
            self._max_frame = nbytes

    def connection_limit(
        self, *, error_event: bool = True, push_to_idle: bool = False, close_code: int = 1000
    ) -> None:
        """How a connection ends at its lifetime (``EmbeddedServer.set_max_connection_age``):
        with or without the ``websocket_connection_limit_reached`` event, and whether idle
        connections are told and closed too (by default only a request on an aged socket)."""
        with self._lock:
            self._limit = LimitBehaviour(error_event, push_to_idle, close_code)

    def malformed_frame(
        self,
        at_event: int,
        text: str = MALFORMED_TEXT,
        times: int = 1,
        *,
        conn_id: int | None = None,
    ) -> None:
        """Send a non-JSON frame (WebSocket) or SSE ``data:`` line in place of event number
        ``at_event`` of the next response(s); the events after it follow as usual."""
        with self._lock:
            self._malformed += [(conn_id, (at_event, text))] * times

    # ------------------------------------------------------------------ consuming

    def take_close_after_upgrade(self) -> tuple[int, str] | None:
        with self._lock:
            return self._closes.pop(0) if self._closes else None

    def frame_limit(self) -> int | None:
        with self._lock:
            return self._max_frame

    def limit_behaviour(self) -> LimitBehaviour:
        with self._lock:
            return self._limit

    def take_reject(self) -> int | None:
        with self._lock:
            if self._reject_status is None:
                return None
            status = self._reject_status
            if self._reject_times is not None:
                self._reject_times -= 1
                if self._reject_times <= 0:
                    self._reject_status = None
            return status

    def take_error(self, conn_id: int | None = None) -> ErrorFault | None:
        with self._lock:
            return _take(self._errors, conn_id)

    def take_forget(self, conn_id: int | None = None) -> bool:
        with self._lock:
            return bool(_take(self._forgets, conn_id))

    def take_stream_faults(self, conn_id: int | None = None) -> StreamFaults:
        with self._lock:
            faults = StreamFaults()
            faults.drop_after = _take(self._drops, conn_id)
            stall = _take(self._stalls, conn_id)
            if stall is not None:
                faults.stall_after, faults.stall_seconds = stall
            raw = _take(self._raws, conn_id)
            if raw is not None:
                faults.raw_frames = (raw,)
            malformed = _take(self._malformed, conn_id)
            if malformed is not None:
                faults.malformed_at, faults.malformed_text = malformed
            return faults


def _take(armed: list[tuple[int | None, Any]], conn_id: int | None) -> Any:
    """Pop the first fault meant for any connection or for ``conn_id``."""
    for index, (target, value) in enumerate(armed):
        if target is None or target == conn_id:
            del armed[index]
            return value
    return None
