"""Limits the model cannot lift (issue 11 hole 5): output kept and timeout are bounded whatever
it asks, and nothing a command starts outlives it, even in a session of its own and without
the sandbox. Real subprocesses throughout."""

from __future__ import annotations

import asyncio
import ctypes
import resource
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeagent.agent.tools import process_limit
from codeagent.agent.tools.shell import MAX_OUTPUT_LIMIT, run_commands


@pytest.fixture(params=["cgroup", "subreaper"])
def containment(request, monkeypatch) -> Iterator[str]:
    """Run each test with a per-command cgroup (when this machine has one) and with the
    fallback for machines without: codeagent as the subreaper of its commands' orphans."""
    if request.param == "cgroup":
        if process_limit.cgroup_parent() is None:
            pytest.skip("no writable pids cgroup here")
        yield request.param
        return
    monkeypatch.setattr(process_limit, "cgroup_parent", lambda: None)
    yield request.param
    # codeagent picks one mode for its whole life; the test process goes back to the other,
    # so it must stop adopting orphans (they would stay zombies under it).
    ctypes.CDLL(None).prctl(36, 0, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER off
    process_limit.become_subreaper.cache_clear()


def _token() -> str:
    return f"{900 + secrets.randbelow(9_000)}.{secrets.randbelow(10_000):04d}"


def _escape(token: str) -> str:
    """Start ``sleep TOKEN`` in a session of its own and wait until it is there."""
    return (
        f"setsid sh -c 'touch escaped; exec sleep {token}' > /dev/null 2>&1 & "
        "while [ ! -e escaped ]; do sleep 0.01; done"
    )


async def test_a_setsid_child_does_not_outlive_its_command(
    containment, tmp_path: Path, live_processes
):
    token = _token()
    (result,) = await run_commands([f"{_escape(token)}; echo started"], cwd=tmp_path, sandbox=None)
    assert result.exit_code == 0 and result.stdout == "started\n"
    assert live_processes(f"sleep {token}") == []


async def test_a_setsid_child_does_not_outlive_a_timeout(
    containment, tmp_path: Path, live_processes
):
    token = _token()
    (result,) = await run_commands(
        [f"{_escape(token)}; sleep {token}"], cwd=tmp_path, sandbox=None, timeout_ms=500
    )
    assert result.timed_out
    assert live_processes(f"sleep {token}") == []


async def test_a_setsid_child_does_not_outlive_an_interrupt(
    containment, tmp_path: Path, live_processes
):
    token = _token()
    task = asyncio.create_task(
        run_commands([f"{_escape(token)}; touch go; sleep {token}"], cwd=tmp_path, sandbox=None)
    )
    while not (tmp_path / "go").exists():
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_processes(f"sleep {token}") == []


async def test_a_huge_output_limit_is_cut_to_the_bound(tmp_path: Path):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (result,) = await run_commands(
        ["head -c 5000000 /dev/zero | tr '\\0' x"],
        cwd=tmp_path,
        sandbox=None,
        max_output=2_000_000_000,
    )
    assert result.truncated
    kept = result.stdout.split("\n[...")[0] + result.stdout.rsplit("...]\n", 1)[-1]
    assert len(kept) == MAX_OUTPUT_LIMIT
    assert "bytes of output omitted" in result.stdout
    # Nothing near the asked 2e9 (or the 5 MB printed) was held: the peak grew by < 50 MB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000
