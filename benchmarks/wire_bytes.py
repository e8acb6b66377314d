"""Bytes sent and wall time of a 25-turn tool loop, WebSocket vs HTTP, in one run.

The wire layer alone (``Conversation`` + ``Transport``) against the local server on loopback:
no TUI, no agent, no tools, so the difference is only what each transport puts on the wire.
Each tool output is a few KB, like a file read or a test log. Runs alternate between the
transports so that machine noise falls on both alike.

    .venv/bin/python benchmarks/wire_bytes.py [--turns 25] [--runs 3] [--output-kb 3]

Prints a Markdown table and the ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

from codeagent.agent.conversation import Conversation
from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.transport import Transport
from codeagent.server.embedded import EmbeddedServer
from codeagent.server.script import Episode, Script, Step, function_call

TOOL = {
    "type": "function",
    "name": "read_file",
    "description": "Read a file of the repository.",
    "parameters": {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
}


@dataclass
class Run:
    """One conversation over one transport."""

    transport: str
    calls: int
    bytes_sent: int  # counted by the client
    bytes_received_by_server: int  # from the server's record: the ground truth
    bytes_full_resend: int
    wall: float


def rollout_script(turns: int) -> Script:
    """``turns`` model responses, each asking for one file, then a final answer."""
    steps = [
        Step([function_call("read_file", {"path": f"src/module_{i}.py"})]) for i in range(turns)
    ]
    return Script([Episode(steps)], default_reply="Done: read every module.")


def file_body(path: str, size: int) -> str:
    """A plausible file of about ``size`` bytes (source-like lines, not one repeated char)."""
    lines, total, n = [], 0, 0
    while total < size:
        line = f"def {path.replace('/', '_').replace('.', '_')}_{n}(x):  return x * {n} + {n % 7}\n"
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines)


async def run_once(server: EmbeddedServer, mode: str, output_size: int) -> Run:
    """Drive the tool loop to its end over ``mode``; bytes from both sides of the socket."""
    before = len(server.record)
    conversation = Conversation(
        Transport(server.base_url, "sk-bench", mode=mode),
        model=DEFAULT_MODEL,  # the strict local server knows only catalog models
        instructions="You are a coding agent.",
        tools=[TOOL],
    )
    conversation.add_user_message("Read every module and summarise them.")
    sent = full = calls = 0
    started = time.perf_counter()
    try:
        while True:
            async for _ in conversation.run():
                pass
            calls += 1
            sent += conversation.last_metrics.bytes_sent
            full += conversation.last_metrics.bytes_full_resend
            outputs = tool_outputs(conversation.last_output, output_size)
            if not outputs:
                break
            conversation.add_items(outputs)
    finally:
        await conversation.transport.close()
    wall = time.perf_counter() - started
    received = sum(frame.nbytes for frame in server.record[before:])
    return Run(mode, calls, sent, received, full, wall)


def tool_outputs(output: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """A ``function_call_output`` with a file's contents for each call in ``output``."""
    return [
        {
            "type": "function_call_output",
            "call_id": item["call_id"],
            "output": file_body(json.loads(item["arguments"])["path"], size),
        }
        for item in output
        if item.get("type") == "function_call"
    ]


async def main_async(turns: int, runs: int, output_size: int) -> list[Run]:
    server = EmbeddedServer(rollout_script(turns))
    server.start()
    try:
        results = []
        for _ in range(runs):
            for mode in ("websocket", "http"):
                results.append(await run_once(server, mode, output_size))
        return results
    finally:
        server.stop()


def report(results: list[Run]) -> str:
    """A Markdown table of medians per transport, and the WebSocket/HTTP ratios."""
    rows = ["| transport | runs | model calls | bytes sent (server) | full resend would be | "
            "wall s (median) |", "|---|---|---|---|---|---|"]  # fmt: skip
    medians: dict[str, tuple[float, float]] = {}
    for mode in ("websocket", "http"):
        mine = [r for r in results if r.transport == mode]
        sent = statistics.median(r.bytes_received_by_server for r in mine)
        wall = statistics.median(r.wall for r in mine)
        medians[mode] = (sent, wall)
        rows.append(
            f"| {mode} | {len(mine)} | {mine[0].calls} | {sent:,.0f} | "
            f"{statistics.median(r.bytes_full_resend for r in mine):,.0f} | {wall:.3f} |"
        )
    ws, http = medians["websocket"], medians["http"]
    rows += [
        "",
        f"WebSocket / HTTP: bytes sent {ws[0] / http[0]:.3f}, wall time {ws[1] / http[1]:.3f}",
    ]
    mismatched = [r for r in results if r.bytes_sent != r.bytes_received_by_server]
    if mismatched:
        rows.append(f"(client byte counts differ from the server's in {len(mismatched)} runs)")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output-kb", type=float, default=3.0, help="size of each tool output")
    args = parser.parse_args()
    results = asyncio.run(main_async(args.turns, args.runs, int(args.output_kb * 1024)))
    print(report(results))


if __name__ == "__main__":
    main()
