"""Tell the user when codeagent needs them while they look at another window.

When an approval waits, or the last queued turn ends, while the terminal does not have focus
(Textual's ``AppBlur``/``AppFocus`` events keep ``App.app_focus``), the ``notify`` setting says
what to do: ``off`` nothing, ``bell`` the terminal bell, ``desktop`` the bell plus a desktop
notification through the terminal's own escape sequence: OSC 777 (``notify``) on terminals known
to speak it (VTE-based ones such as GNOME Terminal, foot, urxvt), OSC 9 elsewhere (iTerm2,
WezTerm, Windows Terminal, Ghostty, kitty). Terminals that know neither ignore the sequence.
Inside tmux the sequence is wrapped for passthrough (it needs ``set -g allow-passthrough on``).

An approval always rings the bell (unless ``off``), focused or not: that is the cue that a
decision waits (see ``app.py`` on input safety).

Text in a notification can come from the model (a command line), so it is reduced to printable
characters on one line: no escape, BEL or string terminator can end the sequence early or start
another one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

NotifyMode = Literal["off", "bell", "desktop"]
MAX_TEXT = 160
#: C0 and C1 controls and DEL: anything a terminal could treat as part of a sequence
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, without control characters, at most ``limit`` characters."""
    text = " ".join(_CONTROLS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def uses_osc777(env: Mapping[str, str]) -> bool:
    """True on terminals that show OSC 777 notifications (and may not know OSC 9)."""
    term = env.get("TERM", "")
    return bool(env.get("VTE_VERSION")) or term.startswith(("foot", "rxvt"))


def desktop_sequence(title: str, body: str, env: Mapping[str, str] | None = None) -> str:
    """The escape sequence that asks the terminal for a desktop notification."""
    env = os.environ if env is None else env
    title, body = clean(title).replace(";", ","), clean(body)
    if uses_osc777(env):
        sequence = f"\x1b]777;notify;{title};{body}\x1b\\"
    else:
        # "title: body" also keeps the text from starting with digits and ';', which
        # Windows Terminal and ConEmu read as OSC 9;N commands (progress and the like).
        sequence = f"\x1b]9;{title}: {body}\x1b\\"
    if env.get("TMUX"):  # tmux passes a DCS-wrapped sequence through, its ESCs doubled
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


class Notifier:
    """Rings and notifies for one app, following the ``notify`` setting."""

    def __init__(self, app: Any, mode: NotifyMode = "bell") -> None:
        self.app = app
        self.mode = mode

    def approval_waiting(self, what: str) -> None:
        """An approval waits: bell always; a desktop notification when the app is not focused."""
        if self.mode == "off":
            return
        self.app.bell()
        if self.mode == "desktop" and not self.app.app_focus:
            self._desktop(f"Approval waiting: {what}")

    def turn_finished(self, error: str | None = None) -> None:
        """The last turn ended: bell (and notification) only if the user looks elsewhere."""
        if self.mode == "off" or self.app.app_focus:
            return
        self.app.bell()
        if self.mode == "desktop":
            self._desktop(f"The turn failed: {error}" if error else "The turn finished.")

    def _desktop(self, body: str) -> None:
        driver = self.app._driver  # Textual has no public API for raw output (OSC 52 uses it too)
        if driver is not None:
            driver.write(desktop_sequence("codeagent", body))
