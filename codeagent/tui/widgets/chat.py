"""The conversation pane: user messages, streamed answers, reasoning and tool blocks, notices.

``ChatLog`` is an anchored ``VerticalScroll`` with ``layout: stream`` (see app.tcss): it follows
new output until the user scrolls up, and ``End`` re-anchors it. Answers are streamed with
``Markdown.get_stream`` so each token appends instead of re-rendering the whole message, and
the blocks of long answers far from the view fold away (``block_fold``) so a frame costs what is
near the screen, not the whole answer.
"""

from __future__ import annotations

import sys

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Collapsible, Static

# Textual and Rich pass ESC sequences in widget text to the terminal as is (OSC 52, OSC 0, CSI
# 2J were seen reaching it): every text from the model, a command or a server goes through this.
from codeagent.sanitize import display_text

#: blocks kept mounted; older ones are pruned so long sessions stay fast
MAX_BLOCKS = 300
PRUNE_TO = 200


#: longest reasoning title before it is shortened (the pane may clip it further, with "…")
TITLE_LENGTH = 80


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters at a word boundary, ending with "…"."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space > width // 2:  # a word boundary not too far back; else cut inside the long word
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


class UserMessage(Static):
    """What the user typed; ``queued`` while it waits for the running turn to end."""

    def __init__(self, text: str, *, queued: bool = False) -> None:
        self.text = text
        self.queued = queued
        shown = Text(display_text(text))
        if queued:
            shown.append("\n⏳ queued: sent when the current turn ends", style="not bold")
        super().__init__(shown, classes="queued" if queued else "")


class ReasoningBlock(Collapsible):
    """A reasoning summary, collapsed unless the user opens it."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self.text = ""
        self.body = Static("", classes="reasoning-body")
        super().__init__(self.body, title="Thinking…", collapsed=True, classes="reasoning")

    def append(self, delta: str) -> None:
        self.text += display_text(delta)
        self.body.update(Text(self.text))

    def finish(self, text: str) -> None:
        self.text = display_text(text) or self.text
        self.body.update(Text(self.text))
        first = self.text.strip().splitlines()[0] if self.text.strip() else "Reasoning"
        self.title = f"Thought: {shorten(first.strip('*# '), TITLE_LENGTH)}"


class ToolBlock(Collapsible):
    """A tool call: its command or patch, then its exit status and output."""

    def __init__(self, call_id: str, tool: str, title: str, detail: str = "") -> None:
        self.call_id = call_id
        self.tool = tool
        self.label = title = display_text(title)
        self.body = Static(Text(display_text(detail)), classes="tool-detail")
        self.output = Static("", classes="tool-output")
        super().__init__(
            self.body,
            self.output,
            title=f"{self._icon(tool)} {title}  …",
            collapsed=True,
            classes="tool running",
        )

    @staticmethod
    def _icon(tool: str) -> str:
        return {"shell": "$", "apply_patch": "±", "update_plan": "☰"}.get(tool, "ƒ")

    def finish(
        self, output: str, success: bool, exit_code: int | None, rejected: bool = False
    ) -> None:
        """Show how the call ended."""
        if rejected:
            status, state = "rejected", "failed"
        elif exit_code is not None:
            status, state = f"exit {exit_code}", "ok" if exit_code == 0 else "failed"
        else:
            status, state = ("done", "ok") if success else ("failed", "failed")
        mark = "✓" if state == "ok" else "✗"
        self.title = f"{self._icon(self.tool)} {self.label}  {mark} {status}"
        self.remove_class("running")
        self.add_class(state)
        self.output.update(Text(display_text(output).rstrip()))

    def interrupt(self) -> None:
        """The call never finished (the turn was interrupted or failed, or the app closed)."""
        self.title = f"{self._icon(self.tool)} {self.label}  ✗ interrupted"
        self.remove_class("running")
        self.add_class("failed", "interrupted")


class NoticeLine(Static):
    """A one-line notice (reconnect, fallback, recovery, checkpoint, info, warning, error)."""

    def __init__(self, category: str, text: str, *, markdown: bool = False) -> None:
        text = display_text(text)
        if markdown:
            super().__init__(classes=f"notice {category}")
            self._markdown = text
        else:
            super().__init__(Text(text), classes=f"notice {category}")
            self._markdown = ""

    def compose(self):
        if self._markdown:
            from textual.widgets import Markdown  # (markdown-it, pygments: not before paint)

            yield Markdown(self._markdown)


class ChatLog(VerticalScroll):
    """The scrolling conversation column."""

    can_focus = False
    _refold_pending = False

    def on_mount(self) -> None:
        self.anchor()
        self.watch(self, "scroll_y", self.refold_soon, init=False)

    def on_resize(self) -> None:
        self.refold_soon()  # a fold's height holds only at the width it was made at

    async def add(self, *widgets) -> None:
        """Mount ``widgets`` at the end, pruning the oldest blocks past ``MAX_BLOCKS``."""
        await self.mount_all(widgets)
        if len(self.children) > MAX_BLOCKS:
            await self.remove_children(list(self.children)[: len(self.children) - PRUNE_TO])
            self.call_later(self.anchor)
        self.refold_soon()

    def refold_soon(self) -> None:
        """Fold (and unfold) the answers' far blocks after the next refresh, when the sizes of
        that layout are known; asked again before then, it still runs once."""
        if not self._refold_pending:
            self._refold_pending = True
            self.call_after_refresh(self._refold)

    async def _refold(self) -> None:
        self._refold_pending = False
        # No answer exists before its module (and Markdown) is loaded: none to fold yet, and
        # the welcome's mount does not import them before the agent is even built (issue 15).
        answer = sys.modules.get("codeagent.tui.widgets.answer")
        if answer is None:
            return
        from codeagent.tui.widgets.block_fold import refold, stacked

        view_top = round(self.scroll_y)
        view_bottom = view_top + self.container_size.height
        for item in stacked(self.children):
            if isinstance(item.widget, answer.AssistantMessage):
                content_top = item.top + item.widget.styles.gutter.top
                await refold(item.widget, content_top, view_top, view_bottom)

    async def clear(self) -> None:
        """Remove every block."""
        await self.remove_children()
        self.anchor()


def __getattr__(name: str):
    """``AssistantMessage`` moved to ``answer`` (it is a Markdown widget: imported on first use)."""
    if name == "AssistantMessage":
        from codeagent.tui.widgets.answer import AssistantMessage

        return AssistantMessage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
