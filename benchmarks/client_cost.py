"""Measurement 4: the client's CPU cost to build and send the next request vs history length.

For each transport and history length (10, 100, 1000 items of a realistic tool loop: function
calls with ~1 KB outputs), a ``Conversation`` over a real ``Transport`` talks to a local server
running in another process (so the server's CPU is not counted). One unmeasured call primes the
chain (for WebSocket the server then holds the previous response on the connection); each
measured repetition adds one short user message and times ``Conversation.run()`` with
``time.process_time`` from the call until the first server event arrives (building the body,
serialising it, writing it to the socket, and parsing the small ``response.created`` event), and
also for the whole call.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.report import Section, Table, kib, median, ms
from benchmarks.server_handle import ServerProcess

LENGTHS = (10, 100, 1000)
TRANSPORTS = ("websocket", "http")
INSTRUCTIONS = "You are a coding agent working in a git repository. " * 40
TOOLS = [
    {"type": "shell"},
    {"type": "apply_patch"},
    {
        "type": "function",
        "name": "update_plan",
        "description": "Publish the step list.",
        "parameters": {"type": "object", "properties": {"plan": {"type": "array"}}},
    },
]


def _output_text(i: int) -> str:
    """About 1 KB of file-read / test-log looking text."""
    line = f"calc/mod{i % 8}.py:{i}: def op_{i}(values: list[float]) -> float:  # scale and sum\n"
    return (line * (1024 // len(line) + 1))[:1024]


def history(n: int) -> list[dict[str, Any]]:
    """``n`` items: a user message, then (function_call, function_call_output) pairs."""
    items: list[dict[str, Any]] = [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Fix the failing tests in calc."}],
        }
    ]
    i = 0
    while len(items) < n:
        call_id = f"call_hist_{i}"
        items.append(
            {
                "type": "function_call",
                "call_id": call_id,
                "name": "read_file",
                "arguments": json.dumps({"path": f"calc/mod{i % 8}.py"}),
            }
        )
        items.append(
            {"type": "function_call_output", "call_id": call_id, "output": _output_text(i)}
        )
        i += 1
    return items[:n]


async def _measure(base_url: str, mode: str, length: int, reps: int) -> dict[str, Any]:
    from codeagent.agent.conversation import Conversation
    from codeagent.responses.catalog import DEFAULT_MODEL
    from codeagent.responses.transport import Transport

    transport = Transport(base_url, "sk-benchmark-not-a-real-key", mode=mode)
    conv = Conversation(transport, model=DEFAULT_MODEL, instructions=INSTRUCTIONS, tools=TOOLS)
    conv.add_items(history(length))
    try:
        async for _ in conv.run():  # prime: connection up, chain established
            pass
        to_first, whole, sent, chained = [], [], [], []
        for rep in range(reps):
            # Short on purpose: the echo reply repeats it, and the history must stay near n.
            conv.add_user_message(f"Step {rep}: run the tests again.")
            t0 = time.process_time()
            first: float | None = None
            async for _ in conv.run():
                if first is None:
                    first = time.process_time() - t0
            whole.append(time.process_time() - t0)
            to_first.append(first if first is not None else whole[-1])
            metrics = conv.last_metrics
            sent.append(metrics.bytes_sent if metrics else 0)
            chained.append(bool(metrics and metrics.chained))
        return {
            "first": median(to_first),
            "whole": median(whole),
            "sent": median(sent),
            "chained": sum(chained),
            "reps": reps,
            "active": transport.active,
        }
    finally:
        await transport.close()


def run(smoke: bool = False) -> Section:
    """Run the grid and return the section."""
    section = Section("client_cost", "4. Client cost per turn vs history length")
    section.method = __doc__.split("\n\n", 1)[1].strip() + (
        " Medians over the repetitions; the server runs without a script (short echo replies) "
        "on loopback without TLS."
    )
    lengths = (10, 100) if smoke else LENGTHS
    reps = {10: 20, 100: 20, 1000: 10} if not smoke else {10: 2, 100: 2}
    scratch = Path(tempfile.mkdtemp(prefix="cabench-cost-"))
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with ServerProcess("none", scratch=scratch) as server:
        base_url = f"http://127.0.0.1:{server.port}/v1"
        for length in lengths:
            for mode in TRANSPORTS:
                results[(mode, length)] = asyncio.run(
                    _measure(base_url, mode, length, reps[length])
                )
    table = Table(
        "CPU time per model call (ms, median)",
        [
            "history items",
            "transport",
            "build+send (to first event)",
            "whole call",
            "bytes sent KiB",
            "chained calls",
        ],
    )
    for length in lengths:
        for mode in TRANSPORTS:
            r = results[(mode, length)]
            table.add(
                length,
                r["active"],
                ms(r["first"]),
                ms(r["whole"]),
                kib(r["sent"]),
                f"{r['chained']}/{r['reps']}",
            )
    ratio = Table("Ratio WebSocket / HTTP (build+send CPU)", ["history items", "WS/HTTP"])
    for length in lengths:
        a, b = results[("websocket", length)]["first"], results[("http", length)]["first"]
        ratio.add(length, f"{a / b:.3f}" if a is not None and b else "n/a")
    section.tables = [table, ratio]
    longest = lengths[-1]
    for mode in TRANSPORTS:
        section.headlines.append(
            [
                f"{mode}: build+send CPU at {longest} items (ms)",
                ms(results[(mode, longest)]["first"]),
            ]
        )
    if any(results[("websocket", n)]["chained"] == 0 for n in lengths):
        section.notes.append(
            "Some WebSocket calls were not chained (sent the full input): see the chained column."
        )
    return section
