"""The prompt: a multi-line ``TextArea`` with history and completion.

Enter sends (``Submitted``); Shift+Enter or Ctrl+J adds a line (Ctrl+J works in terminals that
send Enter and Shift+Enter alike). While a turn runs (``busy``, set by the app) Enter's message
steers the turn and Tab with text queues it for after the turn (``Submitted.queue``); Tab still
completes first, and on an empty prompt it offers focus to a waiting approval (``TabOut``).
Up/Down on the first/last line walk the history. Typing ``/`` at the start opens the command
menu; ``@`` followed by letters opens fuzzy file completion.

Completions are computed from the text as it is when Enter or Tab is handled, never from the
menu's last refresh: the menu refreshes on ``TextArea.Changed``, which is queued *behind* keys
typed at full speed, so a stale entry would splice an old completion into newer text
("/stats" + Enter became "/status ats"). The prompt knows the commands only through the list it
is given (it imports no command module).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from codeagent.tui.widgets.completion import Completion, CompletionMenu, fuzzy_rank

AT_PATH = re.compile(r"@([\w./\-]*)$")


class CommandEntry(Protocol):
    """What the prompt needs of a slash command to offer it (``SlashCommand`` fits)."""

    # Read-only: the commands are frozen dataclasses.
    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def signature(self) -> str: ...


class PromptArea(TextArea):
    """Where the user types messages and slash commands."""

    # Not priority bindings: a priority binding runs as soon as the app sees the key, before the
    # characters typed just ahead of it (still queued for this widget) are inserted, so fast
    # typing or a paste followed by Enter would send a half-empty prompt. ``_on_key`` handles
    # them in order; the bindings are what the footer shows.
    BINDINGS = [
        Binding("enter", "submit", "Send", id="prompt.submit"),
        # While a turn runs the footer names what Enter and Tab do then (``check_action``).
        Binding("enter", "steer", "Steer", id="prompt.steer"),
        Binding("tab", "queue", "Queue", id="prompt.queue"),
        Binding("shift+enter,ctrl+j", "newline", "Newline", id="prompt.newline"),
        Binding("tab", "complete", "Complete", id="prompt.complete", show=False),
    ]
    KEY_ACTIONS = {
        "enter": "submit",
        "shift+enter": "newline",
        "ctrl+j": "newline",
        "tab": "complete",
    }
    #: keys that scroll the conversation instead of moving the cursor; Home/End only when the
    #: prompt is empty (in a multi-line draft they move the cursor; Ctrl+Home/End always scroll)
    SCROLL_KEYS = {
        "pageup": "page_up",
        "pagedown": "page_down",
        "ctrl+home": "home",
        "ctrl+end": "end",
    }
    SCROLL_KEYS_WHEN_EMPTY = {"home": "home", "end": "end"}

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on ``text`` (already stripped, never empty); ``queue``: Tab
        while a turn runs, so it waits for the turn to end instead of steering it."""

        prompt: PromptArea
        text: str
        queue: bool = False

        @property
        def control(self) -> PromptArea:
            return self.prompt

    @dataclass
    class TabOut(Message):
        """Tab on an empty prompt with nothing to complete: the host may move focus to
        something waiting for the user (an approval). Focus never leaves the prompt otherwise."""

        prompt: PromptArea

        @property
        def control(self) -> PromptArea:
            return self.prompt

    def __init__(
        self,
        menu: CompletionMenu | None = None,
        commands: Sequence[CommandEntry] = (),
        **kwargs,
    ) -> None:
        super().__init__(
            soft_wrap=True, show_line_numbers=False, highlight_cursor_line=False, **kwargs
        )
        self.menu = menu
        self.commands = list(commands)
        self.sent_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""
        self.files: list[str] = []
        #: a turn runs (the app sets it): Enter then steers it, Tab with text queues
        self.busy = False

    @dataclass
    class ScrollRequested(Message):
        """Scroll the conversation: ``where`` is page_up, page_down, home or end."""

        prompt: PromptArea
        where: str

        @property
        def control(self) -> PromptArea:
            return self.prompt

    async def _on_key(self, event: events.Key) -> None:
        # Handled here, in the order keys arrive, not as bindings (see BINDINGS above).
        where = self.SCROLL_KEYS.get(event.key)
        if where is None and not self.text:
            where = self.SCROLL_KEYS_WHEN_EMPTY.get(event.key)
        if where is not None:
            event.stop()
            event.prevent_default()
            self.post_message(self.ScrollRequested(self, where))
            return
        action = self.KEY_ACTIONS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{action}")()

    # --- submitting and history ---------------------------------------------------------------

    def action_submit(self) -> None:
        text = self.text
        slash = text.startswith("/") and " " not in text and "\n" not in text
        exact = slash and text[1:].lower() in self._command_names()
        menu_open = self.menu is not None and self.menu.is_open
        # Complete for the text as it is now (see the module docstring); a command name typed
        # in full runs as typed, even when the menu has not caught up yet.
        completed = not exact and (slash or menu_open) and self._accept_completion()
        if completed and not self.text.startswith("/"):
            return  # an @path was completed: keep typing
        self._send()

    def action_steer(self) -> None:
        """Enter while a turn runs (the footer's name for it): the message steers the turn."""
        self.action_submit()

    def action_queue(self) -> None:
        """Send the message to wait for the running turn to end."""
        self._send(queue=True)

    def _send(self, *, queue: bool = False) -> None:
        text = self.text.strip()
        if not text:
            return
        if not self.sent_history or self.sent_history[-1] != text:
            self.sent_history.append(text)
        self._history_index = None
        self.clear()
        self._hide_menu()
        self.post_message(self.Submitted(self, text, queue))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer shows Send when idle, Steer and Queue while a turn runs.
        if action == "submit":
            return not self.busy
        if action in ("steer", "queue"):
            return self.busy
        return super().check_action(action, parameters)

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
        """Tab: accept the completion for the current text; with none, queue the message while
        a turn runs (a slash command only completes). Focus stays here."""
        if self._accept_completion():
            return
        if not self.text.strip():
            self.post_message(self.TabOut(self))
        elif self.busy and not self.text.startswith("/"):
            self._send(queue=True)

    def _command_names(self) -> set[str]:
        return {cmd.name for cmd in self.commands}

    def _accept_completion(self) -> bool:
        """Apply the completion for ``self.text`` as it is now; False when there is none."""
        text = self.text
        entries = self.completions_for(text)
        if not entries:
            self._hide_menu()
            return False
        choices = [completion for _, completion in entries]
        choice = choices[0]
        menu = self.menu
        # Keep the user's highlighted choice only if the menu was built for this very text.
        if menu is not None and menu.is_open and menu.completions == choices:
            choice = menu.current or choice
        self._set_text(text[: choice.start] + choice.replacement + text[choice.end :])
        self._hide_menu()
        return True

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
                for cmd in self.commands
                if cmd.name.startswith(text[1:].lower())
            ]
        match = AT_PATH.search(text)
        if match and self.files:
            start = match.start()
            return [
                (Text(path), Completion(start, len(text), f"@{path} "))
                for path in fuzzy_rank(match.group(1), self.files, limit=8)
            ]
        return []
