"""Access to each connection's socket: cutting it abruptly (no WebSocket close frame, no HTTP
stream end) for faults, and turning off Nagle's algorithm.

Starlette hides the socket, so the outermost ASGI wrapper (see ``app.py``) stores the server's
asyncio transport in the scope under :data:`SCOPE_KEY`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SCOPE_KEY = "codeagent.transport"

ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


def remember_transport(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so each connection scope carries its transport (found on uvicorn's send)."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        owner = getattr(send, "__self__", None)
        transport = getattr(owner, "transport", None)
        if transport is not None:
            scope[SCOPE_KEY] = transport
            _no_delay(transport)
        await app(scope, receive, send)

    return wrapped


def _no_delay(transport: Any) -> None:
    """Send each event at once. Accepted sockets come without TCP_NODELAY here, so a burst of
    small frames waited for the client's delayed ACK (~40 ms after ``response.created``)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def abort(scope: MutableMapping[str, Any]) -> bool:
    """Abort the scope's TCP connection; False when the transport is unknown."""
    transport = scope.get(SCOPE_KEY)
    if transport is None:
        return False
    transport.abort()
    return True
