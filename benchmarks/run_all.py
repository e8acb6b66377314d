"""Run every codeagent benchmark and write ``benchmarks/results/REPORT.md``.

Usage: ``.venv/bin/python benchmarks/run_all.py`` (full run, under 10 minutes on 2 cores),
``--smoke`` for a tiny run that only checks the harness works, ``--only NAME`` for one group.

Each group runs in its own child process with a time limit, so a crash or a hang in one
measurement becomes a "Not measured: <why>" section instead of a missing report.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository importable as ``benchmarks`` / ``codeagent``.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import machine
from benchmarks.report import Section, Table, render_report

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "benchmarks" / "results" / "REPORT.md"
COMMAND = ".venv/bin/python benchmarks/run_all.py"

#: group name -> (titles of the sections it produces, time limit in seconds for a full run)
GROUPS: dict[str, tuple[tuple[str, ...], float]] = {
    "e2e": (
        (
            "1. End to end: WebSocket vs HTTP",
            "2. Physical limit",
            "3. Client turnaround",
        ),
        300.0,
    ),
    "client_cost": (("4. Client cost per turn vs history length",), 120.0),
    "tui": (("5. TUI responsiveness",), 240.0),
    "git": (("6. Git checkpoint and undo",), 120.0),
    "faults": (("7. Fault sweep (every fault at every event index)",), 600.0),
    "first_token": (("8. Enter to first token: prewarmed vs cold",), 180.0),
    "peer": (("9. Codex CLI as a peer",), 300.0),
    "startup": (
        ("10. Startup to first paint", "11. Exec: process start to first request"),
        240.0,
    ),
    "parallel": (("12. Parallel read-only tools",), 120.0),
}


def _run_group(name: str, smoke: bool, work_dir: Path | None) -> list[Section]:
    """Run one group in this process and return its sections."""
    if name == "e2e":
        from benchmarks import e2e

        return e2e.run(smoke=smoke, work_dir=work_dir)
    if name == "client_cost":
        from benchmarks import client_cost

        return [client_cost.run(smoke=smoke)]
    if name == "tui":
        from benchmarks import tui_bench

        return [tui_bench.run(smoke=smoke)]
    if name == "git":
        from benchmarks import git_section

        return [git_section.run(smoke=smoke)]
    if name == "faults":
        from benchmarks import fault_sweep

        return [fault_sweep.run(smoke=smoke)]
    if name == "first_token":
        from benchmarks import first_token

        return first_token.run(smoke=smoke, work_dir=work_dir)
    if name == "peer":
        from benchmarks import codex_peer

        return codex_peer.run(smoke=smoke)
    if name == "startup":
        from benchmarks import startup

        return startup.run(smoke=smoke)
    if name == "parallel":
        from benchmarks import parallel_tools

        return parallel_tools.run(smoke=smoke)
    raise ValueError(f"unknown benchmark group {name!r}; choose from {', '.join(GROUPS)}")


def _section_from_dict(data: dict) -> Section:
    tables = [Table(**t) for t in data.pop("tables", [])]
    return Section(tables=tables, **data)


def _not_measured(name: str, reason: str) -> list[Section]:
    titles = GROUPS[name][0]
    return [Section(key=f"{name}-{i}", title=t, skipped=reason) for i, t in enumerate(titles)]


def run_group_isolated(name: str, smoke: bool, timeout: float) -> list[Section]:
    """Run ``name`` in a child process; a crash, a hang or bad output becomes a skip reason."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", name]
    if smoke:
        argv.append("--smoke")
    started = time.monotonic()
    # Own session: on a timeout the whole group (servers, exec runs) is killed, not just the child.
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        from benchmarks.netlab import ShapedLink

        ShapedLink.remove_leftovers(proc.pid)
        reason = f"the `{name}` benchmark did not finish within {timeout:.0f} s"
        if stderr.strip():
            reason += f"; its last progress lines:\n\n```\n{stderr.strip()[-800:]}\n```"
        return _not_measured(name, reason)
    proc = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    elapsed = time.monotonic() - started
    marker = "@@SECTIONS@@"
    if proc.returncode != 0 or marker not in proc.stdout:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-1200:]
        return _not_measured(
            name, f"the `{name}` benchmark crashed (exit {proc.returncode}):\n\n```\n{tail}\n```"
        )
    payload = json.loads(proc.stdout.split(marker, 1)[1])
    sections = [_section_from_dict(s) for s in payload]
    for s in sections:
        s.seconds = s.seconds or elapsed / max(1, len(sections))
    return sections


def child_main(name: str, smoke: bool) -> int:
    """Child process: run one group, print its sections as JSON after a marker."""
    started = time.monotonic()
    captured = io.StringIO()
    try:
        # Benchmarks may print progress; keep stdout clean for the JSON payload.
        with contextlib.redirect_stdout(captured):
            sections = _run_group(name, smoke, None)
    except Exception as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        tb = traceback.format_exc().strip().splitlines()[-6:]
        sections = _not_measured(name, f"{detail}\n\n```\n" + "\n".join(tb) + "\n```")
    elapsed = time.monotonic() - started
    for s in sections:
        s.seconds = elapsed / len(sections)
    sys.stderr.write(captured.getvalue())
    print("@@SECTIONS@@" + json.dumps([dataclasses.asdict(s) for s in sections]))
    return 0


def header(smoke: bool, total: float | None = None) -> str:
    """Machine description and how the report was produced."""
    rows = machine.describe(REPO)
    table = Table("Machine", ["", ""], [[k, v] for k, v in rows])
    mode = "SMOKE MODE (tiny sizes; numbers are meaningless)" if smoke else "full run"
    lines = [
        f"Generated by `{COMMAND}{' --smoke' if smoke else ''}` ({mode}) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        + (f" in {total:.0f} s." if total is not None else "."),
        "All numbers come from this one run; ratios compare measurements taken side by side.",
        table.to_markdown(),
    ]
    return "\n\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected groups and write the report; exit 0 even when some could not run."""
    parser = argparse.ArgumentParser(description="Run the codeagent benchmarks.")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, checks the harness")
    parser.add_argument("--only", action="append", choices=list(GROUPS), help="run one group")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report path")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.child, args.smoke)

    started = time.monotonic()
    sections: list[Section] = []
    for name in args.only or list(GROUPS):
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        limit = GROUPS[name][1]
        sections += run_group_isolated(name, args.smoke, limit)
        done = [s for s in sections if s.key.startswith(name) or not s.skipped]
        print(f"[benchmarks] {name} done ({len(done)} sections)", file=sys.stderr, flush=True)
    total = time.monotonic() - started
    report = render_report("codeagent benchmark report", header(args.smoke, total), sections)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    skipped = [s.title for s in sections if s.skipped]
    print(f"[benchmarks] wrote {args.out} in {total:.0f} s", file=sys.stderr)
    if skipped:
        print(f"[benchmarks] not measured: {', '.join(skipped)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
