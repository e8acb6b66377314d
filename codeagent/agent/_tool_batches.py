"""Which tool calls of one response may run at the same time, and running such a batch.

A maximal run of consecutive calls that only read (``ToolRunner.reads_only``: no approval needed,
nothing written) runs concurrently; every other call is a batch of its own, so writes and the
approvals they need happen one by one, in the order the model asked for, with every read the
model placed before a write finished first and every read after it started after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from codeagent.agent.tool_calls import ToolCall
from codeagent.agent.tool_runner import ToolResult, ToolRunner


def tool_batches(
    calls: Sequence[ToolCall], reads_only: Callable[[ToolCall], bool]
) -> list[list[ToolCall]]:
    """``calls`` split in order into batches: consecutive read-only calls together, others alone."""
    batches: list[list[ToolCall]] = []
    last_reads = False  # whether the last batch is one of reads
    for call in calls:
        reads = reads_only(call)
        if reads and last_reads:
            batches[-1].append(call)
        else:
            batches.append([call])
        last_reads = reads
    return batches


async def run_batch(
    runner: ToolRunner, batch: Sequence[ToolCall], turn_id: str
) -> dict[str, ToolResult]:
    """Run ``batch`` (concurrently when it holds several reads); results by call id."""
    if len(batch) == 1:
        return {batch[0].call_id: await runner.run(batch[0], turn_id)}
    results = await asyncio.gather(*(runner.run(call, turn_id) for call in batch))
    return {call.call_id: result for call, result in zip(batch, results, strict=True)}


__all__ = ["run_batch", "tool_batches"]
