"""One WebSocket connection to ``{base_url}/responses`` in the Responses API's WebSocket mode.

A background reader task owns the socket's receive side and routes every event to the lane
(``stream_id``; the default lane has none) whose response is streaming. Each lane runs one
response at a time. Anything that may leave events of a response on the socket (an idle stream,
a corrupt frame, an error event, a final event out of order, the consumer walking away) drops
the whole connection, because the rest of that response's events would otherwise be read as
the next turn's. A frame that is valid JSON
but not a usable event is skipped and logged; so is a corrupt frame while nothing streams.

Steering: ``send_steer`` sends ``response.steer`` beside the streaming response; the
``response.steer.*`` answers arrive in that response's lane, and a stream asked to ``hold``
goes on after the terminal event with the automatic successor the steer starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection

from codeagent.responses.errors import (
    AuthenticationError,
    ConnectionClosed,
    ConnectionLimitReached,
    HandshakeFailed,
    IdleTimeout,
    ResponsesError,
    StreamCorrupted,
    WebSocketUnavailable,
    WireFormatError,
)
from codeagent.responses.events import (
    ErrorEvent,
    ResponseCreated,
    ResponseLifecycleEvent,
    ServerEvent,
    SteerAccepted,
    SteerFailed,
    SteerPending,
)
from codeagent.responses.frames import decode_event, skipped

#: Keepalive: ping every 20 s, give the server 20 s to answer (the websockets defaults).
PING_INTERVAL = 20.0
PING_TIMEOUT = 20.0
#: Hosts no proxy from the environment may capture (the HTTP transport uses the same set).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_DEFAULT_LANE = ""
#: Seconds to wait after a response ended for word on a steer it has not committed (its
#: successor's ``response.created``, ``response.steer.pending`` or ``response.steer.failed``).
STEER_WAIT = 10.0
#: Error codes by which a server may refuse a steer (``ResponseSteerErrorCode`` in the SDK).
STEER_ERROR_CODES = frozenset(
    {
        "steering_not_supported",
        "too_many_pending_steers",
        "response_not_found",
        "response_already_completed",
        "response_not_active",
        "invalid_input",
    }
)
LOG = logging.getLogger("codeagent.responses")


class _RedactAuthorization(logging.Filter):
    """websockets logs every handshake header at DEBUG; keep the API key out of those logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                "Bearer [redacted]" if isinstance(a, str) and a.startswith("Bearer ") else a
                for a in record.args
            )
        return True


#: The logger handed to websockets (protocol debug output), with the key redacted.
WIRE_LOGGER = logging.getLogger("codeagent.responses.websocket.wire")
WIRE_LOGGER.addFilter(_RedactAuthorization())


def websocket_url(base_url: str) -> str:
    """``{base_url}/responses`` with ``https`` -> ``wss`` and ``http`` -> ``ws``; the query of
    ``base_url`` is kept."""
    parts = urlsplit(base_url)
    scheme = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"base URL must start with http:// or https://, got {base_url!r}")
    path = parts.path.rstrip("/") + "/responses"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def handshake_headers(api_key: str | None, beta_header: str | None) -> dict[str, str]:
    """Headers of the upgrade request: ``Authorization: Bearer`` and the optional beta header."""
    headers: dict[str, str] = {}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if beta_header:
        headers["OpenAI-Beta"] = beta_header
    return headers


