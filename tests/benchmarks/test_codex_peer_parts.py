"""The Codex peer benchmark's own parts: its script, its tool command, reading turns from the
server's record (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import codex_peer  # noqa: E402
from benchmarks.codex_peer_turns import read_requests, tool_command, tool_turns  # noqa: E402


def test_both_clients_get_the_same_command_through_their_own_tool() -> None:
    from codeagent.server.script import Script

    script = Script.from_dict(codex_peer.peer_script([2]))
    codex = script.choose([_user(codex_peer.task("codex", 2))])
    ours = script.choose([_user(codex_peer.task("codeagent", 2))])
    codex_call = codex.items[1]
    assert (codex_call.kind, codex_call.data["name"]) == ("function_call", "exec_command")
    assert ours.items[1].kind == "shell"
    assert codex_call.data["arguments"]["cmd"] == ours.items[1].data["commands"][0]


def test_tool_command_is_a_read_codeagent_runs_without_approval(tmp_path: Path) -> None:
    from codeagent.agent.tools.commands import is_read_only

    command = tool_command(3)
    assert is_read_only(command)
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "mod3.py").write_text("x = 1\n")
    out = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("@@t0 ") and lines[-1].startswith("@@t1 ")
    assert "x = 1" in lines


def test_tool_turns_come_from_the_stamps_in_the_next_request() -> None:
    output = "Wall time: 0.0000 seconds\nOutput:\n@@t0 1000.250\nx = 1\n@@t1 1000.260\n"
    record = [
        _frame(10.0, {"type": "response.create", "generate": False, "input": []}),
        _frame(10.1, {"type": "response.create", "input": [_user("go")]}),
        _frame(10.5, {"type": "response.create", "input": [_output(output)]}),
    ]
    timeline = [
        {"kind": "completed_sent", "at": 10.05},
        {"kind": "completed_sent", "at": 10.2},
        {"kind": "completed_sent", "at": 10.6},
    ]
    requests = read_requests(record)
    assert [r.prewarm for r in requests] == [True, False, False]
    assert [r.has_output for r in requests] == [False, False, True]
    # wall clock = monotonic + 990: the command ran from 10.25 to 10.26 on the server's clock
    (turn,) = tool_turns(requests, timeline, offset=990.0)
    assert round(turn.gap, 6) == 0.3
    assert round(turn.tool or 0, 6) == 0.01
    assert round(turn.turnaround or 0, 6) == 0.29
    assert round(turn.before or 0, 6) == 0.05
    assert round(turn.after or 0, 6) == 0.24
    assert turn.self_reported == 0.0


def _user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _output(text: str) -> dict:
    return {"type": "function_call_output", "call_id": "call_1", "output": text}


def _frame(at: float, body: dict) -> dict:
    raw = json.dumps(body, separators=(",", ":"))
    return {"at": at, "nbytes": len(raw), "transport": "ws", "raw": raw}
