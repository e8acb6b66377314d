"""What is sent stays valid as a session grows: a context overflow compacts and retries once,
assistant ``phase`` survives replay, and no tool call or output goes out unpaired."""

from __future__ import annotations

import json
from pathlib import Path

from agent_support import API_KEY, ListApprover, collect

from codeagent.agent.conversation import Conversation
from codeagent.agent.events import AgentError, Notice, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.responses.transport import Transport
from codeagent.server.script import Episode, Script, Step, StepFault, text

OVERFLOW = "Your input exceeds the context window of this model."


def overflow_script(times: int) -> Script:
    """The second user message overflows the context window ``times`` times, then fits."""
    fault = StepFault(error="context_length_exceeded", status=400, message=OVERFLOW, times=times)
    return Script(
        [
            Episode([Step([text("Long answer.")], fault=fault)], match="second"),
            Episode([Step([text("Short answer.")])]),
        ]
    )


def compact_requests(server) -> list[dict]:
    return [f.payload for f in server.record if f.transport == "http" and "stream" not in f.payload]


async def test_overflow_compacts_and_retries_once(make_server, settings_for, repo: Path) -> None:
    server = make_server(overflow_script(times=1))
    agent = Agent(settings_for(server, no_git=True), repo, ListApprover())
    await collect(agent.submit("first message"))
    events = await collect(agent.submit("second message"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    assert events[-1].final_text == "Long answer."
    [compact] = compact_requests(server)
    assert "first message" in json.dumps(compact["input"])
    retried = server.record[-1].payload
    assert "previous_response_id" not in retried  # a new chain from the compacted window
    assert "compaction" in [item["type"] for item in retried["input"]]
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("no longer fits gpt-6-astra's context window" in t for t in notices)
    assert any(t.startswith("Compacted the conversation") and "it fits" in t for t in notices)


async def test_overflow_after_compaction_says_what_happened(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(overflow_script(times=2))
    agent = Agent(settings_for(server, no_git=True), repo, ListApprover())
    await collect(agent.submit("first message"))
    events = await collect(agent.submit("second message"))
    assert isinstance(events[-1], AgentError)
    assert events[-1].code == "context_length_exceeded"
    message = events[-1].message
    assert "too long for gpt-6-astra even after compacting it" in message
    assert OVERFLOW in message and "Start a new session" in message
    assert len(compact_requests(server)) == 1  # compacted once, not in a loop
    # The session goes on: the next turn is answered from the compacted history.
    events = await collect(agent.submit("third message"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)


async def test_assistant_phase_is_sent_back_on_replay(make_server, settings_for, repo: Path):
    server = make_server(Script([Episode([Step([text("Looking.", "commentary")])])]))
    agent = Agent(settings_for(server, no_git=True, transport="http"), repo, ListApprover())
    await collect(agent.submit("one"))
    await collect(agent.submit("two"))
    await agent.close()
    replayed = [
        item
        for item in server.record[-1].payload["input"]
        if item.get("role") == "assistant" and item["type"] == "message"
    ]
    assert [item.get("phase") for item in replayed] == ["commentary"]


async def test_a_call_without_output_never_goes_out(make_server) -> None:
    """A history holding a call with no output (say, a session saved mid-turn by an older
    version): the call goes out answered, and an output whose call is gone is left out."""
    server = make_server()
    conversation = Conversation(
        Transport(server.base_url, API_KEY, mode="http"),
        model="gpt-6-astra",
        instructions="test",
        tools=[],
    )
    conversation.add_user_message("hello")
    conversation.items.append(
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"}
    )
    conversation.items.append({"type": "function_call_output", "call_id": "gone", "output": "x"})
    conversation.add_user_message("go on")
    events = [e async for e in conversation.run()]
    await conversation.transport.close()
    assert events[-1].type == "response.completed"
    sent = server.record[-1].payload["input"]
    outputs = [i for i in sent if i["type"] == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_1"]
    assert outputs[0]["output"].startswith("not run")
