"""The data of the end-to-end benchmark: link, configuration, one run, and what is derived
from a run's records (turns from the server timeline, tool time from exec's events)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.exec_run import ExecResult

TRANSPORTS = ("websocket", "http")
#: The client skips environment settings (so also SSL_CERT_FILE) for 127.0.0.1/localhost; this
#: other loopback address keeps the fallback link on loopback while the client trusts our CA.
LOOPBACK_ALIAS = "127.0.0.2"


@dataclass
class LinkSpec:
    """The emulated link: one-way delay and rate per direction."""

    rtt: float = 0.060
    rate_bps: float = 20e6

    def describe(self) -> str:
        return f"{self.rtt * 1000:.0f} ms round trip, {self.rate_bps / 1e6:.0f} Mbit/s each way"


@dataclass
class Run:
    """One rollout run: the client side (exec) and the server side (record, timeline)."""

    transport: str
    index: int
    exec: ExecResult
    record: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    wire_up: int
    wire_down: int
    connections: int
    tcp_connections: int
    turns: list[dict[str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exec.exit_code == 0 and bool(self.turns)

    @property
    def uploaded(self) -> int:
        return sum(int(r["nbytes"]) for r in self.record)

    @property
    def span(self) -> float:
        """First request received -> last response completed, at the server."""
        return self.turns[-1]["completed"] - self.turns[0]["received"]


def turns_from_timeline(timeline: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Pair each ``create_received`` with the following ``completed_sent`` (one per turn)."""
    turns: list[dict[str, float]] = []
    current: dict[str, float] | None = None
    for entry in sorted(timeline, key=lambda e: e["at"]):
        if entry["kind"] == "create_received":
            current = {"received": entry["at"]}
        elif entry["kind"] == "completed_sent" and current is not None:
            current["completed"] = entry["at"]
            turns.append(current)
            current = None
    return turns


def tool_times(result: ExecResult) -> list[float]:
    """Per model call, the client's tool time: from the ``model_call`` event (the response has
    completed) to the last ``tool_output`` before the next ``model_call``; 0 without tools."""
    times: list[float] = []
    start: float | None = None
    last_output: float | None = None
    for event in result.events:
        if event.get("kind") == "model_call":
            if start is not None:
                times.append(max(0.0, (last_output or start) - start))
            start, last_output = event["t"], None
        elif event.get("kind") == "tool_output" and start is not None:
            last_output = event["t"]
    if start is not None:
        times.append(max(0.0, (last_output or start) - start))
    return times


@dataclass
class E2EConfig:
    """How much to run: tool calls per rollout, runs per transport, and the link."""

    tool_calls: int = 25
    runs_per_transport: int = 3
    link: LinkSpec = field(default_factory=LinkSpec)
    use_namespace: bool = True
