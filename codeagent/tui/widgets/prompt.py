"""The prompt: a multi-line ``TextArea`` with history and completion.

Enter sends (``Submitted``); Shift+Enter or Ctrl+J adds a line (Ctrl+J works in terminals that
send Enter and Shift+Enter alike). Up/Down on the first/last line walk the history. Typing ``/``
at the start opens the command menu; ``@`` followed by letters opens fuzzy file completion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from codeagent.tui import commands
from codeagent.tui.widgets.completion import Completion, CompletionMenu, fuzzy_rank

AT_PATH = re.compile(r"@([\w./\-]*)$")


class PromptArea(TextArea):
    """Where the user types messages and slash commands."""

    # Not priority bindings: a priority binding runs as soon as the app sees the key, before the
    # characters typed just ahead of it (still queued for this widget) are inserted, so fast
    # typing or a paste followed by Enter would send a half-empty prompt. ``_on_key`` handles
    # them in order; the bindings are what the footer shows.
    BINDINGS = [
        Binding("enter", "submit", "Send", id="prompt.submit"),
        Binding("shift+enter,ctrl+j", "newline", "Newline", id="prompt.newline"),
        Binding("tab", "complete", "Complete", id="prompt.complete", show=False),
    ]
    KEY_ACTIONS = {"enter": "submit", "shift+enter": "newline", "ctrl+j": "newline"}

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on ``text`` (already stripped, never empty)."""

        prompt: PromptArea
        text: str

        @property
        def control(self) -> PromptArea:
            return self.prompt

    def __init__(self, menu: CompletionMenu | None = None, **kwargs) -> None:
        super().__init__(
            soft_wrap=True, show_line_numbers=False, highlight_cursor_line=False, **kwargs
        )
        self.menu = menu
        self.sent_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""
        self.files: list[str] = []

    async def _on_key(self, event: events.Key) -> None:
        action = self.KEY_ACTIONS.get(event.key)
        if event.key == "tab" and self.menu is not None and self.menu.is_open:
            action = "complete"
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{action}")()

    # --- submitting and history ---------------------------------------------------------------

    def action_submit(self) -> None:
        if self.menu is not None and self.menu.is_open:
            self.action_complete()
            if not self.text.startswith("/") or " " in self.text.strip():
                return
        text = self.text.strip()
        if not text:
            return
        if not self.sent_history or self.sent_history[-1] != text:
            self.sent_history.append(text)
        self._history_index = None
        self.clear()
        self._hide_menu()
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        start, end = self.selection
        self._replace_via_keyboard("\n", start, end)

    def _recall(self, step: int) -> bool:
        if not self.sent_history:
            return False
        if self._history_index is None:
            if step > 0:
                return False
            self._draft = self.text
            index = len(self.sent_history) - 1
        else:
            index = self._history_index + step
        if index >= len(self.sent_history):
            self._history_index = None
            self._set_text(self._draft)
            return True
        self._history_index = max(index, 0)
        self._set_text(self.sent_history[self._history_index])
        return True

    def _set_text(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def action_cursor_up(self, select: bool = False) -> None:
        if self.menu is not None and self.menu.is_open and not select:
            self.menu.move(-1)
        elif select or self.cursor_location[0] > 0 or not self._recall(-1):
            super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        last_row = self.document.line_count - 1
        if self.menu is not None and self.menu.is_open and not select:
            self.menu.move(1)
        elif select or self.cursor_location[0] < last_row or not self._recall(1):
            super().action_cursor_down(select)

    # --- completion ---------------------------------------------------------------------------

    def action_complete(self) -> None:
        """Accept the highlighted completion, or move focus when there is none."""
        choice = self.menu.current if self.menu is not None else None
        if choice is None:
            self.screen.focus_next()
            return
        text = self.text
        self._set_text(text[: choice.start] + choice.replacement + text[choice.end :])
        self._hide_menu()

    def dismiss_menu(self) -> bool:
        """Close the menu; True when one was open (so Esc does nothing else)."""
        if self.menu is not None and self.menu.is_open:
            self._hide_menu()
            return True
        return False

    def _hide_menu(self) -> None:
        if self.menu is not None:
            self.menu.hide()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.menu is None:
            return
        self.menu.show(self.completions_for(self.text))

    def completions_for(self, text: str) -> list[tuple[Text, Completion]]:
        """Menu entries for ``text`` as typed so far."""
        if text.startswith("/") and " " not in text and "\n" not in text:
            return [
                (Text(f"{cmd.signature:<24} {cmd.help}"), Completion(0, len(text), f"/{cmd.name} "))
                for cmd in commands.matching(text[1:])
            ]
        match = AT_PATH.search(text)
        if match and self.files:
            start = match.start()
            return [
                (Text(path), Completion(start, len(text), f"@{path} "))
                for path in fuzzy_rank(match.group(1), self.files, limit=8)
            ]
        return []
