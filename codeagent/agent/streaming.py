"""Turning one model call's server events and conversation notices into ``AgentEvent``s."""

from __future__ import annotations

from codeagent.agent.conversation import ConversationNotice
from codeagent.agent.events import (
    AgentEvent,
    Notice,
    ReasoningDelta,
    ReasoningDone,
    TextDelta,
    TextDone,
    TransportState,
)
from codeagent.responses.events import (
    OutputTextDelta,
    OutputTextDone,
    ReasoningSummaryTextDelta,
    ReasoningSummaryTextDone,
    ResponseIncomplete,
    ServerEvent,
)

_NOTICE_CATEGORIES = {"reconnect", "fallback", "recovery", "checkpoint", "info", "warning"}


class StreamMapper:
    """Maps one call's stream. On a restart notice, every item still streaming is closed with an
    empty ``TextDone``/``ReasoningDone``: the UI drops its partial text, and the call's replay
    arrives as new items."""

    def __init__(self) -> None:
        self._open_text: set[str] = set()
        self._open_reasoning: set[str] = set()

    def map(self, event: ServerEvent | ConversationNotice) -> list[AgentEvent]:
        if isinstance(event, ConversationNotice):
            return self._notice(event)
        if isinstance(event, OutputTextDelta):
            self._open_text.add(event.item_id)
            return [TextDelta(event.item_id, event.delta)]
        if isinstance(event, OutputTextDone):
            self._open_text.discard(event.item_id)
            return [TextDone(event.item_id, event.text)]
        if isinstance(event, ReasoningSummaryTextDelta):
            self._open_reasoning.add(event.item_id)
            return [ReasoningDelta(event.item_id, event.delta)]
        if isinstance(event, ReasoningSummaryTextDone):
            self._open_reasoning.discard(event.item_id)
            return [ReasoningDone(event.item_id, event.text)]
        if isinstance(event, ResponseIncomplete):
            details = event.response.incomplete_details or {}
            reason = details.get("reason", "unknown reason")
            return [Notice("warning", f"The response was cut short ({reason}).")]
        return []

    def _notice(self, notice: ConversationNotice) -> list[AgentEvent]:
        category = notice.category if notice.category in _NOTICE_CATEGORIES else "info"
        events: list[AgentEvent] = []
        if notice.restart:
            events += [TextDone(item_id, "") for item_id in sorted(self._open_text)]
            events += [ReasoningDone(item_id, "") for item_id in sorted(self._open_reasoning)]
            self._open_text.clear()
            self._open_reasoning.clear()
        if notice.silent:
            return events  # the partial text is dropped, but there is nothing to tell
        events.append(Notice(category, notice.text))  # type: ignore[arg-type]
        if notice.category == "fallback":
            events.append(TransportState("http-fallback"))
        elif notice.category == "restored":
            events.append(TransportState("connected"))
        elif category == "reconnect":
            events.append(TransportState("reconnecting"))
        return events


__all__ = ["StreamMapper"]
