"""The next command's process waits in its own cgroup already (``standby``): commands started
from it behave exactly like commands started on demand, and no cgroup or process is left
once the commands and the event loop are done."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from codeagent.agent.tools import process_limit, standby
from codeagent.agent.tools.shell import run_commands

pytestmark = pytest.mark.skipif(
    process_limit.cgroup_parent() is None, reason="no writable pids cgroup here"
)


def _our_cgroups() -> dict[str, list[int]]:
    """This process's per-command cgroups and the processes in each."""
    parent = process_limit.cgroup_parent()
    assert parent is not None
    found = {}
    for entry in parent.iterdir():
        if entry.name.startswith(f"codeagent-{os.getpid()}-"):
            procs = (entry / "cgroup.procs").read_text().split()
            found[entry.name] = [int(p) for p in procs]
    return found


async def _idle() -> None:
    """Long enough after a command for the standby to have joined its cgroup."""
    await asyncio.sleep(standby.AHEAD_DELAY + 0.3)


def test_the_next_command_waits_in_a_cgroup_of_its_own_and_nothing_is_left(tmp_path: Path):
    seen: dict[str, object] = {}

    async def session() -> None:
        await run_commands(["true"], cwd=tmp_path, sandbox=None)
        await _idle()
        seen["waiting"] = _our_cgroups()  # one process, waiting in a fresh cgroup
        (result,) = await run_commands(["cat /proc/self/cgroup"], cwd=tmp_path, sandbox=None)
        seen["ran_in"] = result.stdout
        await _idle()

    asyncio.run(session())
    waiting = seen["waiting"]
    assert isinstance(waiting, dict) and len(waiting) == 1
    [(name, procs)] = waiting.items()
    assert len(procs) == 1
    assert f"/{name}\n" in str(seen["ran_in"])  # the command became that waiting process
    assert _our_cgroups() == {}  # the loop shut down: the last standby is gone too
    with pytest.raises(ProcessLookupError):
        os.kill(procs[0], 0)


COMMANDS = [
    "printf '[%s]' \"$0\" \"$BASH_EXECUTION_STRING\" a\\\\b '  two  spaces  '",
    "echo 'multi\nline'\n\necho after a blank line\n\n",
    '   echo leading blanks; read -r x; echo "stdin: [$x] $?"',
    "echo $_codeagent_cmd; env | grep -c '^_codeagent' ; exit 7",
    "echo café ünïcode ✓ >&2",
]


async def _run_each_after_a_pause(commands: list[str], cwd: Path) -> list[tuple]:
    results = []
    for command in commands:
        (r,) = await run_commands([command], cwd=cwd, sandbox=None)
        results.append((r.exit_code, r.stdout, r.stderr))
        await _idle()
    return results


async def test_a_command_from_the_standby_runs_exactly_as_one_started_on_demand(
    tmp_path: Path, monkeypatch
):
    from_standby = await _run_each_after_a_pause(["true", *COMMANDS], tmp_path)
    monkeypatch.setattr(standby, "prepare_soon", lambda *args, **kwargs: None)
    await _idle()
    on_demand = await _run_each_after_a_pause(["true", *COMMANDS], tmp_path)
    assert from_standby == on_demand
    assert from_standby[4] == (7, "\n0\n", "")


async def test_a_timed_out_command_from_the_standby_leaves_nothing(tmp_path: Path):
    await run_commands(["true"], cwd=tmp_path, sandbox=None)
    await _idle()
    (waiting,) = _our_cgroups()
    (result,) = await run_commands(
        ["setsid sleep 7391.5 & sleep 7391.5"], cwd=tmp_path, sandbox=None, timeout_ms=300
    )
    assert result.timed_out
    assert waiting not in _our_cgroups()  # the command's cgroup went with it
    assert not [
        p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p) == "sleep 7391.5"
    ]


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_cgroups_left_by_a_killed_codeagent_are_removed(tmp_path: Path):
    """A codeagent killed while a command ran cannot remove that command's cgroup; the next
    one removes it (and leaves the cgroups of live processes alone)."""
    parent = process_limit.cgroup_parent()
    assert parent is not None
    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = parent / f"codeagent-{dead.pid}-3"
    alive = parent / f"codeagent-{os.getpid()}-999999"
    leftover.mkdir()
    alive.mkdir()
    an_hour_ago = time.time() - 3600
    for path in (leftover, alive):
        os.utime(path, (an_hour_ago, an_hour_ago))
    try:
        process_limit.cgroup_parent.cache_clear()
        assert process_limit.cgroup_parent() == parent
        assert not leftover.exists() and alive.exists()
    finally:
        for path in (leftover, alive):
            if path.exists():
                path.rmdir()
