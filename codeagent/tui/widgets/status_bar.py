"""The status bar: one ``AgentStatus`` on one line.

During a turn it leads with a spinner, the turn's elapsed time and what the agent does now
(waiting for the model, streaming, running a command, waiting for your approval, reconnecting);
then the model, connection, context left, cost, tokens and bytes. Every figure is the agent's
(``Agent.status()``): the bar counts nothing itself, so nothing is counted twice. The app sets
``status`` after each event; a timer only moves the spinner and the clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from codeagent.agent.status import AgentStatus
from codeagent.tui.widgets.chat import shorten

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: spinner frames per second
FRAMES_PER_SECOND = 10

TRANSPORT_LABELS = {
    "connecting": "connecting…",
    "connected": "WebSocket",
    "reconnecting": "reconnecting…",
    "http": "HTTP",
    "http-fallback": "HTTP fallback",
    "closed": "idle",
}
#: when no turn runs nothing is connecting: the socket opens with the next message
IDLE_LABELS = {**TRANSPORT_LABELS, "connecting": "WebSocket", "reconnecting": "WebSocket"}


def human_bytes(count: int) -> str:
    """``1234`` -> ``1.2 kB``."""
    size = float(count)
    for unit in ("B", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} MB"


def human_tokens(count: int) -> str:
    """``12345`` -> ``12.3k``."""
    return str(count) if count < 1000 else f"{count / 1000:.1f}k"


def human_cost(usd: float | None) -> str:
    """``$0.0123`` (four decimals below $10), ``$12.30`` above; ``$?`` when a price is unknown."""
    if usd is None:
        return "$?"
    return f"${usd:.4f}" if usd < 10 else f"${usd:,.2f}"


def human_seconds(seconds: float | None) -> str:
    """``0.42s`` below ten seconds, ``12s``, ``3m 05s``; ``–`` for None."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.2f}s"
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m {whole % 60:02d}s"


def human_elapsed(seconds: float) -> str:
    """A running clock: ``7s``, ``3m 05s``."""
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m {whole % 60:02d}s"


def transport_label(status: AgentStatus, busy: bool) -> str:
    """The connection as the user reads it (no stale "connecting…" while idle)."""
    labels = TRANSPORT_LABELS if busy else IDLE_LABELS
    return labels.get(status.transport, status.transport)


def context_left_label(status: AgentStatus) -> str:
    """``ctx 97% left`` (or the tokens in use when the model's window is unknown)."""
    left = status.context_left
    if left is None:
        return f"ctx {human_tokens(status.context_tokens)}"
    return f"ctx {round(100 * left)}% left"


class StatusBar(Widget):
    """One line at the bottom of the screen, rendering the agent's ``AgentStatus``."""

    status: reactive[AgentStatus | None] = reactive(None)
    #: a turn runs (set by the app from submit to the end of the turn)
    busy: reactive[bool] = reactive(False)
    queued: reactive[int] = reactive(0)
    #: steers sent in the running turn that are not applied yet
    steering: reactive[int] = reactive(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        #: the clock elapsed time is measured on (the agent's: ``time.monotonic``); tests pin it
        self.clock: Callable[[], float] = time.monotonic
        #: where a running turn's status is read again on each tick (the app: ``agent.status``),
        #: so a change no event announces (an approval given, a command started) shows too
        #: (None from it: no agent yet, the bar stays empty)
        self.source: Callable[[], AgentStatus | None] | None = None

    def on_mount(self) -> None:
        self.set_interval(1 / FRAMES_PER_SECOND, self._tick)

    def pull(self) -> None:
        """Read the status from ``source`` again."""
        if self.source is not None:
            self.status = self.source()

    def _tick(self) -> None:
        if not self.busy:
            return
        self.pull()
        self.refresh()

    # Read-only views of the status, for tests and commands that ask the bar what it shows.
    @property
    def transport(self) -> str:
        return "" if self.status is None else transport_label(self.status, self.busy)

    @property
    def model(self) -> str:
        return "" if self.status is None else f"{self.status.model} ({self.status.policy})"

    @property
    def output_tokens(self) -> int:
        return 0 if self.status is None else self.status.output_tokens

    def live_part(self, status: AgentStatus) -> str:
        """``⠹ streaming · 12s`` while a turn runs."""
        started = status.turn_started
        elapsed = max(0.0, self.clock() - started) if started is not None else 0.0
        frame = SPINNER[int(elapsed * FRAMES_PER_SECOND) % len(SPINNER)]
        doing = shorten(status.activity or "starting", 40)
        return f" {frame} {doing} · {human_elapsed(elapsed)} "

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        status = self.status
        if status is None:
            return text
        busy = self.busy or status.turn_started is not None
        if busy:
            style = "bold reverse" if "approval" in status.activity else "bold"
            text.append(self.live_part(status), style=style)
            text.append("│")
        if self.steering:
            text.append(f" ↪ {self.steering} steering ", style="italic")
        if self.queued:
            text.append(f" {self.queued} queued ", style="italic")
        text.append(f" {status.model} ({status.policy}) ", style="bold")
        text.append(f"│ {transport_label(status, busy)} │ {context_left_label(status)} ")
        if busy:
            text.append(f"│ turn {human_cost(status.turn_cost)} · {human_cost(status.cost)} ")
        else:
            text.append(f"│ {human_cost(status.cost)} ")
        text.append(
            f"│ in {human_tokens(status.input_tokens)} ({human_tokens(status.cached_tokens)} "
            f"cached) out {human_tokens(status.output_tokens)} "
        )
        last = status.last_turn
        if not busy and last is not None:  # during a turn, the last turn's times would mislead
            text.append(
                f"│ last turn {human_seconds(last.total_time)} "
                f"(first token {human_seconds(last.time_to_first_delta)}) "
            )
        sent, full = human_bytes(status.bytes_sent), human_bytes(status.bytes_full_resend)
        text.append(f"│ sent {sent}/{full}")
        return text
