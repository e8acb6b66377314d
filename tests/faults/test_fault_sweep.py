"""The fault sweep on a sample of event indices (the full sweep is
``benchmarks/fault_sweep.py``): a rollout with a read, a command with a side effect and a
patch, each fault injected at the local server over real sockets, WebSocket and HTTP. Every
run completes, no tool runs twice, and files and transcript equal the clean run's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fault_sweep import Outcome, sweep


def sample(call: int, n: int) -> list[int]:
    """Call 1 (the command with the side effect) at its first and last event, call 2 (the
    patch) in the middle; the other calls are left to the full sweep."""
    return {1: [0, n - 1], 2: [n // 2]}.get(call, [])


async def test_every_sampled_fault_recovers_without_running_a_tool_twice() -> None:
    outcomes, counts = await sweep(pick=sample)
    assert all(n > 3 for ns in counts.values() for n in ns)  # real streams were cut
    faults = {(o.case.fault, o.case.transport) for o in outcomes}
    assert {f for f, _ in faults} == {
        "drop", "malformed", "stall", "429", "500", "lifetime",
        "lifetime-silent", "previous_response_not_found",
    }  # fmt: skip
    assert {t for _, t in faults} == {"websocket", "http"}

    def failed(check) -> list[str]:
        return [f"{o.case.label()}: {o.detail}" for o in outcomes if check(o)]

    assert failed(lambda o: not o.fired) == [], "a fault that never fired tests nothing"
    assert failed(lambda o: not o.completed) == []
    assert failed(lambda o: o.duplicated) == []
    assert failed(lambda o: o.lost) == []
    assert len(outcomes) > 40
    assert all(isinstance(o, Outcome) for o in outcomes)
