"""What the user is told when a turn stops on an exception (never a traceback)."""

from __future__ import annotations

from codeagent.agent.approvals import ApprovalNeeded
from codeagent.agent.events import AgentError
from codeagent.responses.errors import ResponsesError


def error_event(exc: BaseException) -> AgentError:
    """The fatal ``AgentError`` for ``exc``: the wire layer's own message, the approval that was
    needed, or an internal error named by type (a bug; the app keeps running)."""
    if isinstance(exc, ApprovalNeeded):
        return AgentError(str(exc), code="approval_needed")
    if isinstance(exc, ResponsesError):
        return AgentError(exc.message, code=exc.code or type(exc).__name__)
    return AgentError(f"Internal error: {type(exc).__name__}: {exc}", code="internal")


def not_run_note(exc: BaseException) -> str:
    """The output given to tool calls that did not run because the turn stopped on ``exc``."""
    if isinstance(exc, ApprovalNeeded):
        return "not run: the turn stopped because approval was needed and nobody could give it"
    return "not run: the turn stopped on an error"


__all__ = ["error_event", "not_run_note"]
