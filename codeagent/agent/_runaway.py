"""Stopping a runaway turn: a cap on model calls per user turn, and a guard against the model
asking for the same tool call (same tool, same arguments) again and again.

Either stops the turn with ``TurnStopped``; the agent answers the calls that did not run, says
why, and the user can go on by sending another message (a new turn starts both counts afresh).
"""

from __future__ import annotations

from collections.abc import Sequence

from codeagent.agent.tool_calls import ToolCall

#: How many identical tool calls in a row stop the turn.
REPEAT_LIMIT = 3


class TurnStopped(Exception):
    """The turn was stopped by a guard; ``message`` is a sentence for the user."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class TurnGuard:
    """The limits of one user turn (make a new one per turn)."""

    def __init__(self, max_model_calls: int, repeat_limit: int = REPEAT_LIMIT):
        self.max_model_calls = max_model_calls
        self.repeat_limit = repeat_limit
        self.model_calls = 0
        self._last: tuple[str, str] | None = None
        self._repeats = 0

    def before_model_call(self) -> None:
        """Count a model call; raise ``TurnStopped`` when the turn has made its maximum."""
        if self.model_calls >= self.max_model_calls:
            raise TurnStopped(
                f"Stopped this turn after {self.model_calls} model calls (the limit per turn, "
                "max_model_calls_per_turn). Send another message to let the agent continue, "
                "or raise the limit in the configuration.",
                "call_cap",
            )
        self.model_calls += 1

    def before_tool_calls(self, calls: Sequence[ToolCall]) -> None:
        """Check the calls a response asks for, in order; raise ``TurnStopped`` when one is
        the ``repeat_limit``-th identical call in a row."""
        for call in calls:
            key = (call.tool, call.arguments)
            self._repeats = self._repeats + 1 if key == self._last else 1
            self._last = key
            if self._repeats >= self.repeat_limit:
                raise TurnStopped(
                    f"Stopped this turn: the model asked for the same {call.tool} call with the "
                    f"same arguments {self._repeats} times in a row ({_short(call)}). Send "
                    "another message to let the agent continue, perhaps with a hint.",
                    "repeat_guard",
                )


def _short(call: ToolCall) -> str:
    text = call.describe() if call.tool in ("shell", "apply_patch") else call.arguments
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


__all__ = ["REPEAT_LIMIT", "TurnGuard", "TurnStopped"]
