"""Opening a long resumed session without mounting thousands of widgets.

A transcript's events are grouped into one list per block (``group_blocks``, by ``block_key``),
which is cheap data. Only the newest ``PAGE_BLOCKS`` groups are built and mounted, the newest
``FIRST_BATCH`` first so the end of the session shows at once; an ``EarlierMessages`` line above
them builds older pages when the user clicks it or types ``/earlier``. Mounting one widget at a
time made each mount relayout the whole log: a 2,000-message session took over 40 s to open.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from codeagent.agent import events as ev
from codeagent.tui.widgets.blocks import ALONE, block_key

#: blocks mounted when a session is opened, and per "earlier messages" page
PAGE_BLOCKS = 40
#: of those, mounted (and painted) first: the end of the session the user came back to
FIRST_BATCH = 8

Group = list[ev.AgentEvent]


def group_blocks(events: list[ev.AgentEvent]) -> list[Group]:
    """The events of each block, oldest block first (events that show no block are left out)."""
    groups: list[Group] = []
    by_key: dict[str, Group] = {}
    for event in events:
        key = block_key(event)
        if key is None:
            continue
        group = by_key.get(key) if key != ALONE else None
        if group is None:
            group = []
            groups.append(group)
            if key != ALONE:
                by_key[key] = group
        group.append(event)
    return groups


def last_plan(events: list[ev.AgentEvent]) -> ev.PlanUpdated | None:
    """The plan the session ended with."""
    plans = [event for event in events if isinstance(event, ev.PlanUpdated)]
    return plans[-1] if plans else None


class EarlierMessages(Static):
    """ "N earlier messages": a click (or ``/earlier``) mounts the previous page just below it."""

    def __init__(self, pending: list[Group], build: Callable[[Group], Widget]) -> None:
        super().__init__(classes="earlier")
        self.pending = pending
        self.build = build
        self._show_count()

    def _show_count(self) -> None:
        count = len(self.pending)
        noun = "message" if count == 1 else "messages"
        more = min(count, PAGE_BLOCKS)
        self.update(Text(f"↑ {count:,} earlier {noun} — click or /earlier to show {more:,} more"))

    async def load_more(self) -> None:
        """Mount the newest page of the pending blocks below this line."""
        if not self.pending:
            return
        page, self.pending = self.pending[-PAGE_BLOCKS:], self.pending[:-PAGE_BLOCKS]
        container = self.parent
        assert isinstance(container, Widget)  # the line is only ever mounted in a widget
        await container.mount_all([self.build(group) for group in page], after=self)
        if self.pending:
            self._show_count()
        else:
            await self.remove()

    async def on_click(self) -> None:
        await self.load_more()


__all__ = ["FIRST_BATCH", "PAGE_BLOCKS", "EarlierMessages", "group_blocks", "last_plan"]
