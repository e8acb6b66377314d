"""Property: whatever mix of turns, setting changes and injected faults, the context the server
expands for every completed call is exactly the client's history -- nothing lost, nothing twice.

The server's view is rebuilt from its own record of received frames: a chained frame extends the
context of the response it names, a full frame stands alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.agent.conversation import Conversation
from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.transport import Transport
from codeagent.server.embedded import EmbeddedServer
from codeagent.server.script import Episode, Script, Step, function_call, reasoning, text

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
STEPS = [
    Step([reasoning("hmm"), text(f"working {i}"), function_call("lookup", {"i": i})])
    for i in range(40)
]
OPS = ["call", "user", "drop", "forget", "limit", "setting", "server_error"]


def normalized(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in i.items() if k not in ("id", "status")} for i in items]


def answer_calls(conversation: Conversation) -> None:
    conversation.add_items(
        [
            {"type": "function_call_output", "call_id": i["call_id"], "output": "ok"}
            for i in conversation.last_output
            if i.get("type") == "function_call"
        ]
    )


async def play(server: EmbeddedServer, ops: list[str], store: bool) -> None:
    transport = Transport(server.base_url, "sk-test", mode="websocket")
    conversation = Conversation(
        transport, model=DEFAULT_MODEL, instructions="v0", tools=[TOOL], store=store,
        retry_base_delay=0.0, retry_max_delay=0.0,
    )  # fmt: skip
    contexts: dict[str, list[dict[str, Any]]] = {}  # response id -> its input + output
    try:
        conversation.add_user_message("start")
        for n, op in enumerate(ops):
            if op == "drop":
                server.faults.drop_mid_stream(after_events=2)
            elif op == "forget":
                server.faults.forget_cached_responses()
            elif op == "limit":
                server.faults.error("websocket_connection_limit_reached", 400)
            elif op == "server_error":
                server.faults.error("server_error", 500)
            elif op == "setting":
                conversation.update_settings(instructions=f"v{n}")
            if conversation.last_output:
                answer_calls(conversation)
            if op == "user":
                conversation.add_user_message(f"message {n}")
            history = list(conversation.items)
            async for _ in conversation.run():
                pass
            server.faults.clear()
            # What the server expanded for the frame that produced this response.
            frame = [f for f in server.record if "input" in f.payload][-1].payload
            previous = frame.get("previous_response_id")
            expanded = (contexts[previous] if previous else []) + frame["input"]
            assert normalized(expanded) == normalized(history), (ops, n)
            contexts[conversation.last_response_id] = expanded + conversation.last_output
        kinds = [i["type"] for i in conversation.items]
        calls = [i["call_id"] for i in conversation.items if i["type"] == "function_call"]
        assert len(calls) == len(set(calls)) == len(ops)
        assert kinds.count("function_call_output") == len(ops) - 1
    finally:
        await transport.close()


@pytest.fixture(scope="module")
def scripted_server():
    """One server for every example (starting one per example would dominate the run time)."""
    server = EmbeddedServer(Script([Episode(STEPS)])).start()
    yield server
    server.stop()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=7), store=st.booleans())
def test_server_context_always_equals_client_history(scripted_server, ops, store):
    scripted_server.faults.clear()
    scripted_server.record.clear()
    asyncio.run(play(scripted_server, ops, store))
