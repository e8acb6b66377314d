"""``ConversationView``: the chat column and the plan, rendered from agent events.

It handles the agent's events itself (``handle``), and shows a resumed session's transcript
(``show_transcript``) through the same ``BlockBuilder.block_for`` the live events use, so a
session looks the same when it is resumed as when it ran. Streaming state (which answer a
delta belongs to, which blocks a restarted model call must take back) lives here too.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeGuard

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget

from codeagent.agent import events as ev
from codeagent.tui.widgets.blocks import BlockBuilder
from codeagent.tui.widgets.chat import ChatLog, NoticeLine, UserMessage
from codeagent.tui.widgets.pages import (
    FIRST_BATCH,
    PAGE_BLOCKS,
    EarlierMessages,
    Group,
    group_blocks,
    last_plan,
)
from codeagent.tui.widgets.plan_view import PlanView
from codeagent.tui.widgets.steer import SteerMessage

if TYPE_CHECKING:
    from codeagent.tui.widgets.answer import AssistantMessage

#: notices after which the current model call starts again from scratch
RESTART_CATEGORIES = {"reconnect", "recovery", "fallback"}


def _is_answer(block: object) -> TypeGuard[AssistantMessage]:
    """An assistant answer (its module, with Markdown, loads with the first one: none before)."""
    answer = sys.modules.get("codeagent.tui.widgets.answer")
    return answer is not None and isinstance(block, answer.AssistantMessage)


class ConversationView(Vertical):
    """The conversation: user messages, answers, reasoning, tool calls, notices and the plan."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chat = ChatLog(id="chat")
        self.plan = PlanView(id="plan")
        self.live = BlockBuilder(self._show_plan)
        #: messages shown when submitted, waiting for their turn to start (oldest first)
        self.waiting: list[UserMessage] = []

    def compose(self) -> ComposeResult:
        yield self.chat
        yield self.plan

    def _show_plan(self, event: ev.PlanUpdated) -> None:
        self.plan.show_plan(event.steps, event.explanation)

    # --- what the user and the app add ---------------------------------------------------------

    async def add_user_message(self, text: str, *, queued: bool = False) -> None:
        """Show a message the user sent (``queued``: it waits for the running turn to end)."""
        message = UserMessage(text, queued=queued)
        self.waiting.append(message)
        await self.chat.add(message)

    async def add_steer(self, steer_id: str, text: str) -> None:
        """Show a message sent to steer the running turn; its events update its receipt."""
        if self.live.steer(steer_id) is None:
            block = SteerMessage(steer_id, text)
            self.live.show_steer(block)
            await self.chat.add(block)

    async def say(self, category: str, text: str, *, markdown: bool = False) -> None:
        await self.chat.add(NoticeLine(category, text, markdown=markdown))

    async def clear(self) -> None:
        """Remove every block and the plan (the agent keeps the conversation)."""
        await self.chat.clear()
        self.plan.clear()
        self.live = BlockBuilder(self._show_plan)
        self.waiting.clear()

    def tool_block(self, call_id: str) -> Widget | None:
        """The block of tool call ``call_id`` in the running turn, if it is shown."""
        block = self.live.tool(call_id)
        return block if block is not None and block.parent is self.chat else None

    # --- live events ---------------------------------------------------------------------------

    def begin_turn(self) -> None:
        self.live = BlockBuilder(self._show_plan)

    async def end_turn(self) -> None:
        """Close any stream the turn left open and mark calls that never finished (interrupt,
        error) as interrupted."""
        for block in list(self.live.blocks.values()):
            if _is_answer(block):
                await block.finish("")
        self.live.mark_unfinished_interrupted()

    async def handle(self, event: ev.AgentEvent) -> None:
        """Show ``event`` of the running turn."""
        match event:
            case ev.TurnStarted(text=text) if self.waiting and self.waiting[0].text == text:
                message = self.waiting.pop(0)
                if isinstance(message, SteerMessage):  # unapplied: it stays where it was typed
                    message.sent_as_next()
                    await self.chat.add(UserMessage(text))
                elif message.queued:  # its turn starts now: move it below the previous turn
                    await message.remove()
                    await self.chat.add(UserMessage(text))
                return
            case ev.TextDelta(item_id=item_id, delta=delta):
                if (block := self.live.block_for(event)) is not None:
                    await self.chat.add(block)
                answer = self.live.answer(item_id)
                if answer is not None:
                    await answer.write(delta)
                return
            case ev.TextDone(item_id=item_id, text=text) if self.live.answer(item_id):
                await self.live.answer(item_id).finish(text)  # type: ignore[union-attr]
                return
            case ev.StreamRestarted(item_ids=item_ids):
                await self._discard(item_ids)
                return
            case ev.Notice(category=category) if category in RESTART_CATEGORIES:
                await self._discard_open_answers()
        block = self.live.block_for(event)
        if block is not None:
            await self.chat.add(block)
        if isinstance(event, ev.TurnInterrupted):
            self.live.mark_unfinished_interrupted()
        if isinstance(event, ev.SteerUpdate) and event.state == "unapplied":
            self._wait_first(event.steer_id)

    def _wait_first(self, steer_id: str) -> None:
        """An unapplied steer waits first for the next turn (after earlier unapplied steers),
        as the app's queue sends it."""
        steer = self.live.steer(steer_id)
        if steer is None or steer in self.waiting:
            return
        steer.wait_as_next()
        ahead = 0
        while ahead < len(self.waiting) and isinstance(self.waiting[ahead], SteerMessage):
            ahead += 1
        self.waiting.insert(ahead, steer)

    async def _discard(self, item_ids: tuple[str, ...]) -> None:
        """A restarted model call streams again as new items: remove what it showed."""
        for item_id in item_ids:
            for key in (f"answer:{item_id}", f"reasoning:{item_id}"):
                block = self.live.forget(key)
                if _is_answer(block):
                    await block.finish("")
                if block is not None:
                    await block.remove()

    async def _discard_open_answers(self) -> None:
        """A reconnect restarts the model call: half-streamed text would be shown twice."""
        for key, block in list(self.live.blocks.items()):
            if _is_answer(block) and block.streaming:
                self.live.forget(key)
                await block.finish("")
                await block.remove()

    # --- resumed sessions ----------------------------------------------------------------------

    @staticmethod
    def build(group: Group) -> Widget:
        """The finished block of one recorded group of events (see ``pages.group_blocks``)."""
        builder = BlockBuilder()
        blocks = [block for event in group if (block := builder.block_for(event)) is not None]
        builder.mark_unfinished_interrupted()  # the session it ran in is over
        return blocks[0]

    async def show_transcript(self, transcript: list[dict[str, Any]]) -> int:
        """Show a resumed session's recorded events (dicts from ``event_to_dict``): the newest
        page of blocks, older ones behind an ``EarlierMessages`` line. Returns the block count."""
        events = [e for data in transcript if (e := ev.event_from_dict(data)) is not None]
        plan = last_plan(events)
        if plan is not None:
            self._show_plan(plan)
        groups = group_blocks(events)
        earlier, shown = groups[:-PAGE_BLOCKS], groups[-PAGE_BLOCKS:]
        if not shown:
            return 0
        older, newest = shown[:-FIRST_BATCH], [self.build(g) for g in shown[-FIRST_BATCH:]]
        await self.chat.add(*newest)
        above: list[Widget] = [EarlierMessages(earlier, self.build)] if earlier else []
        above += [self.build(group) for group in older]
        if above:
            await self.chat.mount_all(above, before=newest[0])
        return len(groups)

    async def load_earlier(self) -> bool:
        """Mount the previous page of a resumed session; False when all of it is shown."""
        found = self.chat.query(EarlierMessages)
        if not found:
            return False
        await found.first().load_more()
        self.chat.scroll_home(animate=False)  # the blocks just loaded are at the top
        return True


__all__ = ["RESTART_CATEGORIES", "ConversationView"]
