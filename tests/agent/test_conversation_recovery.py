"""Recovery paths, each with the fault injected at the local server: the conversation ends
complete and consistent, with no item duplicated or lost and no partial response recorded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from codeagent.agent.conversation import Conversation, ConversationNotice
from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.errors import RequestRejected, ServerError
from codeagent.responses.transport import Transport
from codeagent.server.script import Episode, Script, Step, function_call, text

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}


def script(turns: int = 4) -> Script:
    steps = [Step([text(f"step {i} "), function_call("lookup", {"i": i})]) for i in range(turns)]
    return Script([Episode(steps)])


def conversation_for(server, *, store: bool = False, **transport_kw: Any) -> Conversation:
    transport_kw.setdefault("mode", "websocket")
    transport = Transport(server.base_url, "sk-test", **transport_kw)
    return Conversation(
        transport,
        model=DEFAULT_MODEL,
        instructions="test",
        tools=[TOOL],
        store=store,
        retry_base_delay=0.01,
        retry_max_delay=0.05,
    )


def outputs_for(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "function_call_output", "call_id": i["call_id"], "output": "ok"}
        for i in output
        if i.get("type") == "function_call"
    ]


async def call(conversation: Conversation) -> list[Any]:
    """One model call; returns what it yielded."""
    return [out async for out in conversation.run()]


async def next_call(conversation: Conversation) -> list[Any]:
    """Answer the pending tool calls, then make the next model call."""
    conversation.add_items(outputs_for(conversation.last_output))
    return await call(conversation)


def creates(server) -> list[Any]:
    return [f for f in server.record if "input" in f.payload]


def assert_consistent(conversation: Conversation, calls: int) -> None:
    """History = user message + per call: its output items + our tool output; nothing twice."""
    kinds = [i["type"] for i in conversation.items]
    assert kinds[0] == "message"
    assert kinds.count("function_call") == calls
    assert kinds.count("function_call_output") == calls - 1
    ids = [i["id"] for i in conversation.items if "id" in i]
    assert len(ids) == len(set(ids)), "an output item was recorded twice"
    call_ids = [i["call_id"] for i in conversation.items if i["type"] == "function_call"]
    assert len(call_ids) == len(set(call_ids))


@pytest.fixture
async def closing():
    opened: list[Conversation] = []
    yield opened.append
    for conversation in opened:
        await conversation.transport.close()


async def test_lost_cache_resends_the_full_input_once(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    server.faults.forget_cached_responses()
    seen = await next_call(conv)

    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert [n.category for n in notices] == ["recovery"]
    assert not notices[0].restart  # refused before anything streamed
    assert conv.last_metrics.recoveries == ("previous_response_not_found",)
    assert not conv.last_metrics.chained
    frames = creates(server)
    assert frames[1].payload.get("previous_response_id")
    assert "previous_response_id" not in frames[2].payload
    # The whole history: user message, call 1's message and function call, our output.
    assert len(frames[2].payload["input"]) == 4
    assert_consistent(conv, 2)
    # The chain continues normally afterwards.
    await next_call(conv)
    assert conv.last_metrics.chained
    assert_consistent(conv, 3)


@pytest.mark.parametrize("store", [False, True])
async def test_drop_mid_stream_reconnects_and_discards_the_partial_response(
    make_server, closing, store
):
    server = make_server(script=script())
    conv = conversation_for(server, store=store)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    server.faults.drop_mid_stream(after_events=3)
    seen = await next_call(conv)

    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert len(notices) == 1 and notices[0].category == "reconnect"
    assert notices[0].restart, "events had streamed; the caller must discard them"
    assert conv.last_metrics.recoveries == ("reconnect",)
    assert conv.transport.connections_opened == 2
    frames = creates(server)
    assert len(frames) == 3 and frames[1].conn_id != frames[2].conn_id
    if store:
        assert (
            frames[2].payload["previous_response_id"] == frames[1].payload["previous_response_id"]
        )
        assert conv.last_metrics.chained
    else:
        assert "previous_response_id" not in frames[2].payload
        assert not conv.last_metrics.chained
    assert_consistent(conv, 2)
    await next_call(conv)
    assert conv.last_metrics.chained
    assert_consistent(conv, 3)


async def test_connection_limit_reconnects_with_full_input_without_store(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    server.faults.error("websocket_connection_limit_reached", 400)
    seen = await next_call(conv)
    assert [n.category for n in seen if isinstance(n, ConversationNotice)] == ["reconnect"]
    assert conv.last_metrics.recoveries == ("connection_limit",)
    frames = creates(server)
    assert frames[-1].conn_id != frames[0].conn_id
    assert "previous_response_id" not in frames[-1].payload
    assert_consistent(conv, 2)


async def test_server_lifetime_limit_is_survived(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    # Let the first socket grow older than the limit we now set; a new socket stays below it.
    await asyncio.sleep(0.2)
    server.set_max_connection_age(0.1)
    seen = await next_call(conv)
    assert [n.category for n in seen if isinstance(n, ConversationNotice)] == ["reconnect"]
    assert conv.last_metrics.recoveries == ("connection_limit",)
    assert conv.transport.connections_opened == 2
    assert_consistent(conv, 2)


async def test_proactive_rotation_happens_at_turn_boundaries_only(make_server, closing):
    server = make_server(script=script())
    # Every turn boundary is within the rotate margin, so each call gets a new socket.
    conv = conversation_for(server, store=True, max_connection_age=100.0, rotate_margin=100.0)
    closing(conv)
    conv.add_user_message("go")
    seen = await call(conv)
    for _ in range(2):
        seen += await next_call(conv)
    frames = creates(server)
    assert len({f.conn_id for f in frames}) == 3
    assert conv.transport.connections_opened == 3
    assert not [s for s in seen if isinstance(s, ConversationNotice)], "no call was interrupted"
    assert all(f.payload.get("previous_response_id") for f in frames[1:])  # store=true chains
    assert_consistent(conv, 3)


async def test_rate_limit_waits_the_suggested_delay_then_succeeds(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    server.faults.error("rate_limit_exceeded", 429, "Slow down.", retry_after=0.05)
    conv.add_user_message("go")
    seen = await call(conv)
    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert len(notices) == 1 and "Rate limited" in notices[0].text
    assert conv.last_metrics.recoveries == ("rate_limited",)
    assert_consistent(conv, 1)


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_server_errors_are_retried_then_reported_and_nothing_is_recorded(
    make_server, closing, mode
):
    server = make_server(script=script())
    conv = conversation_for(server, mode=mode)
    closing(conv)
    server.faults.error("server_error", 500, "The server had an error.", times=1)
    conv.add_user_message("go")
    await call(conv)
    assert conv.last_metrics.recoveries == ("server_error",)
    assert_consistent(conv, 1)

    before = json.dumps(conv.items)
    chain_before = conv.last_response_id
    conv.add_items(outputs_for(conv.last_output))
    server.faults.error("server_error", 500, "The server had an error.", times=10)
    with pytest.raises(ServerError, match="The server had an error"):
        await call(conv)
    # The tool output is kept for the next try; nothing of the failed call was recorded.
    assert json.dumps(conv.items[:-1]) == before
    assert conv.items[-1]["type"] == "function_call_output"
    assert conv.last_response_id == chain_before
    server.faults.clear()
    await call(conv)
    assert_consistent(conv, 2)


async def test_idle_stream_is_abandoned_and_retried(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, idle_timeout=0.3)
    closing(conv)
    server.faults.stall(after_events=2, seconds=1.0)
    conv.add_user_message("go")
    seen = await call(conv)
    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert len(notices) == 1 and notices[0].restart and "No event" in notices[0].text
    assert conv.last_metrics.recoveries == ("idle_timeout",)
    assert_consistent(conv, 1)


async def test_consumer_walking_away_leaves_the_conversation_consistent(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    conv.add_items(outputs_for(conv.last_output))
    items_before = list(conv.items)
    events = conv.run()
    async for event in events:
        if event.type.endswith(".delta"):
            break
    await events.aclose()
    assert conv.items == items_before  # the half-streamed response is not recorded
    await call(conv)
    frames = creates(server)
    assert "previous_response_id" not in frames[-1].payload  # socket was dropped: full input
    assert_consistent(conv, 2)


async def test_auto_mode_reports_the_fallback_once_and_stays_on_http(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="auto")
    closing(conv)
    server.faults.reject_websocket(426, times=1)
    conv.add_user_message("go")
    seen = await call(conv)
    seen += await next_call(conv)
    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert [n.category for n in notices] == ["fallback"]
    assert "HTTP" in notices[0].text and not notices[0].restart
    assert conv.last_metrics.transport == "http"
    frames = creates(server)
    assert [f.transport for f in frames] == ["http", "http"]
    assert "previous_response_id" not in frames[1].payload  # store=false over HTTP: full input
    assert_consistent(conv, 2)


async def test_fallback_after_a_drop_resends_the_full_input_over_http(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="auto")
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    server.faults.drop_mid_stream(after_events=2)
    server.faults.reject_websocket(426, times=None)
    seen = await next_call(conv)
    categories = [s.category for s in seen if isinstance(s, ConversationNotice)]
    assert categories == ["reconnect", "fallback"]
    assert conv.last_metrics.recoveries == ("reconnect", "fallback")
    frames = creates(server)
    assert [f.transport for f in frames] == ["ws", "ws", "http"]
    assert "previous_response_id" not in frames[2].payload
    assert len(frames[2].payload["input"]) == 4
    assert_consistent(conv, 2)


async def test_http_stream_cut_is_retried(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="http")
    closing(conv)
    conv.add_user_message("go")
    server.faults.drop_mid_stream(after_events=3)
    seen = await call(conv)
    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert len(notices) == 1 and notices[0].restart
    assert conv.last_metrics.recoveries == ("reconnect",)
    assert_consistent(conv, 1)


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_a_non_json_frame_mid_stream_is_recovered_like_a_drop_and_said(
    make_server, closing, mode
):
    server = make_server(script=script())
    conv = conversation_for(server, mode=mode)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    conv.add_items(outputs_for(conv.last_output))
    server.faults.malformed_frame(at_event=3, text="<html>proxy error</html>")
    seen = await call(conv)
    notices = [s for s in seen if isinstance(s, ConversationNotice)]
    assert len(notices) == 1 and notices[0].restart and not notices[0].silent
    assert "not a JSON event" in notices[0].text and "discarded" in notices[0].text
    assert conv.last_metrics.recoveries == ("corrupt_stream",)
    if mode == "websocket":
        assert conv.transport.connections_opened == 2  # a new socket
        assert "previous_response_id" not in creates(server)[-1].payload  # store=false: full
    assert_consistent(conv, 2)


def failed_frame(code: str, message: str) -> str:
    response = {
        "id": "resp_failed",
        "status": "failed",
        "output": [],
        "error": {"code": code, "message": message},
    }
    return json.dumps({"type": "response.failed", "response": response})


async def test_failed_response_with_a_server_error_is_retried(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="http")
    closing(conv)
    server.faults.send_raw(failed_frame("server_error", "The server had an error."))
    conv.add_user_message("go")
    await call(conv)
    assert conv.last_metrics.recoveries == ("server_error",)
    assert conv.last_response_id != "resp_failed"
    assert_consistent(conv, 1)


async def test_failed_response_the_client_cannot_fix_is_raised_at_once(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="http")
    closing(conv)
    server.faults.send_raw(failed_frame("invalid_prompt", "Your prompt was flagged."))
    conv.add_user_message("go")
    with pytest.raises(RequestRejected, match="Your prompt was flagged"):
        await call(conv)
    assert len(creates(server)) == 1  # not retried
    assert conv.last_response_id is None and len(conv.items) == 1


async def test_idle_http_stream_is_abandoned_and_retried(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server, mode="http", idle_timeout=0.3)
    closing(conv)
    server.faults.stall(after_events=2, seconds=1.0)
    conv.add_user_message("go")
    await call(conv)
    assert conv.last_metrics.recoveries == ("idle_timeout",)
    assert_consistent(conv, 1)


async def test_cancelling_the_consumer_mid_stream_records_nothing(make_server, closing):
    steps = [
        Step([text("a long answer " * 40), function_call("lookup", {})], tokens_per_second=200)
    ]
    server = make_server(script=Script([Episode(steps)]))
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    streaming = asyncio.Event()

    async def consume() -> None:
        async for event in conv.run():
            if getattr(event, "type", "").endswith(".delta"):
                streaming.set()

    task = asyncio.create_task(consume())
    await streaming.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(conv.items) == 1 and conv.last_response_id is None
    server.script = script()
    await call(conv)  # usable again, on a new socket
    assert conv.transport.connections_opened == 2
    assert_consistent(conv, 1)


async def test_full_resend_carries_encrypted_reasoning_without_server_ids(make_server, closing):
    from codeagent.server.script import reasoning

    steps = [
        Step([reasoning("Thinking it over."), function_call("lookup", {"i": i})]) for i in range(3)
    ]
    server = make_server(script=Script([Episode(steps)]))
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv)
    recorded = [i for i in conv.items if i["type"] == "reasoning"]
    assert recorded and recorded[0].get("encrypted_content")
    assert conv.last_metrics.reasoning_tokens > 0
    server.faults.forget_cached_responses()
    await next_call(conv)
    resent = creates(server)[-1].payload["input"]
    sent_reasoning = [i for i in resent if i["type"] == "reasoning"]
    assert sent_reasoning[0]["encrypted_content"] == recorded[0]["encrypted_content"]
    assert all("id" not in i for i in resent)
    assert_consistent(conv, 2)
