"""The TUI's ``Approver``: hands each request to the app as a Message carrying a Future.

The agent awaits the Future; the app resolves it when the user presses a key in the
``ApprovalPanel`` (or rejects it when the turn is interrupted or the app closes).
"""

from __future__ import annotations

import asyncio

from textual.message_pump import MessagePump

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.tui.messages import ApprovalRequested


class TuiApprover:
    """Approver whose decisions come from the user through the app.

    It is created before the app (the agent needs it at construction) and attached to the app
    when the app mounts. A request that arrives with no app attached is rejected with a reason
    the model can act on, so an agent never waits for a UI that does not exist.
    """

    def __init__(self) -> None:
        self._target: MessagePump | None = None
        self.pending: list[asyncio.Future[Decision]] = []

    def attach(self, target: MessagePump | None) -> None:
        """Send future requests to ``target`` (None detaches)."""
        self._target = target

    async def decide(self, request: ApprovalRequest) -> Decision:
        """Ask the user and wait for the answer."""
        if self._target is None:
            return Decision.reject("no user interface is attached to approve this call")
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        try:
            self._target.post_message(ApprovalRequested(request, future))
            return await future
        finally:
            self.pending.remove(future)

    def reject_all(self, reason: str) -> None:
        """Answer every open request with a rejection (on interrupt or shutdown)."""
        for future in list(self.pending):
            if not future.done():
                future.set_result(Decision.reject(reason))
