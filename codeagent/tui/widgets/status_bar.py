"""The status bar: model, connection, context, tokens, timings and bytes on the wire.

It is updated from agent events and ``Agent.status()`` by the app; it never looks at the socket.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from codeagent.agent.events import TurnMetrics

TRANSPORT_LABELS = {
    "connecting": "connecting…",
    "connected": "WebSocket",
    "reconnecting": "reconnecting…",
    "http": "HTTP",
    "http-fallback": "HTTP fallback",
    "closed": "idle",
}


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


class StatusBar(Widget):
    """One line at the bottom of the screen."""

    model: reactive[str] = reactive("")
    transport: reactive[str] = reactive("idle")
    context_tokens: reactive[int] = reactive(0)
    input_tokens: reactive[int] = reactive(0)
    cached_tokens: reactive[int] = reactive(0)
    output_tokens: reactive[int] = reactive(0)
    ttft: reactive[float | None] = reactive(None)
    total_time: reactive[float | None] = reactive(None)
    bytes_sent: reactive[int] = reactive(0)
    bytes_full: reactive[int] = reactive(0)
    busy: reactive[bool] = reactive(False)
    queued: reactive[int] = reactive(0)

    model_calls = 0

    @staticmethod
    def format_seconds(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}s"

    def set_transport(self, state: str) -> None:
        self.transport = TRANSPORT_LABELS.get(state, state)

    def add_call(self, metrics: TurnMetrics) -> None:
        """Count one model call's tokens and bytes."""
        self.model_calls += 1
        self.input_tokens += metrics.input_tokens
        self.cached_tokens += metrics.cached_tokens
        self.output_tokens += metrics.output_tokens
        self.bytes_sent += metrics.bytes_sent
        self.bytes_full += metrics.bytes_full_resend
        self.context_tokens = metrics.input_tokens + metrics.output_tokens
        self.set_transport("connected" if metrics.transport == "websocket" else "http")

    def finish_turn(self, metrics: TurnMetrics) -> None:
        """Show the finished turn's time to first token and total time."""
        self.ttft = metrics.time_to_first_delta
        self.total_time = metrics.total_time

    def reset_usage(self) -> None:
        """Zero the counters (new session)."""
        self.model_calls = 0
        self.input_tokens = self.cached_tokens = self.output_tokens = 0
        self.bytes_sent = self.bytes_full = self.context_tokens = 0
        self.ttft = self.total_time = None

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.busy:
            text.append(" working ", style="bold reverse")
        if self.queued:
            text.append(f" {self.queued} queued ", style="italic")
        ttft, total = self.format_seconds(self.ttft), self.format_seconds(self.total_time)
        text.append(f" {self.model} ", style="bold")
        text.append(f"│ {self.transport} │ ctx {human_tokens(self.context_tokens)} ")
        text.append(
            f"│ in {human_tokens(self.input_tokens)} ({human_tokens(self.cached_tokens)} cached) "
            f"out {human_tokens(self.output_tokens)} "
        )
        text.append(f"│ ttft {ttft} total {total} ")
        text.append(f"│ sent {human_bytes(self.bytes_sent)}/{human_bytes(self.bytes_full)}")
        return text
