"""Messages the TUI's worker and approver post to the app.

The agent knows nothing about Textual; the app's session worker wraps each ``AgentEvent`` in an
``AgentEventReceived`` and the approver wraps each ``ApprovalRequest`` with the Future the agent is
awaiting (practice 2 in docs/textual-practices.md).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual.message import Message

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentEvent


@dataclass
class AgentEventReceived(Message):
    """One event from ``Agent.submit``, in the order the agent yielded it."""

    event: AgentEvent


@dataclass
class ApprovalRequested(Message):
    """The agent waits on ``future`` until the user decides on ``request``."""

    request: ApprovalRequest
    future: asyncio.Future[Decision]


@dataclass
class TurnFinished(Message):
    """The worker running one user message has returned (normally, interrupted or failed)."""

    text: str
    error: str | None = None
