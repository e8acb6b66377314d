"""The same turn over HTTP: ``POST {base_url}/responses`` with ``stream: true``, read as
Server-Sent Events with httpx-sse. One ``httpx.AsyncClient`` is kept for the session, so
turns reuse the kept-alive TCP (and TLS) connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import SSEError, aconnect_sse

from codeagent.responses.errors import (
    ConnectionClosed,
    IdleTimeout,
    ResponsesError,
    WireFormatError,
    error_from_wire,
)
from codeagent.responses.events import ErrorEvent, ServerEvent
from codeagent.responses.frames import decode_event, skipped
from codeagent.responses.requests import http_body
from codeagent.responses.websocket import LOOPBACK_HOSTS

#: How long to wait for the end of the body after the terminal event before giving up on reuse.
DRAIN_TIMEOUT = 1.0


class HttpResponses:
    """``POST /responses`` (streamed) and ``POST /responses/compact`` over one keep-alive client."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        idle_timeout: float = 300.0,
        connect_timeout: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.idle_timeout = idle_timeout
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        host = urlsplit(self.base_url).hostname or ""
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(idle_timeout, connect=connect_timeout),
            # A proxy from the environment must not capture a loopback server...
            trust_env=host not in LOOPBACK_HOSTS,
            # ...but certificates trusted through SSL_CERT_FILE / SSL_CERT_DIR still count there
            # (without trust_env httpx would use certifi only), as they do for the WebSocket.
            verify=True if host not in LOOPBACK_HOSTS else ssl.create_default_context(),
        )
        #: Size of the last request body sent, in bytes.
        self.last_bytes_sent = 0

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[ServerEvent, None]:
        """Post ``body`` and yield its events up to the terminal one; errors are raised typed."""
        content = http_body(body)
        self.last_bytes_sent = len(content)
        try:
            async with aconnect_sse(
                self._client, "POST", f"{self.base_url}/responses", content=content
            ) as source:
                response = source.response
                if response.status_code >= 400:
                    await response.aread()
                    raise _http_error(response)
                try:
                    stream = source.aiter_sse()
                    async for sse in stream:
                        if not sse.data or sse.data == "[DONE]":
                            continue
                        try:
                            event = decode_event(sse.data)  # StreamCorrupted propagates
                        except WireFormatError as exc:
                            skipped(exc, "HTTP")
                            continue
                        if isinstance(event, ErrorEvent):
                            raise event.to_error()
                        yield event
                        if event.is_terminal:
                            await _drain(stream)
                            return
                except SSEError as exc:
                    raise WireFormatError(
                        f"The server did not send an event stream: {exc}"
                    ) from None
                raise ConnectionClosed("The HTTP stream ended before the response completed.")
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise ConnectionClosed(
                    f"Could not connect to {self.base_url}: timed out."
                ) from None
            raise IdleTimeout(
                f"No event from the server for {self.idle_timeout:g} s; the stream was abandoned."
            ) from None
        except httpx.TransportError as exc:
            raise ConnectionClosed(
                f"The HTTP connection failed: {exc or type(exc).__name__}"
            ) from None

    async def compact(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /responses/compact``; returns the compaction object (``output`` = new window)."""
        try:
            response = await self._client.post(
                f"{self.base_url}/responses/compact",
                content=json.dumps(body, separators=(",", ":")).encode("utf-8"),
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise ConnectionClosed(f"The compact request failed: {exc}") from None
        if response.status_code >= 400:
            raise _http_error(response)
        try:
            data = response.json()
        except ValueError:
            raise WireFormatError("The compact endpoint did not answer with JSON.") from None
        if not isinstance(data, dict) or not isinstance(data.get("output"), list):
            raise WireFormatError("The compact answer has no 'output' list.")
        return data

    async def close(self) -> None:
        """Close the kept-alive connections."""
        await self._client.aclose()


async def _drain(stream: AsyncIterator[Any]) -> None:
    """Read what follows the terminal event to the end of the body, so httpx can put the
    connection back in its pool (keep-alive); a server that keeps the stream open just costs
    that connection."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError, SSEError):
        async with asyncio.timeout(DRAIN_TIMEOUT):
            async for _ in stream:
                pass


def _http_error(response: httpx.Response) -> ResponsesError:
    """The typed error of an HTTP error answer (JSON error body or anything else)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        data = {"error": {"message": response.text[:200].strip()}}
    return error_from_wire(response.status_code, data, dict(response.headers))
