"""Typed errors of the wire layer. Each one carries a message fit to show a user as is."""

from __future__ import annotations


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
