"""Prewarm: the agent connects and hands the server its instructions and tools with
``generate: false`` before the user's turn, and the turn chains from that empty response,
sending only the user's message. Over HTTP there is no prewarm; a failed one is silent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from agent_support import ListApprover, collect

from codeagent.agent.events import Notice, TurnCompleted
from codeagent.agent.loop import Agent


def creates(server) -> list[dict]:
    return [f.payload for f in server.record if f.payload.get("type") == "response.create"]


async def test_first_turn_chains_from_the_prewarm_with_only_the_user_message(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    agent = Agent(settings_for(server), repo, ListApprover())
    await agent.prewarm()
    warm_id = agent.conversation.last_response_id
    assert warm_id is not None
    events = await collect(agent.submit("hello after prewarm"))
    await agent.close()
    warm, turn = creates(server)
    assert warm["generate"] is False and warm["input"] == []
    assert warm["instructions"] == turn["instructions"] and warm["tools"] == turn["tools"]
    assert turn["previous_response_id"] == warm_id and "generate" not in turn
    assert turn["input"] == [
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "hello after prewarm"}]}
    ]  # fmt: skip
    assert server.connections_opened == 1
    final = events[-1]
    assert isinstance(final, TurnCompleted) and final.final_text == "You said: hello after prewarm"


async def test_a_turn_started_while_the_prewarm_runs_still_chains_from_it(
    make_server, settings_for, repo: Path
) -> None:
    """``codeagent exec`` starts the prewarm and the turn together: the request waits for it."""
    server = make_server()
    agent = Agent(settings_for(server), repo, ListApprover())
    warm = asyncio.create_task(agent.prewarm())
    events = await collect(agent.submit("at once"))
    await warm
    await agent.close()
    first, turn = creates(server)
    assert first["generate"] is False
    assert turn["input"][-1]["content"][0]["text"] == "at once" and len(turn["input"]) == 1
    assert isinstance(events[-1], TurnCompleted)


async def test_a_failed_prewarm_is_silent_and_the_turn_works(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    server.faults.error("server_error", 500)  # the prewarm's request gets it
    agent = Agent(settings_for(server), repo, ListApprover())
    await agent.prewarm()  # no exception
    assert agent.conversation.last_response_id is None
    events = await collect(agent.submit("still there?"))
    await agent.close()
    assert not [e for e in events if isinstance(e, Notice) and "prewarm" in e.text.lower()]
    assert isinstance(events[-1], TurnCompleted)
    assert events[-1].final_text == "You said: still there?"
    warm, turn = creates(server)  # the fault answered the prewarm; the turn sent in full
    assert warm["generate"] is False
    assert "previous_response_id" not in turn and "generate" not in turn


async def test_no_prewarm_over_http(make_server, settings_for, repo: Path) -> None:
    server = make_server()
    agent = Agent(settings_for(server, transport="http"), repo, ListApprover())
    await agent.prewarm()
    events = await collect(agent.submit("plain http"))
    await agent.close()
    [request] = [f.payload for f in server.record]
    assert "generate" not in request and request["input"][-1]["role"] == "user"
    assert isinstance(events[-1], TurnCompleted)


async def test_prewarm_again_after_the_socket_was_replaced(
    make_server, settings_for, repo: Path
) -> None:
    """After a turn the socket goes away (idle, rotated): the next prewarm sends the history on
    the new socket, and the next turn chains from it with only the new message."""
    server = make_server()
    agent = Agent(settings_for(server), repo, ListApprover())
    await collect(agent.submit("first"))
    await agent.transport.close()  # as when the server closes an idle socket
    agent._next_prewarm = 0.0  # the user starts typing later on
    await agent.prewarm()
    events = await collect(agent.submit("second"))
    await agent.close()
    *_, warm, turn = creates(server)
    assert warm["generate"] is False and len(warm["input"]) == 2  # "first" and its answer
    assert turn["previous_response_id"] and len(turn["input"]) == 1
    assert turn["input"][0]["content"][0]["text"] == "second"
    assert isinstance(events[-1], TurnCompleted) and server.connections_opened == 2


def test_the_prewarm_builds_the_wire_models_before_the_turn_needs_them(
    repo: Path, tmp_path
) -> None:
    # In a fresh interpreter (this one has built them long ago): the validators are deferred
    # at import for exec's sake, and a prewarmed turn's first events must not wait for them.
    script = f"""
import asyncio
from codeagent.agent.loop import Agent
from codeagent.config import Settings
from codeagent.responses.events import WireModel
from codeagent.responses.model_warmup import build_validators
from codeagent.server.embedded import EmbeddedServer

class NoApprovals:
    async def decide(self, request):
        raise AssertionError(request)

async def main():
    server = EmbeddedServer().start()
    try:
        settings = Settings(base_url=server.base_url, api_key="sk-test-local-prewarm",
                            transport="websocket")
        agent = Agent(settings, {str(repo)!r}, NoApprovals())
        await agent.prewarm()
        print("left to build after prewarm:", build_validators())
        await agent.close()
    finally:
        server.stop()

asyncio.run(main())
"""
    env = {
        **os.environ,
        "CODEAGENT_STATE_DIR": str(tmp_path / "state"),
        "CODEAGENT_CONFIG_DIR": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "left to build after prewarm: 0" in done.stdout
