"""Parallel read-only tools: one response with 5 reads, run one by one vs together.

Each read is ``head -c 40000000N /dev/zero | wc -c`` (about 200 ms of reading; the classifier
proves it read-only, so it needs no approval). A real ``Agent`` in a temporary git repository
talks to the local server (``EmbeddedServer``, loopback WebSocket); the scripted model answers
the user's message with the 5 calls and then with text. "sequential" makes every call a batch of
its own (the previous behaviour), "parallel" is the agent as shipped. The modes alternate
(A B A B ...) in one run; the printed ratio is the median sequential turn over the median
parallel turn.

Run: ``.venv/bin/python -m benchmarks.parallel_tools [--reps 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.report import Section, Table
from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentError, ToolOutput
from codeagent.agent.loop import Agent
from codeagent.config import Settings
from codeagent.server.embedded import EmbeddedServer
from codeagent.server.script import Episode, Script, Step, shell

READ = "head -c 40000000{i} /dev/zero | wc -c"  # {i}: distinct calls (the repeat guard)
CALLS = 5
TITLE = "12. Parallel read-only tools"
API_KEY = "sk-bench-parallel-tools-000000"


class _NoApprovals:
    async def decide(self, request: ApprovalRequest) -> Decision:
        raise AssertionError(f"a read asked for approval: {request.title}")


def _repo(base: Path) -> Path:
    root = base / "repo"
    root.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "b@example.com"],
        ["config", "user.name", "Bench"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "README").write_text("bench\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


async def _turn(server: EmbeddedServer, root: Path, parallel: bool) -> float:
    settings = Settings(base_url=server.base_url, api_key=API_KEY, transport="websocket")
    agent = Agent(settings, root, _NoApprovals())
    if not parallel:
        agent.runner.reads_only = lambda call: False  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        outputs = 0
        async for event in agent.submit("read five times"):
            if isinstance(event, AgentError):
                raise RuntimeError(event.message)
            if isinstance(event, ToolOutput):
                outputs += 1
                if not event.success:
                    raise RuntimeError(f"a read failed: {event.output}")
        if outputs != CALLS:
            raise RuntimeError(f"{outputs} reads ran, not {CALLS}")
        return time.perf_counter() - started
    finally:
        await agent.close()


async def measure(reps: int) -> dict[str, list[float]]:
    """Turn times in seconds per mode, the modes alternating, after one unmeasured warm-up."""
    script = Script([Episode([Step([shell([READ.format(i=i)]) for i in range(CALLS)])])])
    times: dict[str, list[float]] = {"sequential": [], "parallel": []}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CODEAGENT_STATE_DIR"] = str(Path(tmp) / "state")
        os.environ["CODEAGENT_CONFIG_DIR"] = str(Path(tmp) / "conf")
        root = _repo(Path(tmp))
        server = EmbeddedServer(script).start()
        try:
            await _turn(server, root, True)  # warm-up: imports, sandbox probe, git
            for _ in range(reps):
                for mode in ("sequential", "parallel"):
                    times[mode].append(await _turn(server, root, mode == "parallel"))
        finally:
            server.stop()
    return times


def run(smoke: bool = False) -> list[Section]:
    """The report's section: both medians, every turn, and the ratio."""
    reps = 1 if smoke else 7
    times = asyncio.run(measure(reps))
    seq, par = (statistics.median(times[m]) for m in ("sequential", "parallel"))
    table = Table(
        f"One response with {CALLS} read-only shell calls of ~200 ms each, {reps} turns per "
        "mode, alternating",
        ["mode", "median turn (ms)", "every turn (ms)"],
    )
    for mode in ("sequential", "parallel"):
        shown = " ".join(f"{t * 1000:.0f}" for t in times[mode])
        table.add(mode, f"{statistics.median(times[mode]) * 1000:.0f}", shown)
    table.add("**sequential / parallel**", f"**{seq / par:.2f}x**", "")
    return [
        Section(
            key="parallel",
            title=TITLE,
            method=(
                f"A real `Agent` in a temporary git repository and the local server over "
                f"loopback WebSocket; the scripted model answers with {CALLS} calls of "
                f"`{READ.format(i='N')}` (the classifier proves them read-only, so none asks). "
                '"sequential" gives every call a batch of its own (the behaviour before), '
                '"parallel" is the agent as shipped: reads of one response run together, '
                "outputs return in call order. The turn includes the two model calls. "
                f"{os.cpu_count()} CPUs: the reads compete for them, so the ideal ratio of "
                f"{CALLS}x is not reachable here."
            ),
            tables=[table],
            headlines=[
                ["parallel read-only tools (5 reads), sequential / parallel", f"{seq / par:.2f}x"]
            ],
        )
    ]


def main(reps: int) -> None:
    """Print the measurement (the module run on its own)."""
    times = asyncio.run(measure(reps))
    seq, par = (statistics.median(times[m]) for m in ("sequential", "parallel"))
    shown_read = READ.format(i="N")
    print(f"{CALLS} reads of ~200 ms each ({shown_read!r}), {reps} turns per mode, alternating")
    for mode in ("sequential", "parallel"):
        shown = " ".join(f"{t * 1000:.0f}" for t in times[mode])
        print(f"  {mode:<10} median {statistics.median(times[mode]) * 1000:7.0f} ms  ({shown})")
    print(f"  ratio sequential/parallel: {seq / par:.2f}x  (cpus: {os.cpu_count()})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    main(parser.parse_args().reps)
