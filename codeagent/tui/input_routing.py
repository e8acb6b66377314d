"""Where input goes in the app: approvals beside the chat that never take focus, and keys or
pastes that reach the app unhandled, which belong to the prompt (the input-safety rules in
``codeagent.tui.app``'s docstring). A mixin of ``CodeAgentApp``: Textual finds its message
handlers and actions through the class's MRO."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual import events

from codeagent.tui.messages import ApprovalRequested
from codeagent.tui.widgets.chat import NoticeLine
from codeagent.tui.widgets.prompt import PromptArea

if TYPE_CHECKING:
    from pathlib import Path

    from textual.containers import Vertical

    from codeagent.tui.notify import Notifier
    from codeagent.tui.widgets.approval_panel import ApprovalPanel
    from codeagent.tui.widgets.chat import ChatLog
    from codeagent.tui.widgets.conversation import ConversationView


class InputRouting:
    """Approvals and stray keys; the attributes below are the app's."""

    if TYPE_CHECKING:
        side: Vertical
        chat: ChatLog
        prompt: PromptArea
        conversation: ConversationView
        notifier: Notifier
        root: Path

        def show_notice(self, category: str, text: str, *, markdown: bool = False) -> None: ...
        def refresh_bindings(self) -> None: ...
        def action_latest(self) -> None: ...

        @property
        def screen(self) -> Any: ...

    def _approval_panels(self) -> list[ApprovalPanel]:
        # By name: no import at start-up, so the type is told (the query matches only those).
        return cast("list[ApprovalPanel]", list(self.side.query("ApprovalPanel")))

    async def on_approval_requested(self, message: ApprovalRequested) -> None:
        """Show the request beside the chat *without* taking focus, and say that it waits."""
        from codeagent.tui.widgets.approval_panel import ApprovalPanel

        kind = "patch" if message.request.kind == "patch" else "command"
        self.notifier.approval_waiting(f"{kind}: {message.request.title}")
        self.show_notice(
            "waiting",
            f"Approval waiting ({kind}: {message.request.title}). Press F2, Tab on an empty "
            "prompt, or click it to answer; what you type stays in the prompt.",
        )
        waiting = self._approval_panels()
        if not waiting:
            await self.side.remove_children()  # a diff review gives way to the approval
        panel = ApprovalPanel(message.request, future=message.future, cwd=self.root)
        panel.display = not waiting  # later requests wait behind the one shown
        await self.side.mount(panel)
        self.side.display = True
        self.refresh_bindings()

    async def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
        """The panel resolved its Future: record the decision and close the panel."""
        from codeagent.tui.widgets.approval_panel import scope_phrase

        message.stop()
        decision = message.decision
        if decision.approved:
            phrase = scope_phrase(decision)
            scope = f" (for the session: {phrase})" if phrase else ""
            text = f"Approved: {message.request.title}{scope}"
        else:
            reason = f" — {decision.reason}" if decision.reason else ""
            text = f"Rejected: {message.request.title}{reason}"
        # Above the tool's block, which will hold the result: the decision reads first.
        notice = NoticeLine("approval", text)
        block = self.conversation.tool_block(message.request.call_id)
        if block is not None:
            await self.chat.mount(notice, before=block)
        else:
            await self.chat.add(notice)
        if message.panel is not None:
            await message.panel.remove()
        waiting = self._approval_panels()
        if waiting:
            waiting[0].display = True
        else:
            self.side.display = False
        # Back to the prompt even if another approval waits: the rest of a word typed at the
        # panel must not answer the next one.
        self.prompt.focus()
        self.refresh_bindings()

    def action_focus_approval(self) -> None:
        """F2: move to the waiting approval (a deliberate key, never one typed for the prompt)."""
        waiting = self._approval_panels()
        if waiting:
            waiting[0].focus_default()

    def on_prompt_area_tab_out(self, message: PromptArea.TabOut) -> None:
        self.action_focus_approval()

    async def _close_side(self) -> None:
        await self.side.remove_children()
        self.side.display = False
        self.prompt.focus()
        self.refresh_bindings()

    # --- keys: focus stays with the prompt

    def on_key(self, event: events.Key) -> None:
        """A printable key that reached the app unhandled (focus on a tool block, the plan, a
        review, or nowhere) belongs to the prompt: type it there instead of losing it."""
        if not event.is_printable or event.character is None or self.prompt.has_focus:
            return
        if event.key in self.screen.active_bindings:
            return  # the focused widget's own key (j/k in a diff, y/n/a in an approval)
        event.stop()
        self.prompt.focus()
        self.prompt.insert(event.character)

    def on_paste(self, event: events.Paste) -> None:
        """A paste that nothing else took (focus on a block or an approval) goes to the prompt."""
        if self.prompt.has_focus or not event.text:
            return
        event.stop()
        self.prompt.focus()
        self.prompt.insert(event.text)

    def on_prompt_area_scroll_requested(self, message: PromptArea.ScrollRequested) -> None:
        """PgUp/PgDn/Home/End from the prompt scroll the conversation; End re-anchors it."""
        chat = self.chat
        if message.where == "page_up":
            chat.scroll_page_up(animate=False)
        elif message.where == "page_down":
            chat.scroll_page_down(animate=False)
            if chat.scroll_y >= chat.max_scroll_y:
                chat.anchor()
        elif message.where == "home":
            chat.scroll_home(animate=False)
        else:
            self.action_latest()
