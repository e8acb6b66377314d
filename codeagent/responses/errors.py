"""Typed errors of the wire layer. Each one carries a message fit to show a user as is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from codeagent.responses.catalog import model_not_found_text
from codeagent.sanitize import scrub_secrets

__all__ = [
    "AuthenticationError",
    "ConnectionClosed",
    "ConnectionLimitReached",
    "HandshakeFailed",
    "IdleTimeout",
    "PermissionDenied",
    "PreviousResponseNotFound",
    "QuotaExceeded",
    "RateLimited",
    "RequestRejected",
    "ResponsesError",
    "ServerError",
    "StreamCorrupted",
    "WebSocketUnavailable",
    "WireFormatError",
    "error_from_payload",
    "error_from_wire",
    "retry_after_from",
]


class ResponsesError(Exception):
    """Base of every error the wire layer raises."""

    #: Whether retrying the same turn (possibly on a new connection) can succeed.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        message = scrub_secrets(message)  # a server may echo the key (a 401's text, a raw frame)
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        #: The server's suggested wait before a retry (429 and 5xx), in seconds.
        self.retry_after = retry_after


class WireFormatError(ResponsesError):
    """A frame or event that is not valid JSON or misses a required field."""


class PreviousResponseNotFound(ResponsesError):
    """The server no longer holds ``previous_response_id`` (``previous_response_not_found``)."""

    retryable = True


class ConnectionLimitReached(ResponsesError):
    """The connection reached its lifetime (``websocket_connection_limit_reached``)."""

    retryable = True


class AuthenticationError(ResponsesError):
    """The API key was missing or refused (HTTP 401, ``invalid_api_key``)."""


class PermissionDenied(ResponsesError):
    """HTTP 403 on a request: the key is valid but may not do this (model, project, region)."""


class QuotaExceeded(ResponsesError):
    """``insufficient_quota``: the account has no credit or plan quota left. Not retried: it
    does not clear up by waiting, unlike a rate limit."""


class RateLimited(ResponsesError):
    """HTTP 429 or ``rate_limit_exceeded``; ``retry_after`` is the server's suggested delay."""

    retryable = True


class ServerError(ResponsesError):
    """A 5xx answer or a ``response.failed`` with a server-side error."""

    retryable = True


class RequestRejected(ResponsesError):
    """A 4xx error the client cannot fix by retrying (bad request, unknown model, ...)."""


class ConnectionClosed(ResponsesError):
    """The socket closed or dropped, possibly mid-stream. ``close_code`` is the WebSocket close
    code when the server sent one (1009: frame too big, 1008: policy), ``early`` is True when
    the socket ended before any event arrived on it (e.g. closed right after the upgrade)."""

    retryable = True

    def __init__(
        self, message: str, *, close_code: int | None = None, early: bool = False, **kw: Any
    ):
        super().__init__(message, **kw)
        self.close_code = close_code
        self.early = early


class StreamCorrupted(ConnectionClosed):
    """A frame of a streaming response was not valid JSON (a proxy's HTML page, a truncated
    frame): the rest of that stream cannot be trusted, so it is dropped like a cut connection
    and the call is made again on a new one."""


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


#: Error codes that mean the account is out of credit or plan quota (fatal, not a rate limit).
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return max(0.0, number) if number == number and number != float("inf") else None


def error_from_wire(
    status: int | None,
    payload: Mapping[str, Any] | None,
    headers: Mapping[str, Any] | None = None,
) -> ResponsesError:
    """The typed error for any error the API sends, in any of its shapes: a WebSocket ``error``
    event (``{"status", "error": {code, message, headers?}}``), a flat SSE error event
    (``{"code", "message"}``) or an HTTP error body (``{"error": {...}}``). The retry delay is
    read from, in order: a numeric ``retry_after`` (top level or in ``error``), the transport's
    ``headers``, ``headers`` nested in the payload or its ``error``, the message text."""
    payload = dict(payload or {})
    nested = payload.get("error")
    if isinstance(nested, Mapping):
        error = dict(nested)
    else:
        error = {k: payload[k] for k in ("code", "message", "type", "param") if k in payload}
    if status is None and isinstance(payload.get("status"), int):
        status = payload["status"]
    all_headers: dict[str, Any] = {}
    for source in (payload.get("headers"), error.get("headers"), headers):
        if isinstance(source, Mapping):
            all_headers.update({str(k).lower(): v for k, v in source.items()})
    retry_after = None
    for holder in (payload, error):
        retry_after = _number(holder.get("retry_after"))
        if retry_after is None and _number(holder.get("retry_after_ms")) is not None:
            retry_after = _number(holder.get("retry_after_ms")) / 1000.0  # type: ignore[operator]
        if retry_after is not None:
            break
    if retry_after is None:
        retry_after = retry_after_from(str(error.get("message") or ""), all_headers)
    error.pop("headers", None)
    return error_from_payload(status, error, all_headers, retry_after=retry_after)


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
    code = error.get("code") if isinstance(error.get("code"), str) and error.get("code") else None
    message = str(error.get("message") or "").strip()
    nested = error.get("headers")
    all_headers = {**(nested if isinstance(nested, Mapping) else {}), **(headers or {})}
    text = message or (f"HTTP {status}" if status else "unknown error")
    if code == "previous_response_not_found":
        return PreviousResponseNotFound(
            f"The server no longer holds the previous response: {text}", code=code, status=status
        )
    if code == "websocket_connection_limit_reached":
        return ConnectionLimitReached(
            f"The connection reached its lifetime limit: {text}", code=code, status=status
        )
    if code in QUOTA_CODES:
        return QuotaExceeded(
            f"Your OpenAI account has no quota left ({code}): {text} Check the plan and billing "
            "details of the key's organization (platform.openai.com, Settings > Billing); "
            "waiting or retrying will not help.",
            code=code,
            status=status,
        )
    if code == "model_not_found":  # name the model, say if it was retired, offer current ones
        return RequestRejected(model_not_found_text(text), code=code, status=status)
    if status == 401 or code in ("invalid_api_key", "unauthorized"):
        return AuthenticationError(
            f"The API key was refused ({status or code}): {text}. Check OPENAI_API_KEY.",
            code=code,
            status=status,
        )
    if status == 403:
        return PermissionDenied(
            f"The API refused this request (HTTP 403): {text}. The key is accepted but may not "
            "use this model or project, or the organization is restricted; check the key's "
            "project and model access.",
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
        delay = retry_after if retry_after is not None else retry_after_from("", all_headers)
        return ServerError(f"Server error: {text}", code=code, status=status, retry_after=delay)
    return RequestRejected(f"Request rejected: {text}", code=code, status=status)
