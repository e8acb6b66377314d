"""How a failed model call is retried: the wait before the next attempt, and how the recovery
is named in metrics and told to the user."""

from __future__ import annotations

from dataclasses import dataclass

from codeagent.responses.errors import (
    ConnectionClosed,
    ConnectionLimitReached,
    IdleTimeout,
    RateLimited,
    ResponsesError,
    StreamCorrupted,
)

#: A server-suggested wait longer than this is not waited out; the error goes to the user.
MAX_RETRY_AFTER = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff, honouring a rate limit's suggested delay. The first retry after a
    lost connection (dropped, corrupt, at its lifetime limit, or silent for the idle timeout) is
    immediate: a new socket is all it needs, and the wait so far was already long enough."""

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, exc: ResponsesError, retries: int) -> float | None:
        """Seconds to wait before retrying after ``exc``, or ``None`` to give up."""
        if not exc.retryable or retries >= self.max_retries:
            return None
        if exc.retry_after is not None:  # 429 and 5xx: the server says when
            return exc.retry_after if exc.retry_after <= MAX_RETRY_AFTER else None
        if retries == 0 and isinstance(
            exc, ConnectionClosed | ConnectionLimitReached | IdleTimeout
        ):
            return 0.0
        return min(self.base_delay * 2.0**retries, self.max_delay)  # 2.0: a float, not Any


def recovery_name(exc: ResponsesError) -> str:
    """The name of the recovery taken after ``exc``, as reported in ``CallMetrics``."""
    if isinstance(exc, ConnectionLimitReached):
        return "connection_limit"
    if isinstance(exc, StreamCorrupted):
        return "corrupt_stream"
    if isinstance(exc, ConnectionClosed):
        return "reconnect"
    if isinstance(exc, IdleTimeout):
        return "idle_timeout"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    return exc.code or type(exc).__name__


def notice_category(exc: ResponsesError) -> str:
    """The ``ConversationNotice`` category for a retry after ``exc``."""
    if isinstance(exc, (ConnectionClosed, ConnectionLimitReached, IdleTimeout)):
        return "reconnect"
    return "recovery"


def silent_retry(exc: ResponsesError, retries: int) -> bool:
    """Whether the retry numbered ``retries`` (0 = first) after ``exc`` goes untold: only the
    first after a dropped socket or its lifetime limit (a corrupt stream is always told)."""
    if retries != 0 or isinstance(exc, StreamCorrupted):
        return False
    return isinstance(exc, ConnectionClosed | ConnectionLimitReached)


def retry_text(exc: ResponsesError, delay: float, attempt: int) -> str:
    """The notice for a retry: what happened, and when the next attempt comes."""
    what = exc.message
    if isinstance(exc, StreamCorrupted):
        what += " The partial response was discarded."
    when = "now" if delay <= 0 else f"in {delay:.1f} s"
    return f"{what} Retrying {when} (attempt {attempt})."
