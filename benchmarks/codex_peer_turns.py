"""What one peer-benchmark run measured, read from the server's record and timeline.

Every tool call of the peer loops runs the same shell command in both clients::

    date '+@@t0 %s.%N'; cat calc/modN.py; date '+@@t1 %s.%N'

``date`` stamps the wall clock when the command starts and ends (bash's ``$EPOCHREALTIME``
would save the two forks, but codeagent rightly counts a ``$`` expansion as a command that may
write, which without a sandbox needs approval); the output travels back to the
server inside the next request, so the server's record holds both stamps for each tool turn,
whichever client ran it. A tool turn is then, all on the server's clock:

- ``gap``: ``response.completed`` sent -> the next ``response.create`` received;
- ``tool``: the command's own time between the stamps (``t1 - t0``);
- ``turnaround`` = ``gap - tool``: the client's work (parse the response, decide, spawn the
  shell, collect its output, build and send the request), plus loopback transfer;
- ``before`` / ``after``: the parts of it before the command started and after it ended
  (the stamps moved from the wall clock onto ``CLOCK_MONOTONIC`` with one measured offset).

Codex also reports its own view of the tool's time in the output it sends back (``Wall time:
0.0031 seconds``, spawn to exit); ``self_reported`` keeps it.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks.exec_run import ExecResult
from benchmarks.rollout import N_MODULES

STAMP = re.compile(r"@@t([01]) (\d+\.\d+)")
CODEX_WALL = re.compile(r"Wall time: (\d+(?:\.\d+)?) seconds")


def tool_command(index: int) -> str:
    """The shell command of tool call ``index`` (a ~4 KB module read between two stamps)."""
    path = f"calc/mod{index % N_MODULES}.py"
    return f"date '+@@t0 %s.%N'; cat {path}; date '+@@t1 %s.%N'"


def clock_offset() -> float:
    """``time.time() - time.monotonic()``, from the tightest of a few paired readings."""
    best: tuple[float, float] | None = None
    for _ in range(20):
        a = time.monotonic()
        wall = time.time()
        b = time.monotonic()
        if best is None or b - a < best[0]:
            best = (b - a, wall - (a + b) / 2)
    assert best is not None
    return best[1]


def stamp_cost(repeats: int = 21) -> float:
    """The median time between two ``date`` stamps run back to back in one ``bash -c``: what
    one stamp (a fork and exec of ``date``) adds to the time around the command."""
    script = "date '+%s.%N'; date '+%s.%N'"
    gaps = []
    for _ in range(repeats):
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout
        first, second = (float(x) for x in out.split())
        gaps.append(second - first)
    return statistics.median(gaps)


@dataclass
class ToolTurn:
    """One tool call's round trip through the client, in seconds (see the module docstring)."""

    index: int
    gap: float
    #: When the server received this turn's request (server clock).
    at: float = 0.0
    tool: float | None = None
    before: float | None = None
    after: float | None = None
    self_reported: float | None = None
    #: The server's own time for the request this turn sent (received -> completed sent).
    server: float | None = None
    #: ``response.completed`` sent -> the client's ``tool_call`` event arrived (codeagent only).
    decided: float | None = None

    @property
    def turnaround(self) -> float | None:
        return None if self.tool is None else self.gap - self.tool


@dataclass
class Request:
    """One request the server received: when, how big, over which transport, what it was."""

    at: float
    nbytes: int
    transport: str
    raw: str
    prewarm: bool = False
    has_output: bool = False


@dataclass
class PeerRun:
    """One client run of one loop: the client's process and the server's view of it."""

    client: str
    calls: int
    index: int
    exec: ExecResult
    requests: list[Request] = field(default_factory=list)
    turns: list[ToolTurn] = field(default_factory=list)
    connections: int = 0

    @property
    def ok(self) -> bool:
        """Exit 0 and every tool call seen come back."""
        return self.exec.exit_code == 0 and len(self.turns) == self.calls

    @property
    def first_request(self) -> float | None:
        """Process start -> the first request the server received (a prewarm counts)."""
        return self.requests[0].at - self.exec.started if self.requests else None

    @property
    def first_generating_request(self) -> float | None:
        """Process start -> the first request that asks for model output."""
        real = [r for r in self.requests if not r.prewarm]
        return real[0].at - self.exec.started if real else None

    @property
    def transports(self) -> str:
        return "+".join(sorted({r.transport for r in self.requests})) or "none"


def read_requests(record: list[dict[str, Any]]) -> list[Request]:
    """The record's frames as requests, oldest first."""
    out = []
    for frame in sorted(record, key=lambda f: f["at"]):
        raw = frame.get("raw") or ""
        out.append(
            Request(
                at=float(frame["at"]),
                nbytes=int(frame["nbytes"]),
                transport=str(frame["transport"]),
                raw=raw,
                prewarm='"generate":false' in raw.replace(" ", ""),
                has_output=any(which == "1" for which, _ in STAMP.findall(raw)),
            )
        )
    return out


def tool_turns(
    requests: list[Request], timeline: list[dict[str, Any]], offset: float
) -> list[ToolTurn]:
    """A :class:`ToolTurn` per request carrying a stamped tool output.

    ``offset`` is :func:`clock_offset` (wall minus monotonic) on this machine.
    """
    completed = sorted(float(e["at"]) for e in timeline if e["kind"] == "completed_sent")
    turns: list[ToolTurn] = []
    for request in requests:
        if not request.has_output:
            continue
        before_it = [c for c in completed if c < request.at]
        if not before_it:
            continue
        done = before_it[-1]
        turn = ToolTurn(index=len(turns), gap=request.at - done, at=request.at)
        # The new output is the last one in the request (a full resend repeats older ones).
        stamps: dict[str, float] = {}
        for which, value in STAMP.findall(request.raw):
            stamps[which] = float(value)
        if "0" in stamps and "1" in stamps and stamps["1"] >= stamps["0"]:
            turn.tool = stamps["1"] - stamps["0"]
            turn.before = (stamps["0"] - offset) - done
            turn.after = request.at - (stamps["1"] - offset)
        after_it = [c for c in completed if c >= request.at]
        if after_it:
            turn.server = after_it[0] - request.at
        walls = CODEX_WALL.findall(request.raw)
        if walls:
            turn.self_reported = float(walls[-1])
        turns.append(turn)
    return turns


def mark_decisions(turns: list[ToolTurn], result: ExecResult) -> None:
    """Fill ``decided`` from codeagent's ``tool_call`` events (one per tool turn, in order).

    Exec prints an event when its turn task next yields, so the arrival time is an upper bound
    of when the client had parsed the response and picked the call.
    """
    calls = result.of_kind("tool_call")
    if len(calls) != len(turns):
        return
    for turn, event in zip(turns, calls, strict=True):
        completed = turn.at - turn.gap
        turn.decided = float(event["t"]) - completed
