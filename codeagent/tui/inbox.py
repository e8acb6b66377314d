"""What the user sends while a turn runs: steers waiting for their receipt, and the queue.

Enter mid-turn steers the turn (``steered``); Tab, a custom command or a message the agent
could not take as a steer waits in ``queue`` for the turn to end. A steer the turn ended
without applying ("unapplied", or no receipt at all) goes to the front of the queue, after the
earlier unapplied ones, so it is the next message and nothing typed is lost.
"""

from __future__ import annotations

from codeagent.agent import events as ev

#: a steer's receipts after which the inbox forgets it
FINAL = ("applied", "unapplied")


class Inbox:
    """The running turn's steers and the messages queued for after it."""

    def __init__(self) -> None:
        #: messages for the next turns, oldest first
        self.queue: list[str] = []
        #: steer id -> text, for steers not applied yet
        self.steers: dict[str, str] = {}
        self._ahead = 0  # unapplied steers put in front of the queue in this turn

    def turn_started(self) -> None:
        self._ahead = 0

    def steered(self, steer_id: str, text: str) -> None:
        self.steers[steer_id] = text

    def receipt(self, event: ev.AgentEvent) -> None:
        """Follow a steer's receipt; an unapplied steer becomes the next queued message."""
        if not isinstance(event, ev.SteerUpdate) or event.state not in FINAL:
            return
        text = self.steers.pop(event.steer_id, None)
        if text is not None and event.state == "unapplied":
            self.queue.insert(self._ahead, text)
            self._ahead += 1

    def unanswered(self) -> list[ev.SteerUpdate]:
        """At the turn's end: the steers it left without a final receipt, as unapplied."""
        return [
            ev.SteerUpdate(steer_id, "unapplied", "the turn ended first")
            for steer_id in self.steers
        ]

    def next(self) -> str | None:
        """The message to send now that the turn ended, if any."""
        return self.queue.pop(0) if self.queue else None


__all__ = ["Inbox"]
