"""Re-rendering a resumed session's transcript without mounting thousands of widgets.

A transcript is first turned into plain ``BlockSpec``s (cheap data, no widgets). Only the newest
``REPLAY_BLOCKS`` are built and mounted, in two batches (the newest ``FIRST_BATCH`` first, so the
end of the session shows at once); an ``EarlierMessages`` line above them builds and mounts older
blocks a page at a time when the user clicks it. Mounting one widget at a
time made each mount relayout the whole log, so a 2,000-message session took over 40 s to open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from codeagent.agent import events as ev
from codeagent.tui.widgets.chat import (
    AssistantMessage,
    NoticeLine,
    ReasoningBlock,
    ToolBlock,
    UserMessage,
)

#: blocks mounted when a session is opened, and per click on "earlier messages"
REPLAY_BLOCKS = 40
#: of those, mounted (and painted) first: the end of the session the user came back to
FIRST_BATCH = 8


@dataclass
class BlockSpec:
    """One conversation block to build later: ``build()`` makes its widget."""

    build: Callable[[], Widget]


@dataclass
class Replay:
    """What a transcript renders to: its blocks, oldest first, and the last plan (if any)."""

    blocks: list[BlockSpec]
    plan: tuple[tuple[ev.PlanStep, ...], str] | None = None


def _tool_block(entry: dict[str, Any], output: dict[str, Any] | None) -> ToolBlock:
    block = ToolBlock(
        str(entry.get("call_id", "")),
        str(entry.get("tool", "")),
        str(entry.get("title", "")),
        str(entry.get("diff") or entry.get("detail") or ""),
    )
    if output is not None:
        block.finish(
            str(output.get("output", "")),
            bool(output.get("success", True)),
            output.get("exit_code"),
            bool(output.get("rejected", False)),
        )
    return block


def _reasoning_block(entry: dict[str, Any]) -> ReasoningBlock:
    block = ReasoningBlock(str(entry.get("item_id", "")))
    block.finish(str(entry.get("text", "")))
    return block


def _spec(entry: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> BlockSpec | None:
    """The block for one transcript entry (None for entries that show no block)."""
    kind = entry.get("kind") or entry.get("type")
    text = str(entry.get("text", ""))
    if kind in ("turn_started", "user"):
        return BlockSpec(lambda: UserMessage(text))
    if kind == "text_done":
        item_id = str(entry.get("item_id", ""))
        return BlockSpec(lambda: AssistantMessage(item_id, text))
    if kind == "tool_call" and entry.get("tool") != "update_plan":
        output = outputs.get(str(entry.get("call_id", "")))
        return BlockSpec(lambda: _tool_block(entry, output))
    if kind == "reasoning_done":
        return BlockSpec(lambda: _reasoning_block(entry))
    if kind == "notice":
        category = str(entry.get("category", "info"))
        return BlockSpec(lambda: NoticeLine(category, text))
    if kind == "turn_interrupted":
        reason = str(entry.get("reason", ""))
        return BlockSpec(lambda: NoticeLine("warning", f"Turn interrupted: {reason}."))
    if kind == "error":
        prefix = f"[{entry['code']}] " if entry.get("code") else ""
        message = f"{prefix}{entry.get('message', '')}"
        return BlockSpec(lambda: NoticeLine("error", message))
    return None


def plan_transcript(transcript: list[dict[str, Any]]) -> Replay:
    """Turn transcript entries (dicts from ``event_to_dict``) into block specs, oldest first."""
    outputs = {
        str(entry.get("call_id")): entry
        for entry in transcript
        if (entry.get("kind") or entry.get("type")) == "tool_output"
    }
    replay = Replay([])
    for entry in transcript:
        if entry.get("kind") == "plan":
            steps = tuple(ev.PlanStep(**step) for step in entry.get("steps", ()))
            replay.plan = (steps, str(entry.get("explanation", "")))
        elif (spec := _spec(entry, outputs)) is not None:
            replay.blocks.append(spec)
    return replay


class EarlierMessages(Static):
    """ "N earlier messages": a click mounts the previous page of blocks just below this line."""

    def __init__(self, pending: list[BlockSpec], page: int = REPLAY_BLOCKS) -> None:
        super().__init__(classes="earlier")
        self.pending = pending
        self.page = page
        self._show_count()

    def _show_count(self) -> None:
        count = len(self.pending)
        noun = "message" if count == 1 else "messages"
        more = min(count, self.page)
        self.update(Text(f"↑ {count:,} earlier {noun} — click or /earlier to show {more:,} more"))

    async def load_more(self) -> None:
        """Mount the newest ``page`` of the pending blocks below this line."""
        if not self.pending:
            return
        page, self.pending = self.pending[-self.page :], self.pending[: -self.page]
        await self.parent.mount_all([spec.build() for spec in page], after=self)
        if self.pending:
            self._show_count()
        else:
            await self.remove()

    async def on_click(self) -> None:
        await self.load_more()
