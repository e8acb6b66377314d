"""The transport a conversation talks through: WebSocket mode, HTTP/SSE, or ``auto``.

``auto`` uses WebSocket and falls back to HTTP when the server refuses the upgrade (HTTP 426,
no WebSocket endpoint, repeated handshake failures), refuses a frame as too big (close code
1009), or the socket fails ``WS_FAILURE_BUDGET`` times in a row (dropped, closed right after the
upgrade with 1008, corrupt frames). The fallback is not for good: at a call boundary after
``RETURN_DELAYS`` (1, 5, then every 15 minutes) it tries WebSocket again, and once a response
has come back over the new socket it reports that WebSocket is back. Each change is queued for
the caller as a ``TransportNotice`` (``take_notices``). The WebSocket connection is opened
lazily, reopened after it drops, and rotated at a turn boundary (``ensure_fresh``) before it
reaches the server's lifetime limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from codeagent.responses.errors import (
    ConnectionClosed,
    HandshakeFailed,
    ResponsesError,
    WebSocketUnavailable,
)
from codeagent.responses.events import ResponseCompleted, ServerEvent
from codeagent.responses.requests import (
    TransportName,
    encoded_size,
    steer_frame,
    websocket_frame,
)
from codeagent.responses.websocket import WebSocketConnection

if TYPE_CHECKING:
    from codeagent.responses.http import HttpResponses

Mode = Literal["auto", "websocket", "http"]

#: Consecutive failed handshakes after which ``auto`` gives up on WebSocket for the session.
HANDSHAKE_ATTEMPTS = 3
HANDSHAKE_BACKOFF = 0.2
#: Consecutive failed WebSocket streams after which ``auto`` continues over HTTP.
WS_FAILURE_BUDGET = 3
#: Seconds on HTTP before trying WebSocket again: after the first fallback, the second, ...
#: (the last one repeats).
RETURN_DELAYS = (60.0, 300.0, 900.0)
#: The close code of a frame the server refused as too big (RFC 6455).
CLOSE_TOO_BIG = 1009

LOG = logging.getLogger("codeagent.responses")


@dataclass(frozen=True)
class TransportNotice:
    """A change of transport the user should hear about: ``kind`` is ``fallback`` (now on
    HTTP) or ``restored`` (back on WebSocket)."""

    kind: Literal["fallback", "restored"]
    text: str


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minute{'s' if seconds != 60 else ''}"


class Transport:
    """One session's way to the Responses API (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        mode: Mode = "auto",
        idle_timeout: float = 300.0,
        connect_timeout: float = 10.0,
        beta_header: str | None = None,
        max_connection_age: float = 3600.0,
        rotate_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if mode not in ("auto", "websocket", "http"):
            raise ValueError(f"transport mode must be auto, websocket or http, not {mode!r}")
        self.base_url = base_url
        self.mode: Mode = mode
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.beta_header = beta_header
        self.max_connection_age = max_connection_age
        self.rotate_margin = rotate_margin
        # Kept private and out of __repr__ so the key never reaches a log or a traceback.
        self._api_key = api_key
        self._http_client: HttpResponses | None = None
        self._ws: WebSocketConnection | None = None
        self._connections_opened = 0
        self._fell_back = False
        self.fallback_reason: str | None = None
        self._connect_lock = asyncio.Lock()
        self.last_bytes_sent = 0
        #: The transport that carried (or is carrying) the last request.
        self.last_transport: TransportName = self.active
        # Fallback bookkeeping (see the module docstring). ``_probation``: back on a WebSocket
        # that has not carried a response yet (one failure sends it back to HTTP quietly).
        self._clock = clock
        self._ws_failures = 0
        self._fallbacks = 0
        self._return_at: float | None = None
        self._probation = False
        self._notices: list[TransportNotice] = []

    @property
    def _http(self) -> HttpResponses:
        """The HTTP client, made on first use: importing httpx is a visible part of start-up, and a
        WebSocket session may never need it (only for fallback and compaction)."""
        if self._http_client is None:
            from codeagent.responses.http import HttpResponses

            self._http_client = HttpResponses(
                self.base_url,
                self._api_key,
                idle_timeout=self.idle_timeout,
                connect_timeout=self.connect_timeout,
            )
        return self._http_client

    def __repr__(self) -> str:  # no key here, ever
        return f"Transport({self.base_url!r}, mode={self.mode!r}, active={self.active!r})"

    # ------------------------------------------------------------------ state

    @property
    def active(self) -> TransportName:
        """The transport the next request will use."""
        if self.mode == "http" or self._fell_back:
            return "http"
        return "websocket"

    @property
    def fell_back(self) -> bool:
        """True while ``auto`` mode has switched to HTTP (until WebSocket is tried again)."""
        return self._fell_back

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the fallback timer runs on (``time.monotonic`` unless a test gave one)."""
        return self._clock

    @property
    def websocket_retry_at(self) -> float | None:
        """When (on ``clock``) a fallen-back transport tries WebSocket again; None otherwise."""
        return self._return_at if self._fell_back else None

    def take_notices(self) -> list[TransportNotice]:
        """The transport changes since the last call, oldest first (each reported once)."""
        notices, self._notices = self._notices, []
        return notices

    @property
    def connection_id(self) -> int:
        """Identifies the live WebSocket; changes on every new socket. 0 when none is open."""
        if self._ws is None or self._ws.closed:
            return 0
        return self._ws.connection_id

    @property
    def connections_opened(self) -> int:
        """How many WebSocket connections this transport has opened."""
        return self._connections_opened

    def request_size(self, body: dict[str, Any]) -> int:
        """Bytes ``body`` would take on the active transport."""
        return encoded_size(body, self.active)

    # ------------------------------------------------------------------ connection management

    async def ensure_fresh(self) -> None:
        """Call at a turn boundary: open the WebSocket if none is live, and replace it when it
        is within ``rotate_margin`` of ``max_connection_age`` or the server said it expired.
        Over HTTP after a fallback, tries WebSocket again once its time has come. May switch
        ``auto`` to HTTP (see ``fell_back``)."""
        if self._fell_back and self._return_at is not None and self._clock() >= self._return_at:
            await self._try_return()
        if self.active != "websocket":
            return
        ws = self._ws
        if ws is not None and not ws.closed:
            too_old = ws.age >= self.max_connection_age - self.rotate_margin
            if not (too_old or ws.expired):
                return
            await ws.close()
        await self._connect()

    async def _connect(self) -> WebSocketConnection | None:
        """Open a new socket (``None`` when ``auto`` fell back to HTTP instead)."""
        async with self._connect_lock:
            if self._ws is not None and not self._ws.closed and not self._ws.expired:
                return self._ws
            if self._ws is not None:
                await self._ws.close()
                self._ws = None
            failures = 0
            while True:
                try:
                    self._ws = await WebSocketConnection.open(
                        self.base_url,
                        self._api_key,
                        connection_id=self._connections_opened + 1,
                        connect_timeout=self.connect_timeout,
                        beta_header=self.beta_header,
                    )
                    self._connections_opened += 1
                    return self._ws
                except WebSocketUnavailable as exc:
                    if self.mode != "auto":
                        raise
                    self._fall_back(exc.message)
                    return None
                except HandshakeFailed as exc:
                    failures += 1
                    if failures < HANDSHAKE_ATTEMPTS:
                        await asyncio.sleep(HANDSHAKE_BACKOFF * 2 ** (failures - 1))
                        continue
                    if self.mode != "auto":
                        raise
                    self._fall_back(
                        f"{failures} WebSocket handshakes failed ({exc.message.rstrip('.')})"
                    )
                    return None

    def _fall_back(self, reason: str, *, quietly: bool = False) -> None:
        """Continue over HTTP; try WebSocket again after the next of ``RETURN_DELAYS``."""
        reason = reason.rstrip(". ")  # it ends the first sentence of the notice
        delay = RETURN_DELAYS[min(self._fallbacks, len(RETURN_DELAYS) - 1)]
        self._fallbacks += 1
        self._fell_back = True
        self._probation = False
        self._ws_failures = 0
        self._return_at = self._clock() + delay
        if quietly:  # the user was never told WebSocket was back
            LOG.info("WebSocket failed again after returning (%s); HTTP for now", reason)
            return
        self.fallback_reason = (
            f"Continuing over HTTP instead of WebSocket: {reason}. "
            f"WebSocket will be tried again in {_minutes(delay)}."
        )
        self._notices.append(TransportNotice("fallback", self.fallback_reason))

    async def _try_return(self) -> None:
        """One handshake to see whether WebSocket works again (quiet when it does not)."""
        self._return_at = None
        try:
            ws = await WebSocketConnection.open(
                self.base_url,
                self._api_key,
                connection_id=self._connections_opened + 1,
                connect_timeout=self.connect_timeout,
                beta_header=self.beta_header,
            )
        except ResponsesError as exc:
            self._fall_back(exc.message, quietly=True)
            return
        self._connections_opened += 1
        self._ws = ws
        self._fell_back = False
        self._probation = True

    def _websocket_failed(self, exc: ResponsesError, frame_bytes: int) -> None:
        """Count a failed WebSocket stream; fall back to HTTP when the budget is spent."""
        # Only a failed socket counts: not an API error, an idle stream, or the socket's
        # normal end of life (ConnectionLimitReached is not a ConnectionClosed).
        if self.mode != "auto" or not isinstance(exc, ConnectionClosed):
            return
        self._ws_failures += 1
        if exc.close_code == CLOSE_TOO_BIG:
            # The same frame would be refused again; retrying over WebSocket cannot help.
            self._fall_back(
                f"the server refused a {frame_bytes:,}-byte request as too large for a "
                "WebSocket frame (close code 1009)",
                quietly=self._probation,
            )
        elif self._probation:
            self._fall_back(exc.message, quietly=True)
        elif self._ws_failures >= WS_FAILURE_BUDGET:
            self._fall_back(
                f"the WebSocket failed {self._ws_failures} times in a row "
                f"({exc.message.rstrip('.')})"
            )

    def _websocket_worked(self) -> None:
        self._ws_failures = 0
        if self._probation:
            self._probation = False
            self._notices.append(
                TransportNotice("restored", "WebSocket works again; continuing over WebSocket.")
            )

    # ------------------------------------------------------------------ requests

    async def stream(
        self, body: dict[str, Any], *, hold: Callable[[], bool] | None = None
    ) -> AsyncGenerator[ServerEvent, None]:
        """Send one ``response.create`` and yield its typed events up to and including the
        terminal one. Errors are raised as the typed errors of ``responses.errors``. Over
        WebSocket, while ``hold()`` is true after the terminal event (a steer not committed
        yet), the stream goes on with the steer's events and an automatic successor response
        (``WebSocketConnection.stream``)."""
        self.last_bytes_sent = 0  # nothing sent yet (a failed connect sends nothing)
        if self.active == "websocket":
            self.last_transport = "websocket"
            ws = self._ws
            if ws is None or ws.closed or ws.expired:
                ws = await self._connect()
            if ws is not None:
                frame = websocket_frame(body)
                self.last_bytes_sent = len(frame.encode("utf-8"))
                events = ws.stream(
                    frame, lane=body.get("stream_id"), idle_timeout=self.idle_timeout, hold=hold
                )
                try:
                    async with contextlib.aclosing(events):
                        async for event in events:
                            yield event
                except ResponsesError as exc:
                    self._websocket_failed(exc, self.last_bytes_sent)
                    raise
                self._websocket_worked()
                return
        self.last_transport = "http"
        events = self._http.stream(body)
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    self.last_bytes_sent = self._http.last_bytes_sent
                    yield event
        finally:
            self.last_bytes_sent = self._http.last_bytes_sent

    async def prewarm(self, body: dict[str, Any]) -> str | None:
        """Open the WebSocket (TLS and handshake) and send ``body`` as a ``response.create``
        with ``generate: false``: the server takes the instructions and tools and answers with
        an empty response the next request may chain from. Returns that response's id; None
        when the next request would not go over WebSocket (HTTP has no ``generate``) or the
        response did not complete. Raises the typed errors; a failed prewarm never counts
        towards falling back to HTTP."""
        if self.active != "websocket":
            return None
        ws = self._ws
        if ws is None or ws.closed or ws.expired:
            ws = await self._connect()
        if ws is None:
            return None
        frame = websocket_frame({**body, "generate": False})
        events = ws.stream(frame, lane=None, idle_timeout=self.idle_timeout)
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, ResponseCompleted):
                    return event.response.id
                if event.is_terminal:
                    return None
        return None

    async def steer(self, previous_response_id: str, text: str) -> None:
        """Send ``response.steer`` for the active response ``previous_response_id`` on the live
        WebSocket; its answer (``response.steer.accepted|pending|failed``) arrives in that
        response's stream. Raises ``ConnectionClosed`` when no socket is live."""
        ws = self._ws
        if self.active != "websocket" or ws is None or ws.closed:
            raise ConnectionClosed("No WebSocket connection is open to steer the response on.")
        await ws.send_steer(steer_frame(previous_response_id, text))

    async def compact(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /responses/compact`` (always HTTP; the WebSocket protocol has no such event)."""
        return await self._http.compact(body)

    async def close(self) -> None:
        """Close the WebSocket (if any) and the HTTP client."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._http_client is not None:
            await self._http_client.close()


__all__ = ["Mode", "ResponsesError", "Transport"]
