"""Turns ``AgentEvent``s into conversation widgets (and transcripts of resumed sessions).

Kept apart from the app so the mapping from events to blocks is one small module: which widget
each item id or call id streams into, what a reconnect does to half-streamed text, and how a
finished turn updates the status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widget import Widget

from codeagent.agent import events as ev
from codeagent.tui.replay import FIRST_BATCH, REPLAY_BLOCKS, EarlierMessages, plan_transcript
from codeagent.tui.widgets.chat import (
    AssistantMessage,
    NoticeLine,
    ReasoningBlock,
    ToolBlock,
)

if TYPE_CHECKING:
    from codeagent.tui.app import CodeAgentApp

#: notices after which the current model call starts again from scratch
RESTART_CATEGORIES = {"reconnect", "recovery", "fallback"}


class EventView:
    """Renders one app's agent events into its ``ChatLog``, ``PlanView`` and ``StatusBar``."""

    def __init__(self, app: CodeAgentApp) -> None:
        self.app = app
        self.answers: dict[str, AssistantMessage] = {}
        self.reasoning: dict[str, ReasoningBlock] = {}
        self.tools: dict[str, ToolBlock] = {}

    def begin_turn(self) -> None:
        self.answers.clear()
        self.reasoning.clear()
        self.tools.clear()

    async def end_turn(self) -> None:
        """Close any stream the turn left open (interrupt, error)."""
        for answer in self.answers.values():
            await answer.finish("")
        self.answers.clear()

    async def handle(self, event: ev.AgentEvent) -> None:
        """Show ``event``."""
        app, chat = self.app, self.app.chat
        match event:
            case ev.TextDelta(item_id=item_id, delta=delta):
                await (await self._answer(item_id)).write(delta)
            case ev.TextDone(item_id=item_id, text=text):
                await (await self._answer(item_id)).finish(text)
                self.answers.pop(item_id, None)
            case ev.ReasoningDelta(item_id=item_id, delta=delta):
                (await self._reasoning(item_id)).append(delta)
            case ev.ReasoningDone(item_id=item_id, text=text):
                (await self._reasoning(item_id)).finish(text)
            case ev.ToolCallProposed(tool="update_plan"):
                pass  # the plan view shows it
            case ev.ToolOutput(tool="update_plan"):
                pass
            case ev.ToolCallProposed():
                detail = event.diff or event.detail
                block = ToolBlock(event.call_id, event.tool, event.title, detail)
                self.tools[event.call_id] = block
                await chat.add(block)
            case ev.ToolOutput():
                block = self.tools.get(event.call_id)
                if block is None:
                    block = ToolBlock(event.call_id, event.tool, event.tool)
                    await chat.add(block)
                block.finish(event.output, event.success, event.exit_code, event.rejected)
            case ev.PlanUpdated(steps=steps, explanation=explanation):
                app.plan.show_plan(steps, explanation)
            case ev.StreamRestarted(item_ids=item_ids):
                await self._discard_items(item_ids)
            case ev.Notice(category=category, text=text):
                if category in RESTART_CATEGORIES:
                    await self._discard_open_answers()
                await chat.add(NoticeLine(category, text))
            case ev.TransportState(state=state):
                app.status_bar.set_transport(state)
            case ev.ModelCallCompleted(metrics=metrics):
                app.status_bar.add_call(metrics)
                app.refresh_status()
            case ev.TurnCompleted(metrics=metrics):
                app.status_bar.finish_turn(metrics)
                app.turns_completed += 1
            case ev.TurnInterrupted(reason=reason):
                await chat.add(NoticeLine("warning", f"Turn interrupted: {reason}."))
            case ev.AgentError(message=message, code=code):
                prefix = f"[{code}] " if code else ""
                await chat.add(NoticeLine("error", f"{prefix}{message}"))
            case ev.TurnStarted():
                pass

    async def _answer(self, item_id: str) -> AssistantMessage:
        answer = self.answers.get(item_id)
        if answer is None:
            answer = self.answers[item_id] = AssistantMessage(item_id)
            await self.app.chat.add(answer)
        return answer

    async def _reasoning(self, item_id: str) -> ReasoningBlock:
        block = self.reasoning.get(item_id)
        if block is None:
            block = self.reasoning[item_id] = ReasoningBlock(item_id)
            await self.app.chat.add(block)
        return block

    async def _discard_items(self, item_ids: tuple[str, ...]) -> None:
        """A restarted model call streams again as new items: remove what it showed."""
        for item_id in item_ids:
            answer = self.answers.pop(item_id, None)
            if answer is not None:
                await answer.finish("")
                await answer.remove()
            block = self.reasoning.pop(item_id, None)
            if block is not None:
                await block.remove()

    async def _discard_open_answers(self) -> None:
        """A reconnect restarts the model call: half-streamed text would be shown twice."""
        for answer in self.answers.values():
            await answer.finish("")
            await answer.remove()
        self.answers.clear()

    async def replay(self, transcript: list[dict[str, Any]]) -> None:
        """Render a resumed session's transcript (event dicts from ``event_to_dict``).

        Only the newest ``REPLAY_BLOCKS`` blocks are built, and they are mounted in one batch;
        older ones wait behind an ``EarlierMessages`` line.
        """
        planned = plan_transcript(transcript)
        if planned.plan is not None:
            self.app.plan.show_plan(*planned.plan)
        earlier, shown = planned.blocks[:-REPLAY_BLOCKS], planned.blocks[-REPLAY_BLOCKS:]
        if not shown:
            return
        # The newest few first, so the user sees where the session ended at once; the rest of
        # the page goes above them in a second batch.
        older, newest = shown[:-FIRST_BATCH], [spec.build() for spec in shown[-FIRST_BATCH:]]
        await self.app.chat.add(*newest)
        above: list[Widget] = [EarlierMessages(earlier)] if earlier else []
        above += [spec.build() for spec in older]
        if above:
            await self.app.chat.mount_all(above, before=newest[0])
