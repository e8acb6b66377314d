"""One WebSocket connection to ``{base_url}/responses`` in the Responses API's WebSocket mode.

A background reader task owns the socket's receive side and routes every event to the lane
(``stream_id``; the default lane has none) whose response is streaming. Each lane runs one
response at a time. Anything that may leave events of a response on the socket (an idle stream,
a corrupt frame, an error event, a final event out of order, the consumer walking away) drops
the whole connection, because the rest of that response's events would otherwise be read as
the next turn's. A frame that is valid JSON
but not a usable event is skipped and logged; so is a corrupt frame while nothing streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator
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
from codeagent.responses.events import ErrorEvent, ResponseLifecycleEvent, ServerEvent
from codeagent.responses.frames import decode_event, skipped

#: Keepalive: ping every 20 s, give the server 20 s to answer (the websockets defaults).
PING_INTERVAL = 20.0
PING_TIMEOUT = 20.0
#: Hosts no proxy from the environment may capture (the HTTP transport uses the same set).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_DEFAULT_LANE = ""


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
        self, frame: str, *, lane: str | None = None, idle_timeout: float = 300.0
    ) -> AsyncGenerator[ServerEvent, None]:
        """Send one ``response.create`` frame and yield its events up to the terminal one.

        An ``error`` event is raised as the matching typed error. Waits (FIFO) while another
        response of the same lane is streaming.
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
            try:
                try:
                    await self._ws.send(frame)
                except websockets.ConnectionClosed as exc:
                    raise self._close_reason or _closed_error(
                        exc, early=self._events_received == 0
                    ) from None
                while True:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                    # cancellation that races with an already-queued event.
                    try:
                        async with asyncio.timeout(idle_timeout):
                            item = await queue.get()
                    except TimeoutError:
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
                        if response_id is None:
                            response_id = item.response.id
                        elif item.response.id != response_id:
                            raise StreamCorrupted(
                                "The server mixed events of two responses in one stream."
                            )
                    # Set before yielding: a consumer that stops at the terminal event has
                    # left nothing unfinished on the socket -- unless the terminal event came
                    # first, out of order: the response's own events may still follow, so
                    # the socket is not reused.
                    terminal = item.is_terminal
                    finished = terminal and seen > 0
                    seen += 1
                    yield item
                    if terminal:
                        return
            finally:
                self._lanes.pop(key, None)
                if not finished:
                    await self.abort()

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
        key = event.stream_id or _DEFAULT_LANE
        queue = self._lanes.get(key)
        if queue is None and isinstance(event, ErrorEvent) and not event.stream_id:
            # A connection-level error: give it to whichever response is waiting.
            queue = next(iter(self._lanes.values()), None)
            if event.body.code == "websocket_connection_limit_reached":
                self.expired = True
        if queue is not None:
            queue.put_nowait(event)


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
