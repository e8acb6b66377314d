"""Typed errors of the wire layer. Each one carries a message fit to show a user as is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class ResponsesError(Exception):
    """Base of every error the wire layer raises."""

    #: Whether retrying the same turn (possibly on a new connection) can succeed.
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class WireFormatError(ResponsesError):
    """A frame or event that is not valid JSON or misses a required field."""


class PreviousResponseNotFound(ResponsesError):
    """The server no longer holds ``previous_response_id`` (``previous_response_not_found``)."""

    retryable = True


class ConnectionLimitReached(ResponsesError):
    """The connection reached its lifetime (``websocket_connection_limit_reached``)."""

    retryable = True


class AuthenticationError(ResponsesError):
    """The API key was missing or refused (HTTP 401/403)."""


class RateLimited(ResponsesError):
    """HTTP 429 or ``rate_limit_exceeded``; ``retry_after`` is the server's suggested delay."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ResponsesError):
    """A 5xx answer or a ``response.failed`` with a server-side error."""

    retryable = True


class RequestRejected(ResponsesError):
    """A 4xx error the client cannot fix by retrying (bad request, unknown model, ...)."""


class ConnectionClosed(ResponsesError):
    """The socket closed or dropped, possibly mid-stream."""

    retryable = True


class IdleTimeout(ResponsesError):
    """No event arrived within the configured idle timeout."""

    retryable = True


class WebSocketUnavailable(ResponsesError):
    """The server refused the WebSocket upgrade (e.g. HTTP 426); use HTTP instead."""


class HandshakeFailed(ResponsesError):
    """The WebSocket handshake failed (refused, timed out, or an unexpected HTTP status)."""

    retryable = True


# --------------------------------------------------------------------------- error mapping

_TRY_AGAIN = re.compile(r"try again in\s+([0-9]+(?:\.[0-9]+)?)\s*(ms|s|sec|seconds?)?", re.I)


def retry_after_from(message: str = "", headers: Mapping[str, Any] | None = None) -> float | None:
    """The server's suggested retry delay in seconds: a ``retry-after``/``retry-after-ms`` header,
    else a "try again in Ns" phrase in the message (the form the API uses), else ``None``."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
        if "retry-after" in lowered:
            return max(0.0, float(lowered["retry-after"]))
    except (TypeError, ValueError):
        pass  # an HTTP-date or garbage: fall back to the message
    match = _TRY_AGAIN.search(message or "")
    if match:
        value = float(match.group(1))
        return value / 1000.0 if (match.group(2) or "").lower() == "ms" else value
    return None


def error_from_payload(
    status: int | None,
    error: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | None = None,
    *,
    retry_after: float | None = None,
) -> ResponsesError:
    """Map an API error (a WebSocket ``error`` event, an HTTP error body, or a failed response's
    ``error``) to the typed error a caller can act on. ``error`` is the ``{"code", "message",
    "type", "param"}`` object; ``status`` the HTTP(-equivalent) status when known."""
    error = dict(error or {})
    code = error.get("code") or None
    message = str(error.get("message") or "").strip()
    all_headers = {**(error.get("headers") or {}), **(headers or {})}
    text = message or (f"HTTP {status}" if status else "unknown error")
    if code == "previous_response_not_found":
        return PreviousResponseNotFound(
            f"The server no longer holds the previous response: {text}", code=code, status=status
        )
    if code == "websocket_connection_limit_reached":
        return ConnectionLimitReached(
            f"The connection reached its lifetime limit: {text}", code=code, status=status
        )
    if status in (401, 403) or code in ("invalid_api_key", "unauthorized"):
        return AuthenticationError(
            f"The API key was refused ({status or code}): {text}. Check OPENAI_API_KEY.",
            code=code,
            status=status,
        )
    if status == 429 or code in ("rate_limit_exceeded", "usage_limit_reached"):
        delay = retry_after if retry_after is not None else retry_after_from(message, all_headers)
        return RateLimited(
            f"Rate limited: {text}",
            retry_after=delay,
            code=code or "rate_limit_exceeded",
            status=status or 429,
        )
    if (status is not None and status >= 500) or code in ("server_error", "internal_error"):
        return ServerError(f"Server error: {text}", code=code, status=status)
    return RequestRejected(f"Request rejected: {text}", code=code, status=status)
