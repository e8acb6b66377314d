"""Fault injection for tests: each armed fault applies to the next matching request(s), then
disarms. Armed from the test's thread, consumed on the server's loop, hence the lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass


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


class Faults:
    """The armed faults of one server (see the contract in the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._drops: list[int] = []
            self._stalls: list[tuple[int, float]] = []
            self._raws: list[str] = []
            self._errors: list[ErrorFault] = []
            self._forget = 0
            self._reject_status: int | None = None
            self._reject_times: int | None = 0

    # ------------------------------------------------------------------ arming

    def drop_mid_stream(self, after_events: int = 3, times: int = 1) -> None:
        """Cut the connection abruptly after ``after_events`` events of the next response(s)."""
        with self._lock:
            self._drops += [after_events] * times

    def forget_cached_responses(self) -> None:
        """The next continuation gets ``previous_response_not_found``."""
        with self._lock:
            self._forget += 1

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
    ) -> None:
        """Answer the next request(s) with an error ``code``/``status``."""
        message = message or f"Injected error: {code}"
        with self._lock:
            self._errors += [ErrorFault(code, status, message, retry_after)] * times

    def stall(self, after_events: int, seconds: float, times: int = 1) -> None:
        """Stop sending for ``seconds`` after ``after_events`` events."""
        with self._lock:
            self._stalls += [(after_events, seconds)] * times

    def send_raw(self, text: str, times: int = 1) -> None:
        """Send ``text`` as a raw frame before the next response's events."""
        with self._lock:
            self._raws += [text] * times

    # ------------------------------------------------------------------ consuming

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

    def take_error(self) -> ErrorFault | None:
        with self._lock:
            return self._errors.pop(0) if self._errors else None

    def take_forget(self) -> bool:
        with self._lock:
            if self._forget:
                self._forget -= 1
                return True
            return False

    def take_stream_faults(self) -> StreamFaults:
        with self._lock:
            faults = StreamFaults()
            if self._drops:
                faults.drop_after = self._drops.pop(0)
            if self._stalls:
                faults.stall_after, faults.stall_seconds = self._stalls.pop(0)
            if self._raws:
                faults.raw_frames = (self._raws.pop(0),)
            return faults
