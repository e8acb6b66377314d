"""Interrupting a turn leaves the conversation consistent; a tool call runs at most once, even when
the stream drops after its output was sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent_support import ListApprover, collect, sent_outputs

from codeagent.agent.approvals import Decision
from codeagent.agent.events import (
    TextDelta,
    ToolCallProposed,
    TurnCompleted,
    TurnInterrupted,
)
from codeagent.agent.loop import Agent
from codeagent.server.script import Episode, Script, Step, shell, text


async def started(repo: Path) -> None:
    """Wait until the scripted command is really running (it touches ``started`` first)."""
    while not (repo / "started").exists():
        await asyncio.sleep(0.02)


async def test_interrupt_while_command_runs(make_server, settings_for, repo: Path) -> None:
    script = Script(
        [
            Episode([Step([shell(["touch started && sleep 30"])])], match="slow"),
            Episode([Step([text("fine")])], match="next"),
        ]
    )
    server = make_server(script)
    agent = Agent(settings_for(server, approval_policy="full-auto"), repo, ListApprover())
    events = []
    async for event in agent.submit("slow work"):
        events.append(event)
        if isinstance(event, ToolCallProposed):
            await started(repo)
            assert agent.interrupt()
    assert isinstance(events[-1], TurnInterrupted)
    assert not agent.interrupt()  # nothing running any more
    call_id = next(e for e in events if isinstance(e, ToolCallProposed)).call_id

    events = await collect(agent.submit("next please"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted) and events[-1].final_text == "fine"
    # the interrupted call was answered exactly once, before the next user message
    answers = [o for o in sent_outputs(server) if o["call_id"] == call_id]
    assert answers and all("interrupted by the user" in o["output"][0]["stderr"] for o in answers)
    payload = server.record[-1].payload
    kinds = [i.get("type") for i in payload["input"]]
    assert kinds.index("shell_call_output") < len(kinds) - 1  # output precedes the new message


async def test_interrupt_mid_stream_drops_partial_response(
    make_server, settings_for, repo: Path
) -> None:
    long_text = " ".join(f"word{i}" for i in range(400))
    script = Script(
        [
            Episode([Step([text(long_text)], tokens_per_second=50)], match="long"),
            Episode([Step([text("short")])], match="short"),
        ]
    )
    server = make_server(script)
    agent = Agent(settings_for(server), repo, ListApprover())
    events = []
    async for event in agent.submit("long answer"):
        events.append(event)
        if isinstance(event, TextDelta):
            agent.interrupt()
    assert isinstance(events[-1], TurnInterrupted)
    events = await collect(agent.submit("short answer"))
    await agent.close()
    assert events[-1].final_text == "short"
    payload = server.record[-1].payload
    # the partial answer is not part of the conversation; the next call is self-contained
    assert "word1 " not in str(payload["input"])
    assert "previous_response_id" not in payload


async def test_interrupt_while_waiting_for_approval(make_server, settings_for, repo: Path) -> None:
    server = make_server(Script([Episode([Step([shell(["touch x.txt"])])], match="touch")]))

    class NeverAnswers:
        async def decide(self, request):
            await asyncio.Event().wait()

    agent = Agent(settings_for(server), repo, NeverAnswers())
    events = []
    async for event in agent.submit("touch it"):
        events.append(event)
        if isinstance(event, ToolCallProposed):
            agent.interrupt()
    assert isinstance(events[-1], TurnInterrupted)
    assert not (repo / "x.txt").exists()
    events = await collect(agent.submit("hello"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)


async def test_cancelling_the_consumer_is_safe(make_server, settings_for, repo: Path) -> None:
    server = make_server(
        Script([Episode([Step([shell(["touch started && sleep 30"])])], match="slow")])
    )
    agent = Agent(settings_for(server, approval_policy="full-auto"), repo, ListApprover())
    seen = asyncio.Event()

    async def consume() -> None:
        async for event in agent.submit("slow"):
            if isinstance(event, ToolCallProposed):
                seen.set()

    task = asyncio.create_task(consume())
    await seen.wait()
    await started(repo)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    events = await collect(agent.submit("and now?"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    assert any("interrupted by the user" in str(o) for o in sent_outputs(server))


async def test_tool_runs_once_across_a_dropped_stream(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        Script([Episode([Step([shell(["echo ran >> marker.txt"])]), Step([text("all done")])])])
    )

    def drop_next_response(request) -> None:
        # The next request carries this call's output: cut its stream mid-response.
        server.faults.drop_mid_stream(after_events=2)

    approver = ListApprover(Decision.approve(), on_ask=drop_next_response)
    agent = Agent(settings_for(server), repo, approver)
    events = await collect(agent.submit("append a line"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted), events[-1]
    assert events[-1].final_text == "all done"
    assert (repo / "marker.txt").read_text() == "ran\n"  # ran exactly once
    assert len(approver.requests) == 1
    outputs = [o for o in sent_outputs(server) if o["type"] == "shell_call_output"]
    assert len(outputs) >= 2  # the output was resent after the drop, the command was not re-run
    assert server.connections_opened >= 2
    assert "reconnect" in events[-1].metrics.recoveries


async def test_interrupt_between_calls_keeps_done_work(
    make_server, settings_for, repo: Path
) -> None:
    """Two calls in one response: the first ran, the second waits for approval when the user
    interrupts. The first keeps its real output, the second gets the interrupted one."""
    server = make_server(
        Script([Episode([Step([shell(["ls"]), shell(["touch second.txt"])])], match="two")])
    )

    class Interrupting:
        async def decide(self, request):
            agent.interrupt()
            await asyncio.Event().wait()

    agent = Agent(settings_for(server), repo, Interrupting())
    events = await collect(agent.submit("two calls"))
    assert isinstance(events[-1], TurnInterrupted)
    await collect(agent.submit("go on"))
    await agent.close()
    outputs = [o for o in sent_outputs(server) if o["type"] == "shell_call_output"]
    first, second = outputs[0], outputs[1]
    assert "app.py" in first["output"][0]["stdout"]
    assert "interrupted by the user" in second["output"][0]["stderr"]
    assert not (repo / "second.txt").exists()
