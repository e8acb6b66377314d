"""The chaining rule over loopback against the local server: a 25-turn tool loop sends only new
items over WebSocket, the full input over HTTP, and both end with the same conversation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codeagent.agent.conversation import Conversation, ConversationNotice
from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.requests import build_body, encoded_size, replay_item
from codeagent.responses.transport import Transport
from codeagent.server.script import Episode, Script, Step, function_call

TOOL = {
    "type": "function",
    "name": "lookup",
    "description": "Look something up.",
    "parameters": {"type": "object", "properties": {"i": {"type": "integer"}}},
}
TOOL_TURNS = 25


def tool_loop_script(turns: int = TOOL_TURNS) -> Script:
    """One episode: ``turns`` function calls in a row, then the server's final text."""
    return Script([Episode([Step([function_call("lookup", {"i": i})]) for i in range(turns)])])


def make_conversation(
    server, *, mode: str = "websocket", store: bool = False, **kw
) -> Conversation:
    transport = Transport(server.base_url, "sk-test", mode=mode)
    return Conversation(
        transport,
        model=DEFAULT_MODEL,
        instructions="You are a test.",
        tools=[TOOL],
        store=store,
        retry_base_delay=0.01,
        **kw,
    )


def tool_outputs(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ``function_call_output`` answering each function call of ``output``."""
    return [
        {
            "type": "function_call_output",
            "call_id": item["call_id"],
            "output": f"result {item['arguments']}",
        }
        for item in output
        if item.get("type") == "function_call"
    ]


async def drive(conversation: Conversation, text: str) -> list[Any]:
    """Send ``text`` and answer tool calls until the model stops calling tools. Returns
    everything ``run()`` yielded, and the metrics of every call in ``conversation.metrics_log``."""
    conversation.add_user_message(text)
    seen: list[Any] = []
    metrics = []
    while True:
        async for out in conversation.run():
            seen.append(out)
        metrics.append(conversation.last_metrics)
        outputs = tool_outputs(conversation.last_output)
        if not outputs:
            break
        conversation.add_items(outputs)
    conversation.metrics_log = metrics  # type: ignore[attr-defined]
    return seen


def normalized(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items without server-assigned ids and statuses, for comparing two runs."""
    drop = {"id", "call_id", "status"}
    return [{k: v for k, v in item.items() if k not in drop} for item in items]


def create_frames(server) -> list[Any]:
    return [f for f in server.record if "input" in f.payload]


async def test_25_turn_tool_loop_over_websocket_sends_only_new_items(make_server):
    server = make_server(script=tool_loop_script())
    conversation = make_conversation(server, mode="websocket")
    try:
        seen = await drive(conversation, "run the loop")
    finally:
        await conversation.transport.close()

    frames = create_frames(server)
    metrics = conversation.metrics_log
    assert len(frames) == TOOL_TURNS + 1 == len(metrics)
    assert {f.transport for f in frames} == {"ws"}
    assert len({f.conn_id for f in frames}) == 1, "one persistent connection"
    assert not any(isinstance(s, ConversationNotice) for s in seen)

    first, rest = frames[0], frames[1:]
    assert "previous_response_id" not in first.payload
    assert len(first.payload["input"]) == 1
    for turn, (frame, previous) in enumerate(zip(rest, metrics, strict=False), start=2):
        assert frame.payload["previous_response_id"] == previous.response_id, turn
        # Only the new tool output travels: never the model's own items, never old outputs.
        assert [i["type"] for i in frame.payload["input"]] == ["function_call_output"], turn

    # Every input item is sent exactly once over the whole conversation.
    sent = [json.dumps(i, sort_keys=True) for f in frames for i in f.payload["input"]]
    assert len(sent) == len(set(sent))
    inputs_in_history = [i for i in conversation.items if i["type"] != "function_call"]
    assert len(sent) == len(inputs_in_history) - 1  # minus the final assistant message

    # Our byte count is what the server received, and chained turns are far smaller.
    for frame, m in zip(frames, metrics, strict=True):
        assert m.transport == "websocket"
        assert m.bytes_sent == frame.nbytes
    assert not metrics[0].chained and all(m.chained for m in metrics[1:])
    last = metrics[-1]
    full_input = [replay_item(i, store=False) for i in conversation.items[:-1]]
    assert last.bytes_full_resend == encoded_size(
        build_body(conversation.settings(), full_input), "websocket"
    )
    assert last.bytes_sent * 5 < last.bytes_full_resend
    assert sum(m.bytes_sent for m in metrics) * 5 < sum(m.bytes_full_resend for m in metrics)
    assert last.time_to_created is not None and last.input_tokens > 0
    assert 0 < last.cached_tokens <= last.input_tokens  # usage details are read, not dropped


async def test_same_loop_over_http_sends_full_input_and_ends_identically(make_server):
    ws_server = make_server(script=tool_loop_script())
    http_server = make_server(script=tool_loop_script())
    over_ws = make_conversation(ws_server, mode="websocket")
    over_http = make_conversation(http_server, mode="http")
    try:
        await drive(over_ws, "run the loop")
        await drive(over_http, "run the loop")
    finally:
        await over_ws.transport.close()
        await over_http.transport.close()

    frames = create_frames(http_server)
    assert len(frames) == TOOL_TURNS + 1
    assert {f.transport for f in frames} == {"http"}
    assert len({f.conn_id for f in frames}) == 1, "HTTP keep-alive: one TCP connection"
    for turn, frame in enumerate(frames):
        assert "previous_response_id" not in frame.payload
        # user message + (call, output) per previous turn: the whole history every time.
        assert len(frame.payload["input"]) == 1 + 2 * turn
    for frame, m in zip(frames, over_http.metrics_log, strict=True):
        assert m.transport == "http" and not m.chained
        assert m.bytes_sent == frame.nbytes == m.bytes_full_resend

    assert normalized(over_ws.items) == normalized(over_http.items)
    ws_total = sum(f.nbytes for f in create_frames(ws_server))
    http_total = sum(f.nbytes for f in frames)
    assert ws_total * 5 < http_total


async def test_http_with_store_true_chains_through_the_server_store(make_server):
    server = make_server(script=tool_loop_script(3))
    conversation = make_conversation(server, mode="http", store=True)
    try:
        await drive(conversation, "go")
    finally:
        await conversation.transport.close()
    frames = create_frames(server)
    assert len(frames) == 4
    assert all("previous_response_id" in f.payload for f in frames[1:])
    assert all(len(f.payload["input"]) == 1 for f in frames)


async def test_changing_a_setting_breaks_the_chain_for_one_call(make_server):
    server = make_server(script=tool_loop_script(3))
    conversation = make_conversation(server)
    try:
        conversation.add_user_message("go")
        async for _ in conversation.run():
            pass
        conversation.add_items(tool_outputs(conversation.last_output))
        conversation.update_settings(instructions="Now be terse.")
        async for _ in conversation.run():
            pass
        assert not conversation.last_metrics.chained
        conversation.add_items(tool_outputs(conversation.last_output))
        async for _ in conversation.run():
            pass
        assert conversation.last_metrics.chained
    finally:
        await conversation.transport.close()
    frames = create_frames(server)
    assert "previous_response_id" not in frames[1].payload
    assert frames[1].payload["instructions"] == "Now be terse."
    assert len(frames[1].payload["input"]) == 3
    assert frames[2].payload["previous_response_id"]


async def test_unknown_setting_is_refused_and_nothing_changes(responses_server):
    conversation = make_conversation(responses_server)
    try:
        with pytest.raises(ValueError, match="unknown conversation setting"):
            conversation.update_settings(temprature=0.3)
        assert conversation.settings()["instructions"] == "You are a test."
    finally:
        await conversation.transport.close()


async def test_running_without_input_is_a_clear_error(responses_server):
    conversation = make_conversation(responses_server)
    try:
        with pytest.raises(ValueError, match="no input"):
            async for _ in conversation.run():
                pass
        assert responses_server.record == []
    finally:
        await conversation.transport.close()


async def test_state_round_trip_store_false_resends_full_and_store_true_chains(make_server):
    server = make_server(script=tool_loop_script(2))
    for store in (False, True):
        server.record.clear()
        first = make_conversation(server, store=store)
        try:
            first.add_user_message(f"go {store}")
            async for _ in first.run():
                pass
            first.add_items(tool_outputs(first.last_output))
            state = json.loads(json.dumps(first.to_state()))
        finally:
            await first.transport.close()
        transport = Transport(server.base_url, "sk-test", mode="websocket")
        second = Conversation.from_state(state, transport)
        try:
            assert second.items == first.items
            async for _ in second.run():
                pass
        finally:
            await transport.close()
        frame = create_frames(server)[-1]
        assert second.last_metrics.chained is store
        assert ("previous_response_id" in frame.payload) is store


def test_from_state_rejects_something_else():
    transport = Transport("http://127.0.0.1:9/v1", None, mode="http")
    with pytest.raises(ValueError, match="not a saved conversation state"):
        Conversation.from_state({"items": []}, transport)


async def test_context_management_is_passed_through_and_compact_restarts_the_chain(make_server):
    server = make_server(script=tool_loop_script(3))
    cm = [{"type": "compaction", "compact_threshold": 200_000}]
    conversation = make_conversation(server, context_management=cm)
    try:
        conversation.add_user_message("go")
        async for _ in conversation.run():
            pass
        conversation.add_items(tool_outputs(conversation.last_output))
        before = len(conversation.items)
        result = await conversation.compact()
        assert conversation.items == result["output"]
        assert any(i.get("type") == "compaction" for i in conversation.items)
        assert len(conversation.items) <= before
        async for _ in conversation.run():
            pass
        assert not conversation.last_metrics.chained
    finally:
        await conversation.transport.close()
    frames = create_frames(server)
    assert all(f.payload.get("context_management") == cm for f in frames if f.transport == "ws")
    after_compact = [f for f in frames if f.transport == "ws"][-1]
    assert "previous_response_id" not in after_compact.payload
    assert after_compact.payload["input"][: len(result["output"])] == [
        {k: v for k, v in i.items() if k != "id"} for i in result["output"]
    ]


async def test_rewriting_earlier_history_breaks_the_chain(make_server):
    server = make_server(script=tool_loop_script(3))
    conversation = make_conversation(server)
    try:
        conversation.add_user_message("go")
        async for _ in conversation.run():
            pass
        # The agent replaces an item the server already holds (e.g. redacting it).
        conversation.items[0] = {**conversation.items[0]}
        conversation.add_items(tool_outputs(conversation.last_output))
        async for _ in conversation.run():
            pass
        assert not conversation.last_metrics.chained
    finally:
        await conversation.transport.close()
    assert "previous_response_id" not in create_frames(server)[-1].payload


async def test_store_false_asks_for_encrypted_reasoning_unless_told_otherwise(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="http")
    try:
        default = Conversation(transport, model=DEFAULT_MODEL, instructions="", tools=[])
        assert default.settings()["include"] == ["reasoning.encrypted_content"]
        assert "instructions" not in default.settings()  # empty instructions are left out
        stored = Conversation(transport, model=DEFAULT_MODEL, instructions="", tools=[], store=True)
        assert "include" not in stored.settings()
        explicit = Conversation(
            transport, model=DEFAULT_MODEL, instructions="", tools=[], include=[]
        )
        assert explicit.settings()["include"] == []
    finally:
        await transport.close()


async def test_a_second_concurrent_call_is_refused(responses_server):
    conversation = make_conversation(responses_server)
    conversation.add_user_message("hi")
    try:
        first = conversation.run()
        await first.__anext__()  # the first call is streaming
        with pytest.raises(RuntimeError, match="already running"):
            async for _ in conversation.run():
                pass
        async for _ in first:
            pass
        assert conversation.last_output  # the first call finished normally
    finally:
        await conversation.transport.close()