class WebSocketConnection:
    """A live socket. Create with ``await WebSocketConnection.open(...)``."""

    def __init__(self, ws: ClientConnection, connection_id: int):
        self._ws = ws
        self.connection_id = connection_id
        self.opened_at = time.monotonic()
        #: Set when the server said this connection reached its lifetime; reconnect before use.
        self.expired = False
        self._closed = False
        #: Why the socket ended (raised to a response started after that).
        self._close_reason: ResponsesError | None = None
        self._events_received = 0
        #: steer frames sent and not answered yet (accepted or failed)
        self._steers_unanswered = 0
        self._lanes: dict[str, asyncio.Queue[ServerEvent | ResponsesError]] = {}
        self._lane_locks: dict[str, asyncio.Lock] = {}
        self._reader = asyncio.create_task(self._read_forever(), name=f"ws-reader-{connection_id}")

    @classmethod
    async def open(
        cls,
        base_url: str,
        api_key: str | None,
        *,
        connection_id: int,
        connect_timeout: float = 10.0,
        beta_header: str | None = None,
    ) -> WebSocketConnection:
        """Connect and return the connection, or raise ``WebSocketUnavailable`` (the server
        answered the upgrade with e.g. 426), ``AuthenticationError`` (401/403) or
        ``HandshakeFailed`` (refused, timed out, other status)."""
        url = websocket_url(base_url)
        host = urlsplit(url).hostname or ""
        try:
            ws = await websockets.connect(
                url,
                additional_headers=handshake_headers(api_key, beta_header),
                compression="deflate",
                max_size=None,
                open_timeout=connect_timeout,
                ping_interval=PING_INTERVAL,
                ping_timeout=PING_TIMEOUT,
                close_timeout=2.0,
                logger=WIRE_LOGGER,
                # A proxy from the environment must not capture a loopback server.
                proxy=None if host in LOOPBACK_HOSTS else True,
            )
        except websockets.InvalidStatus as exc:
            raise _handshake_error(exc.response.status_code, exc.response.body) from None
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            raise HandshakeFailed(
                f"Could not open a WebSocket to {url}: {exc or type(exc).__name__}"
            ) from None
        return cls(ws, connection_id)

    @property
    def closed(self) -> bool:
        """True once the socket is closed, dropped or aborted."""
        return self._closed

    @property
    def extensions(self) -> list[str]:
        """Names of the negotiated WebSocket extensions (``permessage-deflate`` normally)."""
        return [ext.name for ext in self._ws.protocol.extensions]

    @property
    def age(self) -> float:
        """Seconds since the connection was opened."""
        return time.monotonic() - self.opened_at

    async def stream(
        self,
        frame: str,
        *,
        lane: str | None = None,
        idle_timeout: float = 300.0,
        hold: Callable[[], bool] | None = None,
        hold_timeout: float = STEER_WAIT,
    ) -> AsyncGenerator[ServerEvent, None]:
        """Send one ``response.create`` frame and yield its events up to the terminal one.

        An ``error`` event is raised as the matching typed error. Waits (FIFO) while another
        response of the same lane is streaming. While ``hold()`` is true after a terminal
        event (a steer the server has not committed yet), the stream goes on: the steer's
        events, and an automatic successor response (a ``response.created`` of a new id, then
        its events up to its own terminal one). If ``hold_timeout`` passes with nothing, the
        stream ends and the socket is dropped, so a successor that comes later is discarded.
        """
        key = lane or _DEFAULT_LANE
        lock = self._lane_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._closed:
                raise self._close_reason or ConnectionClosed("The WebSocket connection is closed.")
            queue: asyncio.Queue[ServerEvent | ResponsesError] = asyncio.Queue()
            self._lanes[key] = queue
            finished = False
            response_id: str | None = None
            seen = 0
            ended = False  # the last response ended; only a successor (or steer news) may follow
            try:
                try:
                    await self._ws.send(frame)
                except websockets.ConnectionClosed as exc:
                    raise self._close_reason or _closed_error(
                        exc, early=self._events_received == 0
                    ) from None
                while True:
                    if ended and not (hold is not None and hold()):
                        finished = True
                        return
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                    # cancellation that races with an already-queued event.
                    try:
                        async with asyncio.timeout(hold_timeout if ended else idle_timeout):
                            item = await queue.get()
                    except TimeoutError:
                        if ended:
                            LOG.info(
                                "no word on a steer after %g s; dropping the socket", hold_timeout
                            )
                            return
                        raise IdleTimeout(
                            f"No event from the server for {idle_timeout:g} s; "
                            "the stream was abandoned."
                        ) from None
                    if isinstance(item, ResponsesError):
                        raise item
                    if isinstance(item, ErrorEvent):
                        # The server refused or ended this response. The socket is not
                        # reused: events of this response might still follow the error, and
                        # would be read as the next one's (the next call opens a new socket;
                        # a failed call's cached parent is evicted anyway).
                        error = item.to_error()
                        if isinstance(error, ConnectionLimitReached):
                            self.expired = True
                        raise error
                    if isinstance(item, ResponseLifecycleEvent):
                        if response_id is None or (ended and isinstance(item, ResponseCreated)):
                            response_id, ended = item.response.id, False  # (a successor)
                        elif item.response.id != response_id or ended:
                            raise StreamCorrupted(
                                "The server mixed events of two responses in one stream."
                            )
                    # A consumer that stops at the terminal event leaves nothing unfinished on
                    # the socket -- unless the terminal event came first, out of order: the
                    # response's own events may still follow, so the socket is not reused.
                    terminal = item.is_terminal
                    if terminal and seen == 0:
                        yield item
                        return
                    seen += 1
                    if terminal:
                        ended = True
                        finished = hold is None or not hold()
                    yield item
            finally:
                self._lanes.pop(key, None)
                if not finished:
                    await self.abort()

    async def send_steer(self, frame: str) -> None:
        """Send a ``response.steer`` frame alongside the streaming response (its answer comes
        as ``response.steer.*`` events in that response's stream). Raises ``ConnectionClosed``
        when the socket is gone."""
        if self._closed:
            raise self._close_reason or ConnectionClosed("The WebSocket connection is closed.")
        self._steers_unanswered += 1
        try:
            await self._ws.send(frame)
        except websockets.ConnectionClosed as exc:
            self._steers_unanswered -= 1
            raise self._close_reason or _closed_error(exc, early=False) from None

    async def close(self) -> None:
        """Close cleanly (close handshake) and stop the reader."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                await self._ws.close()
        await self._stop_reader()

    async def abort(self) -> None:
        """Drop the connection at once (used when a response was left unfinished on it)."""
        self._closed = True
        transport = getattr(self._ws, "transport", None)
        if transport is not None:
            transport.abort()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        if self._reader is not asyncio.current_task() and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read_forever(self) -> None:
        """Receive frames and route them to lanes until the socket ends."""
        reason: ResponsesError = ConnectionClosed("The WebSocket connection was closed.")
        try:
            async for message in self._ws:
                try:
                    event = decode_event(message)
                except StreamCorrupted as exc:
                    if not self._lanes:
                        skipped(exc, "WebSocket")  # nothing streams: nothing to distrust
                        continue
                    # Cannot tell which response the frame belongs to: fail them all and drop
                    # the socket, since the rest of their events can no longer be trusted.
                    reason = exc
                    break
                except WireFormatError as exc:
                    skipped(exc, "WebSocket")
                    continue
                self._events_received += 1
                self._route(event)
        except websockets.ConnectionClosed as exc:
            reason = _closed_error(exc, early=self._events_received == 0)
        except Exception as exc:  # a transport failure the library did not wrap
            reason = ConnectionClosed(f"The WebSocket connection failed: {exc}")
        self._closed = True
        self._close_reason = reason
        for queue in list(self._lanes.values()):
            queue.put_nowait(reason)
        if isinstance(reason, StreamCorrupted):
            transport = getattr(self._ws, "transport", None)
            if transport is not None:
                transport.abort()

    def _route(self, event: ServerEvent) -> None:
        event = self._steer_answer(event)
        key = event.stream_id or _DEFAULT_LANE
        queue = self._lanes.get(key)
        if queue is None and isinstance(event, ErrorEvent) and not event.stream_id:
            # A connection-level error: give it to whichever response is waiting.
            queue = next(iter(self._lanes.values()), None)
            if event.body.code == "websocket_connection_limit_reached":
                self.expired = True
        if queue is not None:
            queue.put_nowait(event)
        elif isinstance(event, SteerAccepted | SteerPending | SteerFailed):
            LOG.info("a %s event came while no response streamed; skipped", event.type)

    def _steer_answer(self, event: ServerEvent) -> ServerEvent:
        """Count the answers to our steers; a server that refuses a steer with a plain
        ``error`` event (a steering code while a steer awaits its answer) refuses the steer,
        not the response that streams, so that becomes ``response.steer.failed``."""
        if isinstance(event, SteerAccepted | SteerFailed):
            self._steers_unanswered = max(self._steers_unanswered - 1, 0)
        elif (
            isinstance(event, ErrorEvent)
            and self._steers_unanswered
            and event.body.code in STEER_ERROR_CODES
        ):
            self._steers_unanswered -= 1
            return SteerFailed(stream_id=event.stream_id, error=event.body)
        return event


#: What a close code means, for the user (RFC 6455 section 7.4.1).
_CLOSE_MEANINGS = {
    1008: "the server closed it by policy (code 1008)",
    1009: "the server refused a request too large for one WebSocket frame (code 1009)",
    1011: "the server had an internal error (code 1011)",
    1012: "the server is restarting (code 1012)",
    1013: "the server is overloaded; try again later (code 1013)",
}


def _closed_error(exc: websockets.ConnectionClosed, *, early: bool) -> ConnectionClosed:
    """The error for a socket the peer closed or that dropped, with its close code."""
    code = exc.rcvd.code if exc.rcvd is not None else 1006
    meaning = _CLOSE_MEANINGS.get(code)
    if meaning is not None:
        text = f"The WebSocket connection ended: {meaning}."
    elif code in (1000, 1001):
        text = f"The server closed the WebSocket connection (code {code})."
    else:
        text = f"The WebSocket connection dropped (code {code})."
    return ConnectionClosed(text, close_code=code, early=early)


def _handshake_error(status: int, body: bytes | None) -> ResponsesError:
    detail = ""
    with contextlib.suppress(Exception):
        detail = str(json.loads(body or b"{}").get("error", {}).get("message", ""))
    if status == 426:
        return WebSocketUnavailable(
            "The server does not accept WebSocket connections (HTTP 426 Upgrade Required).",
            status=status,
        )
    if status == 401:
        return AuthenticationError(
            f"The API key was refused (HTTP 401){': ' + detail if detail else ''}. "
            "Check OPENAI_API_KEY.",
            status=status,
        )
    if status == 403:
        # Not necessarily the key: the API also answers 403 to an upgrade when the key has
        # too many sockets open, or WebSocket mode is not enabled for it.
        said = f" ({detail.rstrip('.')})" if detail else ""
        return HandshakeFailed(
            f"The server refused the WebSocket upgrade with HTTP 403{said}. That can mean too "
            "many open connections or WebSocket mode not being available to this key, not "
            "necessarily a wrong key.",
            status=status,
        )
    if status == 404:
        return WebSocketUnavailable(
            "The server has no WebSocket endpoint at /responses (HTTP 404).", status=status
        )
    return HandshakeFailed(
        f"The server refused the WebSocket upgrade with HTTP {status}"
        f"{': ' + detail if detail else ''}.",
        status=status,
    )


__all__ = [
    "WebSocketConnection",
    "handshake_headers",
    "websocket_url",
]
