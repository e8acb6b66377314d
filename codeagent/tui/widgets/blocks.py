"""From agent events to conversation blocks: the one mapping live turns and resumed sessions share.

``block_key`` names the block an event belongs to (a tool call's block gets its proposal and its
output, a reasoning block its deltas and its end); ``BlockBuilder.block_for`` makes the block an
event starts, or updates the block it belongs to. The live view feeds it each event as it
arrives; a resumed session feeds it the recorded events (``event_from_dict``), a page at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.widget import Widget

from codeagent.agent import events as ev
from codeagent.tui.widgets.chat import (
    NoticeLine,
    ReasoningBlock,
    ToolBlock,
    UserMessage,
)
from codeagent.tui.widgets.steer import SteerMessage

if TYPE_CHECKING:
    from codeagent.tui.widgets.answer import AssistantMessage

#: the key of an event that starts a block of its own every time
ALONE = ""


def block_key(event: ev.AgentEvent) -> str | None:
    """The block ``event`` shows in: ``ALONE`` (a new block of its own), a key shared by the
    events of one block (``tool:ID``, ``answer:ID``, ``reasoning:ID``, ``steer:ID``), or None
    (no block)."""
    match event:
        case ev.TurnStarted() | ev.Notice() | ev.TurnInterrupted() | ev.AgentError():
            return ALONE
        case ev.TextDelta(item_id=item_id) | ev.TextDone(item_id=item_id):
            return f"answer:{item_id}"
        case ev.ReasoningDelta(item_id=item_id) | ev.ReasoningDone(item_id=item_id):
            return f"reasoning:{item_id}"
        case ev.SteerSubmitted(steer_id=steer_id) | ev.SteerUpdate(steer_id=steer_id):
            return f"steer:{steer_id}"
        case ev.ToolCallProposed(tool="update_plan") | ev.ToolOutput(tool="update_plan"):
            return None  # the plan view shows it
        case ev.ToolCallProposed(call_id=call_id) | ev.ToolOutput(call_id=call_id):
            return f"tool:{call_id}"
    return None


def error_text(event: ev.AgentError) -> str:
    """An error as the user reads it: the agent's sentence, never an internal code or class."""
    return event.message


class BlockBuilder:
    """Makes and updates the blocks of one stream of events (a live turn, or a page of a
    resumed session). ``on_plan`` receives plan updates (the live view's plan pane)."""

    def __init__(self, on_plan: Callable[[ev.PlanUpdated], None] | None = None) -> None:
        self.on_plan = on_plan
        self.blocks: dict[str, Widget] = {}

    def block_for(self, event: ev.AgentEvent) -> Widget | None:
        """The new block ``event`` starts, or None when it updates a block made before (a tool's
        output, more reasoning) or shows no block (metrics, transport, the plan).

        Streamed answer text is written by the caller (``AssistantMessage.write`` is async):
        for a ``TextDelta`` this only makes the (empty) answer block the first time.
        """
        if isinstance(event, ev.PlanUpdated) and self.on_plan is not None:
            self.on_plan(event)
        key = block_key(event)
        if key is None:
            return None
        existing = self.blocks.get(key) if key else None
        if existing is not None:
            self._update(existing, event)
            return None
        block = self._new(event)
        if key:
            self.blocks[key] = block
        return block

    @staticmethod
    def _new(event: ev.AgentEvent) -> Widget:
        # Markdown is imported with the first answer, not before the first paint (issue 15).
        from codeagent.tui.widgets.answer import AssistantMessage

        match event:
            case ev.TurnStarted(text=text):
                return UserMessage(text)
            case ev.TextDelta(item_id=item_id):
                return AssistantMessage(item_id)
            case ev.TextDone(item_id=item_id, text=text):
                return AssistantMessage(item_id, text)
            case ev.ReasoningDelta(item_id=item_id, delta=delta):
                block = ReasoningBlock(item_id)
                block.append(delta)
                return block
            case ev.ReasoningDone(item_id=item_id, text=text):
                block = ReasoningBlock(item_id)
                block.finish(text)
                return block
            case ev.ToolCallProposed():
                return ToolBlock(event.call_id, event.tool, event.title, event.diff or event.detail)
            case ev.ToolOutput():  # an output whose proposal is not shown (pruned, older page)
                tool = ToolBlock(event.call_id, event.tool, event.tool)
                tool.finish(event.output, event.success, event.exit_code, event.rejected)
                return tool
            case ev.SteerSubmitted(steer_id=steer_id, text=text, via=via):
                return SteerMessage(steer_id, text, via)
            case ev.SteerUpdate():  # a receipt whose message is not shown (an older page)
                steer = SteerMessage(event.steer_id, "")
                steer.receipt_update(event.state, event.detail)
                return steer
            case ev.Notice(category=category, text=text):
                return NoticeLine(category, text)
            case ev.TurnInterrupted(reason=reason):
                return NoticeLine("warning", f"Turn interrupted: {reason}.")
            case ev.AgentError():
                return NoticeLine("error", error_text(event))
        raise ValueError(f"no block for {event.kind}")  # block_key and _new disagree: a bug

    @staticmethod
    def _update(block: Widget, event: ev.AgentEvent) -> None:
        match event:
            case ev.ReasoningDelta(delta=delta) if isinstance(block, ReasoningBlock):
                block.append(delta)
            case ev.ReasoningDone(text=text) if isinstance(block, ReasoningBlock):
                block.finish(text)
            case ev.ToolOutput() if isinstance(block, ToolBlock):
                block.finish(event.output, event.success, event.exit_code, event.rejected)
            case ev.SteerSubmitted(via=via) if isinstance(block, SteerMessage):
                block.submitted(via)
            case ev.SteerUpdate(state=state, detail=detail) if isinstance(block, SteerMessage):
                block.receipt_update(state, detail)

    def tool(self, call_id: str) -> ToolBlock | None:
        """The block of tool call ``call_id``, if this builder made it."""
        block = self.blocks.get(f"tool:{call_id}")
        return block if isinstance(block, ToolBlock) else None

    def steer(self, steer_id: str) -> SteerMessage | None:
        """The block of steer ``steer_id``, if this builder shows it."""
        block = self.blocks.get(f"steer:{steer_id}")
        return block if isinstance(block, SteerMessage) else None

    def show_steer(self, block: SteerMessage) -> None:
        """Take ``block`` (shown when the user pressed Enter) as the one its events update."""
        self.blocks[f"steer:{block.steer_id}"] = block

    def answer(self, item_id: str) -> AssistantMessage | None:
        from codeagent.tui.widgets.answer import AssistantMessage

        block = self.blocks.get(f"answer:{item_id}")
        return block if isinstance(block, AssistantMessage) else None

    def mark_unfinished_interrupted(self) -> None:
        """Tool calls that never got an output did not finish: say so instead of "running"."""
        for block in self.blocks.values():
            if isinstance(block, ToolBlock) and block.has_class("running"):
                block.interrupt()

    def forget(self, key: str) -> Widget | None:
        return self.blocks.pop(key, None)


__all__ = ["ALONE", "BlockBuilder", "block_key", "error_text"]
