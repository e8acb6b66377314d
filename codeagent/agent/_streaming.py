"""Turning one model call's server events and conversation notices into ``AgentEvent``s, and
a turn's output into its final text."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from codeagent.agent.conversation import ConversationNotice
from codeagent.agent.events import (
    AgentEvent,
    Notice,
    ReasoningDelta,
    ReasoningDone,
    StreamRestarted,
    TextDelta,
    TextDone,
    TransportState,
)
from codeagent.responses.events import (
    MessageItem,
    OutputTextDelta,
    OutputTextDone,
    ReasoningSummaryTextDelta,
    ReasoningSummaryTextDone,
    ResponseIncomplete,
    ServerEvent,
)

_NOTICE_CATEGORIES = {"reconnect", "fallback", "recovery", "checkpoint", "info", "warning"}


class StreamMapper:
    """Maps one call's stream. An item's ``TextDone``/``ReasoningDone`` is held back until the
    response ends: until then a failed connection can still restart the call, and a restart
    must take back everything the attempt showed. On a restart notice the held-back events are
    dropped and ``StreamRestarted`` names the items the UI should remove; the call's replay
    arrives as new items."""

    def __init__(self) -> None:
        self._shown: list[str] = []  # item ids this attempt has shown, in order
        self._held: list[AgentEvent] = []

    def map(self, event: ServerEvent | ConversationNotice) -> list[AgentEvent]:
        if isinstance(event, ConversationNotice):
            return self._notice(event)
        if isinstance(event, OutputTextDelta | ReasoningSummaryTextDelta):
            if event.item_id not in self._shown:
                self._shown.append(event.item_id)
            if isinstance(event, OutputTextDelta):
                return [TextDelta(event.item_id, event.delta)]
            return [ReasoningDelta(event.item_id, event.delta)]
        if isinstance(event, OutputTextDone | ReasoningSummaryTextDone):
            if event.item_id not in self._shown:
                self._shown.append(event.item_id)
            done = TextDone if isinstance(event, OutputTextDone) else ReasoningDone
            self._held.append(done(event.item_id, event.text))
            return []
        if event.is_terminal and event.type != "response.failed":  # failed: retried
            events, self._held, self._shown = self._held, [], []
            if isinstance(event, ResponseIncomplete):
                details = event.response.incomplete_details or {}
                reason = details.get("reason", "unknown reason")
                if reason != "steered":  # a steer ended it: its successor goes on
                    events.append(Notice("warning", f"The response was cut short ({reason})."))
            return events
        return []

    def _notice(self, notice: ConversationNotice) -> list[AgentEvent]:
        category = notice.category if notice.category in _NOTICE_CATEGORIES else "info"
        events: list[AgentEvent] = []
        if notice.restart:
            if self._shown:
                events.append(StreamRestarted(tuple(self._shown)))
            self._held, self._shown = [], []
        if notice.silent:
            return events  # the partial output is taken back, but there is nothing to tell
        events.append(Notice(category, notice.text))  # type: ignore[arg-type]
        if notice.category == "fallback":
            events.append(TransportState("http-fallback"))
        elif notice.category == "restored":
            events.append(TransportState("connected"))
        elif category == "reconnect":
            events.append(TransportState("reconnecting"))
        return events


def final_text(output: list[dict[str, Any]]) -> str:
    """The text of the last assistant message in ``output`` ("" when there is none)."""
    texts = []
    for item in output:
        if item.get("type") == "message":
            try:
                texts.append(MessageItem.model_validate(item).text)
            except ValidationError:  # a malformed message shows as no text, not as a failure
                continue
    return texts[-1] if texts else ""


__all__ = ["StreamMapper", "final_text"]
