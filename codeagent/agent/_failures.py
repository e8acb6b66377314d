"""What the user is told when a turn stops on an exception (never a traceback)."""

from __future__ import annotations

from pydantic import ValidationError

from codeagent.agent._runaway import TurnStopped
from codeagent.agent.approvals import ApprovalNeeded
from codeagent.agent.events import AgentError
from codeagent.responses.errors import (
    ConnectionClosed,
    HandshakeFailed,
    IdleTimeout,
    ResponsesError,
)

#: failures to reach or keep a connection to the endpoint (after the wire layer's retries)
CONNECTION_ERRORS = (ConnectionClosed, HandshakeFailed, IdleTimeout)


def error_event(exc: BaseException, endpoint: str | None = None) -> AgentError:
    """The fatal ``AgentError`` for ``exc``: the wire layer's own message, the approval that was
    needed, or an internal error named by type (a bug; the app keeps running).

    A lost or refused connection also names ``endpoint`` (the base URL) and what to check.
    """
    if isinstance(exc, ApprovalNeeded):
        # "approval_refused": no policy could have allowed it, so exec must not suggest one.
        code = "approval_refused" if exc.request.always_ask else "approval_needed"
        return AgentError(str(exc), code=code)
    if isinstance(exc, CONNECTION_ERRORS):
        where = endpoint or "the API"
        return AgentError(
            f"Could not reach the model at {where}: {exc.message.rstrip('.')} (retried). "
            "Check your network or proxy and that this is the right address (--base-url or "
            "OPENAI_BASE_URL), then send your message again.",
            code=exc.code or type(exc).__name__,
        )
    if isinstance(exc, ResponsesError):
        return AgentError(exc.message, code=exc.code or type(exc).__name__)
    if isinstance(exc, TurnStopped):
        return AgentError(exc.message, code=exc.code)
    if isinstance(exc, ValidationError):  # an item of the model's answer had the wrong shape
        return AgentError(
            "The model's answer contained an item codeagent could not read "
            f"({_first_problem(exc)}); the turn stopped. Send another message to try again.",
            code="malformed_item",
        )
    return AgentError(f"Internal error: {type(exc).__name__}: {exc}", code="internal")


def not_run_note(exc: BaseException) -> str:
    """The output given to tool calls that did not run because the turn stopped on ``exc``."""
    if isinstance(exc, ApprovalNeeded):
        return "not run: the turn stopped because approval was needed and nobody could give it"
    if isinstance(exc, TurnStopped):
        return f"not run: {exc.message}"
    return "not run: the turn stopped on an error"


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "unreadable"}
    where = ".".join(str(p) for p in error["loc"]) or "the item"
    return f"{where}: {error['msg']}"


__all__ = ["error_event", "not_run_note"]
