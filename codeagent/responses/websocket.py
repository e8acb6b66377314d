"""One WebSocket connection to ``{base_url}/responses`` in the Responses API's WebSocket mode.

A background reader task owns the socket's receive side and routes every event to the lane
(``stream_id``; the default lane has none) whose response is streaming. Each lane runs one
response at a time. Anything that leaves a response unfinished on the socket (an idle stream, a
malformed frame, the consumer walking away) drops the whole connection, because the rest of
that response's events would otherwise be read as the next turn's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
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
    WebSocketUnavailable,
    WireFormatError,
    error_from_payload,
)
from codeagent.responses.events import ErrorEvent, ServerEvent, parse_event

#: Keepalive: ping every 20 s, give the server 20 s to answer (the websockets defaults).
PING_INTERVAL = 20.0
PING_TIMEOUT = 20.0
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
    ) -> AsyncIterator[ServerEvent]:
        """Send one ``response.create`` frame and yield its events up to the terminal one.

        An ``error`` event is raised as the matching typed error. Waits (FIFO) while another
        response of the same lane is streaming.
        """
        key = lane or _DEFAULT_LANE
        lock = self._lane_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if self._closed:
                raise ConnectionClosed("The WebSocket connection is closed.")
            queue: asyncio.Queue[ServerEvent | ResponsesError] = asyncio.Queue()
            self._lanes[key] = queue
            finished = False
            try:
                try:
                    await self._ws.send(frame)
                except websockets.ConnectionClosed as exc:
                    raise ConnectionClosed(f"The WebSocket closed before sending: {exc}") from None
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
                        # The server ended this response with an error; the socket is fine
                        # unless the error says its lifetime is over.
                        finished = True
                        error = _event_error(item)
                        if isinstance(error, ConnectionLimitReached):
                            self.expired = True
                        raise error
                    # Set before yielding: a consumer that stops at the terminal event has
                    # left nothing unfinished on the socket.
                    finished = item.is_terminal
                    yield item
                    if finished:
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
                    event = _decode(message)
                except WireFormatError as exc:
                    # Cannot tell which response the frame belongs to: fail them all and drop
                    # the socket, since the rest of their events can no longer be trusted.
                    reason = exc
                    break
                self._route(event)
        except websockets.ConnectionClosed as exc:
            reason = ConnectionClosed(
                f"The WebSocket connection dropped (code {exc.rcvd.code if exc.rcvd else 1006})."
            )
        except Exception as exc:  # a transport failure the library did not wrap
            reason = ConnectionClosed(f"The WebSocket connection failed: {exc}")
        self._closed = True
        for queue in list(self._lanes.values()):
            queue.put_nowait(reason)
        if isinstance(reason, WireFormatError):
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


def _decode(message: str | bytes) -> ServerEvent:
    if isinstance(message, bytes):
        raise WireFormatError("The server sent a binary WebSocket frame; expected JSON text.")
    try:
        data: Any = json.loads(message)
    except ValueError as exc:
        raise WireFormatError(
            f"The server sent a frame that is not valid JSON ({exc}): {message[:120]!r}"
        ) from None
    return parse_event(data)


def _event_error(event: ErrorEvent) -> ResponsesError:
    body = event.body.wire()
    extra = event.model_extra or {}
    headers = extra.get("headers") if isinstance(extra.get("headers"), dict) else None
    retry_after = extra.get("retry_after")
    if not isinstance(retry_after, (int, float)):
        retry_after = (event.error.model_extra or {}).get("retry_after") if event.error else None
    return error_from_payload(
        event.status,
        body,
        headers,
        retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
    )


def _handshake_error(status: int, body: bytes | None) -> ResponsesError:
    detail = ""
    with contextlib.suppress(Exception):
        detail = str(json.loads(body or b"{}").get("error", {}).get("message", ""))
    if status == 426:
        return WebSocketUnavailable(
            "The server does not accept WebSocket connections (HTTP 426 Upgrade Required).",
            status=status,
        )
    if status in (401, 403):
        return AuthenticationError(
            f"The API key was refused (HTTP {status}){': ' + detail if detail else ''}. "
            "Check OPENAI_API_KEY.",
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
