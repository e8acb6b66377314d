"""Cutting a connection abruptly (no WebSocket close frame, no HTTP stream end), for faults.

Starlette hides the socket, so the outermost ASGI wrapper (see ``app.py``) stores the server's
asyncio transport in the scope under :data:`SCOPE_KEY`.
"""

from __future__ import annotations

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
        await app(scope, receive, send)

    return wrapped


def abort(scope: MutableMapping[str, Any]) -> bool:
    """Abort the scope's TCP connection; False when the transport is unknown."""
    transport = scope.get(SCOPE_KEY)
    if transport is None:
        return False
    transport.abort()
    return True
