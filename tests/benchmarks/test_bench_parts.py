"""Behaviour of the benchmark harness's own parts (no timing is asserted anywhere)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import rollout  # noqa: E402
from benchmarks.e2e_model import tool_times, turns_from_timeline  # noqa: E402
from benchmarks.exec_run import ExecResult  # noqa: E402
from benchmarks.shaping_proxy import ShapingProxy  # noqa: E402


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    """A TCP server that upper-cases what it receives, until the client half-closes."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return srv, thread


def _roundtrip(proxy: ShapingProxy, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port)) as client:
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while data := client.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_proxy_forwards_in_order_and_counts_bytes() -> None:
    srv, thread = _echo_server()
    payload = b"".join(b"chunk %06d;" % i for i in range(20000))  # ~240 KB, many reads
    with srv, ShapingProxy("127.0.0.1", srv.getsockname()[1], one_way_delay=0.001) as proxy:
        assert _roundtrip(proxy, payload) == payload.upper()
        assert proxy.bytes_up == len(payload)
        assert proxy.bytes_down == len(payload)
    thread.join(timeout=5)


def test_proxy_with_rate_limit_still_delivers_everything() -> None:
    srv, thread = _echo_server()
    payload = bytes(range(256)) * 200
    with (
        srv,
        ShapingProxy("127.0.0.1", srv.getsockname()[1], one_way_delay=0.0, rate_bps=200e6) as proxy,
    ):
        assert _roundtrip(proxy, payload) == payload.upper()
    thread.join(timeout=5)


def test_proxy_closes_client_when_target_is_down() -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there any more
    with (
        ShapingProxy("127.0.0.1", port, one_way_delay=0.0) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as client,
    ):
        client.settimeout(5)
        assert client.recv(10) == b""


def test_rollout_has_requested_number_of_tool_calls() -> None:
    for n in (3, 25, 40):
        assert len(rollout.tool_calls(n)) == n
    script = rollout.rollout_script(25)
    steps = script.episodes[0].steps
    assert len(steps) == 26  # 25 tool calls, then the final answer


def test_rollout_patches_apply_to_workspace_with_real_patch_tool(tmp_path: Path) -> None:
    from codeagent.agent.tools.patch import patch_from_operation, prepare_patch

    root = rollout.make_workspace(tmp_path / "ws")
    applied = 0
    for kind, args in rollout.tool_calls(25):
        if kind != "apply_patch":
            continue
        op_type, path, diff = args
        prepare_patch(
            patch_from_operation({"type": op_type, "path": path, "diff": diff}), root
        ).apply()
        applied += 1
    assert applied == 8
    assert 'return "mod5-v2"' in (root / "calc" / "mod5.py").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=root, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stderr
    assert "Ran 123 tests" in tests.stderr


def test_turns_and_tool_times_from_records() -> None:
    timeline = [
        {"kind": "create_received", "at": 1.0},
        {"kind": "created_sent", "at": 1.1},
        {"kind": "completed_sent", "at": 1.5},
        {"kind": "create_received", "at": 2.0},
        {"kind": "completed_sent", "at": 2.4},
    ]
    assert turns_from_timeline(timeline) == [
        {"received": 1.0, "completed": 1.5},
        {"received": 2.0, "completed": 2.4},
    ]
    events = [
        {"kind": "model_call", "t": 10.0},
        {"kind": "tool_call", "t": 10.1},
        {"kind": "tool_output", "t": 10.75},
        {"kind": "model_call", "t": 11.0},
    ]
    result = ExecResult(exit_code=0, wall=1.0, cpu=0.1, started=9.0, events=events)
    assert tool_times(result) == [0.75, 0.0]
