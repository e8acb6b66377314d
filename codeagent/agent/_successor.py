"""Steered calls inside the conversation: what a call asks the steering while it streams, and
committing a response that an automatic successor continues.

When the server commits a steer it ends the active response (``response.incomplete``, reason
``steered``, or plain ``completed``) and starts a successor by itself, on the same socket. The
history then holds, in the order the model saw them: the ended response's output, the steer's
user message, and the successor's output -- so a later full resend matches what the model saw.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from codeagent.agent._call_attempt import Attempt


class SteerHooks(Protocol):
    """What a ``Conversation`` asks the turn's steering while a call streams."""

    def hold(self) -> bool:
        """Whether a steer sent during the call is still unanswered or uncommitted (the stream
        then waits a bounded time after the terminal event for its successor)."""
        ...

    def successor(self, ended_id: str) -> list[dict[str, Any]]:
        """The user messages the successor of response ``ended_id`` committed (they are
        applied from now on)."""
        ...


def continue_with_successor(
    items: list[dict[str, Any]], attempt: Attempt, hooks: SteerHooks | None
) -> Attempt:
    """Commit the response ``attempt`` ended with (its output, then the steer messages its
    successor applied, join ``items``) and return the attempt that streams the successor."""
    assert attempt.terminal is not None
    response = attempt.terminal.response
    items.extend(copy.deepcopy(item) for item in (response.output or attempt.items_done()))
    if hooks is not None:
        items.extend(copy.deepcopy(hooks.successor(response.id)))
    return attempt.successor()


__all__ = ["SteerHooks", "continue_with_successor"]
