"""Fault sweep: a small coding rollout (a read, a command with a side effect, a patch, an answer)
run once clean and then once per fault, for every fault at every event index of every model
response, over WebSocket and HTTP. Each faulted run must complete, run no tool twice (the
command appends one line to ``counter.txt`` per run) and end with the same files and the same
transcript as the clean run.

Faults (where they apply): ``drop`` (TCP cut after N events), ``malformed`` (a non-JSON frame in
place of event N), ``stall`` (silence past the idle timeout after N events), ``429`` and ``500``
(an error at event N and the stream cut, or the request refused before any event: index -1),
``previous_response_not_found`` (WebSocket: the chained request refused), ``lifetime`` (WebSocket:
the connection limit error at event N, or at the next request with and without the error event).

    .venv/bin/python benchmarks/fault_sweep.py            # full sweep, appends to REPORT.md
    .venv/bin/python benchmarks/fault_sweep.py --no-report

The Agent is driven in-process against ``EmbeddedServer`` over loopback; faults are armed by a
backend wrapper at the model call they target, so the sweep never depends on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.fault_cases import (  # noqa: E402
    CALLS,
    COUNTER,
    IDLE_TIMEOUT,
    ArmingBackend,
    Case,
    Outcome,
    Pick,
    arming_hook,
    cases,
    every_index,
    rollout_script,
)
from benchmarks.report import Section, Table  # noqa: E402
from codeagent.agent.approvals import ApprovalRequest, Decision  # noqa: E402
from codeagent.agent.events import AgentError, ToolOutput, TurnCompleted  # noqa: E402
from codeagent.server.embedded import EmbeddedServer  # noqa: E402

TASK = "count this run and write the notes"
API_KEY = "sk-fault-sweep-0123456789abcdef"


@dataclass
class Run:
    """What one run left behind, reduced to what must not depend on faults."""

    completed: bool
    tree: dict[str, str]
    transcript: list[Any]
    history: list[Any]
    counter_lines: int
    tool_outputs: int
    recoveries: tuple[str, ...]
    errors: list[str] = field(default_factory=list)


class _ApproveAll:
    async def decide(self, request: ApprovalRequest) -> Decision:
        return Decision.approve()


class Sweeper:
    """One local server and a template repository, reused by every run."""

    def __init__(self, work: Path):
        self.work = work
        self.backend = ArmingBackend(rollout_script())
        self.server = EmbeddedServer(backend=self.backend, api_key=API_KEY).start()
        self.template = work / "template"
        self._make_template()
        self._runs = 0
        self.baseline: dict[str, Run] = {}

    def close(self) -> None:
        self.server.stop()

    def _make_template(self) -> None:
        root = self.template
        root.mkdir(parents=True)
        (root / "app.py").write_text('def greet():\n    print("Hi")\n')
        for args in (
            ["init", "-q", "-b", "main"],
            ["-c", "user.email=t@e", "-c", "user.name=t", "add", "-A"],
            ["-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "-m", "init"],
        ):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    # ------------------------------------------------------------------ one run

    async def run(self, transport: str, arm: Callable[[int], None] | None = None) -> Run:
        """Run the task once in a fresh copy of the repository; ``arm`` is the fault hook."""
        from codeagent.agent.loop import Agent
        from codeagent.config import Settings

        self._runs += 1
        root = self.work / f"run{self._runs}"
        shutil.copytree(self.template, root, symlinks=True)
        self.server.faults.clear()
        self.server.set_max_connection_age(3600.0, new_connections=True)
        self.backend.calls = 0
        self.backend.hook = arm
        if arm is not None:
            arm(-1)
        settings = Settings(
            base_url=self.server.base_url,
            api_key=API_KEY,
            transport=transport,  # type: ignore[arg-type]
            approval_policy="full-auto",  # type: ignore[arg-type]
            sandbox="none",
            idle_timeout=IDLE_TIMEOUT,
        )
        agent = Agent(settings, root, _ApproveAll())
        completed, errors, outputs, recoveries = False, [], 0, ()
        try:
            async with asyncio.timeout(60):
                async for event in agent.submit(TASK):
                    if isinstance(event, TurnCompleted):
                        completed = True
                        recoveries = event.metrics.recoveries
                    elif isinstance(event, AgentError) and event.fatal:
                        errors.append(event.message)
                    elif isinstance(event, ToolOutput):
                        outputs += 1
        except TimeoutError:
            errors.append("the run hung for 60 s")
        finally:
            self.backend.hook = None
            history = _history(agent.conversation.items)
            transcript = _transcript(agent.transcript)
            await agent.close()
        tree = _tree(root)
        counter = tree.get(COUNTER, "")
        shutil.rmtree(root, ignore_errors=True)
        return Run(
            completed and not errors,
            tree,
            transcript,
            history,
            counter.count("ran"),
            outputs,
            tuple(recoveries),
            errors,
        )

    async def outcome(self, case: Case) -> Outcome:
        """Run ``case`` and compare it with the clean run over the same transport."""
        base = self.baseline.get(case.transport)
        if base is None:
            base = self.baseline[case.transport] = await self.run(case.transport)
            if not base.completed:
                raise RuntimeError(f"the clean run over {case.transport} failed: {base.errors}")
        got = await self.run(case.transport, arming_hook(case, self.server))
        duplicated = got.counter_lines > base.counter_lines or got.tool_outputs > base.tool_outputs
        same = (got.tree, got.transcript, got.history) == (base.tree, base.transcript, base.history)
        detail = "; ".join(got.errors)
        if got.completed and not same:
            detail = _difference(base, got)
        return Outcome(
            case,
            got.completed,
            duplicated,
            lost=not got.completed or not same,
            fired=bool(got.recoveries),
            detail=detail,
        )


# --------------------------------------------------------------------------- comparing runs

_ID = re.compile(r"\b(?:call|resp|msg|rs|fc|ctc|apc|sh|item)_[0-9a-f]{8,}\b")


def _tree(root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or not path.is_file():
            continue
        files[str(rel)] = path.read_text(errors="replace")
    return files


def _scrub(value: Any) -> Any:
    return json.loads(_ID.sub("ID", json.dumps(value, sort_keys=True)))


def _history(items: list[dict[str, Any]]) -> list[Any]:
    """The model-visible history without server ids and sealed reasoning."""
    kept = []
    for item in items:
        item = {k: v for k, v in item.items() if k not in ("id", "encrypted_content", "status")}
        kept.append(_scrub(item))
    return kept


#: Transcript events that say what happened (notices, metrics and empty restarts left out).
_KEPT = {"turn_started", "text_done", "reasoning_done", "tool_call", "tool_output", "plan"}


def _transcript(events: list[dict[str, Any]]) -> list[Any]:
    kept = []
    for event in events:
        kind = event.get("kind")
        if kind == "turn_completed":
            kept.append({"kind": kind, "final_text": event.get("final_text")})
        elif kind in _KEPT and not (kind.endswith("_done") and not event.get("text")):
            kept.append(_scrub({k: v for k, v in event.items() if k != "item_id"}))
    return kept


def _difference(base: Run, got: Run) -> str:
    if got.tree != base.tree:
        return f"files differ: {sorted(set(got.tree.items()) ^ set(base.tree.items()))[:2]}"
    if got.transcript != base.transcript:
        return "transcript differs"
    return "history differs"


# --------------------------------------------------------------------------- the sweep


async def event_counts(sweeper: Sweeper, transport: str) -> list[int]:
    """How many events each model call of the clean rollout streams (counted by the client)."""
    from codeagent.agent.conversation import Conversation
    from codeagent.agent.tool_calls import output_item, tool_calls_in
    from codeagent.responses.catalog import DEFAULT_MODEL
    from codeagent.responses.events import ServerEvent
    from codeagent.responses.transport import Transport

    conversation = Conversation(
        Transport(sweeper.server.base_url, API_KEY, mode=transport),  # type: ignore[arg-type]
        model=DEFAULT_MODEL,
        instructions="count",
        tools=[{"type": "shell", "environment": {"type": "local"}}, {"type": "apply_patch"}],
    )
    conversation.add_user_message(TASK)
    counts = []
    try:
        for _ in range(CALLS):
            events = [e async for e in conversation.run() if isinstance(e, ServerEvent)]
            counts.append(len(events))
            calls = tool_calls_in(conversation.last_output)
            conversation.add_items([output_item(call, "ok") for call in calls])
    finally:
        await conversation.transport.close()
    return counts


async def sweep(
    pick: Pick = every_index,
    transports: tuple[str, ...] = ("websocket", "http"),
    progress: Callable[[Outcome], None] | None = None,
) -> tuple[list[Outcome], dict[str, list[int]]]:
    """Run every case; returns the outcomes and the event counts per transport."""
    outcomes: list[Outcome] = []
    counts: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="codeagent-sweep-") as tmp:
        sweeper = Sweeper(Path(tmp))
        try:
            for transport in transports:
                counts[transport] = await event_counts(sweeper, transport)
                for case in cases(transport, counts[transport], pick):
                    outcome = await sweeper.outcome(case)
                    outcomes.append(outcome)
                    if progress is not None:
                        progress(outcome)
        finally:
            sweeper.close()
    return outcomes, counts


def summary_table(outcomes: list[Outcome]) -> Table:
    """Tried / completed / duplicated / lost, per fault and transport, and in total."""
    table = Table(
        "Faulted runs per fault and transport",
        ["fault", "transport", "tried", "fired", "completed", "duplicated", "lost"],
    )
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.case.fault, o.case.transport), []).append(o)
    for (fault, transport), group in groups.items():
        table.add(fault, transport, *_counts(group))
    table.add("**all**", "", *_counts(outcomes))
    return table


def _counts(group: list[Outcome]) -> tuple[int, int, int, int, int]:
    """tried, fired (the fault took effect: the run needed a recovery), completed,
    duplicated, lost"""
    return (
        len(group),
        sum(o.fired for o in group),
        sum(o.completed for o in group),
        sum(o.duplicated for o in group),
        sum(o.lost for o in group),
    )


def section(outcomes: list[Outcome], counts: dict[str, list[int]], seconds: float) -> Section:
    tried, fired, completed, duplicated, lost = _counts(outcomes)
    sec = Section(
        key="fault_sweep",
        title="7. Fault sweep (every fault at every event index)",
        method=__doc__.split("\n\n")[0].replace("\n", " ") + f" Events per model call: {counts}. "
        "Command: `.venv/bin/python benchmarks/fault_sweep.py`.",
        tables=[summary_table(outcomes)],
        seconds=seconds,
    )
    failures = [o for o in outcomes if o.lost or o.duplicated]
    sec.notes = [f"{o.case.label()}: {o.detail or 'lost'}" for o in failures[:20]]
    sec.headlines = [
        ["faulted runs completed", f"{completed} of {tried} ({fired} needed a recovery)"],
        ["tools run twice / runs with work lost", f"{duplicated} / {lost}"],
    ]
    return sec


def append_to_report(sec: Section, report: Path) -> None:
    """Put the section at the end of ``report``, replacing an earlier fault-sweep section."""
    text = report.read_text() if report.exists() else "# codeagent benchmark report\n"
    start = text.find(f"## {sec.title}")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start].rstrip() + ("\n" + text[end:] if end >= 0 else "")
    report.write_text(text.rstrip() + "\n\n" + sec.to_markdown() + "\n")


def smoke_pick(call: int, n: int) -> list[int]:
    """For ``--smoke``: the command's model call at its first event only."""
    return [0] if call == 1 else []


def run(smoke: bool = False) -> Section:
    """The sweep as a report section (for ``benchmarks/run_all.py``)."""
    started = time.monotonic()
    outcomes, counts = asyncio.run(sweep(pick=smoke_pick if smoke else every_index))
    return section(outcomes, counts, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-report", action="store_true", help="print only")
    parser.add_argument("--report", default=str(REPO / "benchmarks" / "results" / "REPORT.md"))
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(o: Outcome) -> None:
        if o.lost or o.duplicated:
            print(f"  FAILED {o.case.label()}: {o.detail}", flush=True)

    outcomes, counts = asyncio.run(sweep(progress=progress))
    seconds = time.monotonic() - started
    sec = section(outcomes, counts, seconds)
    print(sec.tables[0].to_markdown())
    tried, fired, completed, duplicated, lost = _counts(outcomes)
    print(
        f"\ntried {tried}, fired {fired}, completed {completed}, duplicated {duplicated}, "
        f"lost {lost} "
        f"({seconds:.0f} s)"
    )
    if not args.no_report:
        append_to_report(sec, Path(args.report))
    return 0 if completed == fired == tried and not duplicated and not lost else 1


if __name__ == "__main__":
    raise SystemExit(main())
