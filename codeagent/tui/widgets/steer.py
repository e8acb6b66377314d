"""A message typed while a turn runs, sent to steer it (Enter mid-turn), with its receipt.

The block is the user's message marked "↪ steer"; its receipt line changes in place as the
agent's ``SteerUpdate`` events arrive: sent (or "goes with the next step" when it rides with the
next model call), accepted, applied; rescheduled (the server refused the steer event; it goes
with the next call instead); unapplied (the turn ended first: it waits as the first queued
message and is sent as the next one, so nothing typed is lost). Live turns and resumed sessions
build it the same way (``BlockBuilder``).
"""

from __future__ import annotations

from rich.text import Text

from codeagent.sanitize import display_text
from codeagent.tui.widgets.chat import UserMessage

MARK = "↪ steer"
#: states after which nothing more happens to the steer
FINAL_STATES = {"applied", "unapplied"}


class SteerMessage(UserMessage):
    """What the user typed to steer the running turn, and what became of it (its receipt)."""

    def __init__(self, steer_id: str, text: str, via: str = "") -> None:
        super().__init__(text)
        self.steer_id = steer_id
        #: how it travels (``SteerSubmitted.via``): "steer", "next_call", or "" until it is known
        self.via = via
        #: sent, accepted, applied, rescheduled or unapplied
        self.state = "sent"
        self.detail = ""
        self.add_class("steer", "sent")
        self.update(self._content())

    def submitted(self, via: str) -> None:
        """The agent said how the message travels."""
        self.via = via
        self.update(self._content())

    def receipt_update(self, state: str, detail: str = "") -> None:
        """Show the steer's new ``state``; a final state (applied, unapplied) is kept."""
        if self.state in FINAL_STATES:
            return
        self.remove_class(self.state)
        self.state, self.detail = state, display_text(detail)
        self.add_class(state)
        self.update(self._content())

    def wait_as_next(self) -> None:
        """Unapplied: it waits, first in the queue, for the running turn to end."""
        self.queued = True
        self.add_class("queued")
        self.update(self._content())

    def sent_as_next(self) -> None:
        """Its own turn started: it no longer waits."""
        self.queued = False
        self.remove_class("queued")
        self.update(self._content())

    @property
    def receipt(self) -> str:
        """The receipt line as shown, e.g. ``↪ steer · applied ✓``."""
        match self.state:
            case "sent" if self.via == "next_call":
                what = "sent: goes in with the next step"
            case "accepted":
                what = "accepted"
            case "applied":
                what = "applied ✓"
            case "rescheduled" if "next" in self.detail:  # the agent's words say where it goes
                what = f"rescheduled: {self.detail}"
            case "rescheduled":
                reason = f": {self.detail.rstrip('.')}" if self.detail else ""
                what = f"rescheduled{reason} — goes with the next step"
            case "unapplied" if self.queued:
                what = "not applied before the turn ended — queued first, sent when it ends"
            case "unapplied":
                what = "not applied before the turn ended — sent as the next message"
            case _:
                what = "sent"
        return f"{MARK} · {what}"

    def _content(self) -> Text:
        shown = Text(display_text(self.text))
        shown.append(f"\n{self.receipt}", style="not bold")
        return shown


__all__ = ["MARK", "SteerMessage"]
