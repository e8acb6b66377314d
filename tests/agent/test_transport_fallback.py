"""WebSocket trouble the real API is known for, injected at the local server over real sockets:
a frame refused with 1009, a socket closed with 1008 right after the upgrade, repeated drops, a
403 at the upgrade, an exhausted quota, 429/5xx with retry-after. The call always ends (over
HTTP when WebSocket keeps failing), the user hears about a fallback once, and a later call
boundary brings WebSocket back."""

from __future__ import annotations

from typing import Any

import pytest

from codeagent.agent.conversation import Conversation, ConversationNotice
from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.errors import HandshakeFailed, QuotaExceeded
from codeagent.responses.transport import RETURN_DELAYS, Transport
from codeagent.server.script import Episode, Script, Step, function_call, text

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}


class Clock:
    """A clock the test moves by hand (the transport's return-to-WebSocket timer)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def script(turns: int = 6) -> Script:
    steps = [Step([text(f"step {i} "), function_call("lookup", {"i": i})]) for i in range(turns)]
    return Script([Episode(steps)])


def conversation_for(server, clock: Clock | None = None, **transport_kw: Any) -> Conversation:
    transport_kw.setdefault("mode", "auto")
    transport = Transport(server.base_url, "sk-test", clock=clock or Clock(), **transport_kw)
    return Conversation(
        transport,
        model=DEFAULT_MODEL,
        instructions="test",
        tools=[TOOL],
        retry_base_delay=0.01,
        retry_max_delay=0.05,
    )


async def call(conversation: Conversation, *, answer: bool = True) -> list[ConversationNotice]:
    """Answer the pending tool calls, make one model call, return its notices."""
    if answer:
        conversation.add_items(
            [
                {"type": "function_call_output", "call_id": i["call_id"], "output": "ok"}
                for i in conversation.last_output
                if i.get("type") == "function_call"
            ]
        )
    return [out async for out in conversation.run() if isinstance(out, ConversationNotice)]


def transports(server) -> list[str]:
    return [f.transport for f in server.record if "input" in f.payload]


@pytest.fixture
async def closing():
    opened: list[Conversation] = []
    yield opened.append
    for conversation in opened:
        await conversation.transport.close()


async def test_a_frame_refused_with_1009_continues_over_http_and_says_so_once(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    await call(conv, answer=False)
    server.faults.max_frame_size(600)  # the next request (history + output) is larger
    conv.add_user_message("x" * 800)
    notices = await call(conv)
    told = [n for n in notices if not n.silent]
    assert [n.category for n in told] == ["fallback"]
    assert "1009" in told[0].text and "too large" in told[0].text
    assert conv.last_metrics.transport == "http"
    assert transports(server)[-1] == "http"
    # The next call stays on HTTP without another word.
    assert [n for n in await call(conv) if not n.silent] == []
    assert conv.last_metrics.transport == "http"


async def test_sockets_closed_with_1008_after_the_upgrade_fall_back_after_the_budget(
    make_server, closing
):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    server.faults.close_after_upgrade(1008, times=50)
    conv.add_user_message("go")
    notices = await call(conv, answer=False)
    # First retry silent, the second told, then HTTP.
    assert [(n.category, n.silent) for n in notices] == [
        ("reconnect", True),
        ("reconnect", False),
        ("reconnect", False),
        ("fallback", False),
    ]
    assert "1008" in notices[1].text
    assert "failed 3 times in a row" in notices[-1].text
    assert conv.last_metrics.transport == "http"
    assert conv.last_metrics.recoveries[-1] == "fallback"
    assert transports(server) == ["http"]  # no WebSocket request ever got through


async def test_repeated_drops_fall_back_and_a_single_drop_does_not(make_server, closing):
    server = make_server(script=script())
    conv = conversation_for(server)
    closing(conv)
    conv.add_user_message("go")
    server.faults.drop_mid_stream(after_events=2)
    notices = await call(conv, answer=False)
    assert [(n.category, n.silent, n.restart) for n in notices] == [("reconnect", True, True)]
    assert conv.last_metrics.transport == "websocket"

    server.faults.drop_mid_stream(after_events=2, times=3)
    notices = await call(conv)
    assert [n.category for n in notices if not n.silent] == ["reconnect", "reconnect", "fallback"]
    assert conv.last_metrics.transport == "http"
    assert transports(server)[-4:] == ["ws", "ws", "ws", "http"]


async def test_fallback_is_not_sticky_websocket_comes_back_after_a_minute(make_server, closing):
    server = make_server(script=script())
    clock = Clock()
    conv = conversation_for(server, clock)
    closing(conv)
    server.faults.reject_websocket(426, times=1)
    conv.add_user_message("go")
    notices = await call(conv, answer=False)
    assert [n.category for n in notices] == ["fallback"]
    assert "again in 1 minute" in notices[0].text
    assert conv.transport.websocket_retry_at == clock.now + RETURN_DELAYS[0]

    clock.now += RETURN_DELAYS[0] - 1  # not yet
    assert await call(conv) == []
    assert conv.last_metrics.transport == "http"

    clock.now += 1
    notices = await call(conv)
    assert [n.category for n in notices] == ["restored"]
    assert "WebSocket" in notices[0].text
    assert conv.last_metrics.transport == "websocket"
    assert not conv.transport.fell_back
    assert transports(server) == ["http", "http", "ws"]
    await call(conv)  # and it stays there, chaining again
    assert conv.last_metrics.transport == "websocket" and conv.last_metrics.chained


async def test_a_failed_return_waits_longer_and_says_nothing(make_server, closing):
    server = make_server(script=script())
    clock = Clock()
    conv = conversation_for(server, clock)
    closing(conv)
    server.faults.reject_websocket(426, times=2)
    conv.add_user_message("go")
    await call(conv, answer=False)
    clock.now += RETURN_DELAYS[0]
    assert await call(conv) == []  # the return handshake was refused: quietly HTTP
    assert conv.last_metrics.transport == "http"
    assert conv.transport.websocket_retry_at == clock.now + RETURN_DELAYS[1]

    # Back on WebSocket, but the socket drops at once: quietly back to HTTP (the user was
    # never told it was back), the call still completes.
    clock.now += RETURN_DELAYS[1]
    server.faults.drop_mid_stream(after_events=1)
    notices = await call(conv)
    assert [n for n in notices if not n.silent] == []
    assert conv.last_metrics.transport == "http"
    assert conv.transport.websocket_retry_at == clock.now + RETURN_DELAYS[2]


async def test_403_at_the_upgrade_is_not_reported_as_a_bad_key(make_server, closing):
    server = make_server(script=script())
    ws_only = conversation_for(server, mode="websocket")
    closing(ws_only)
    server.faults.reject_websocket(403, times=None)
    ws_only.add_user_message("go")
    ws_only.retry = type(ws_only.retry)(0)  # no retries: look at the first error
    with pytest.raises(HandshakeFailed) as info:
        await call(ws_only, answer=False)
    assert "403" in info.value.message and "too many open connections" in info.value.message
    assert "OPENAI_API_KEY" not in info.value.message and "refused" in info.value.message

    auto = conversation_for(server)
    closing(auto)
    auto.add_user_message("go")
    notices = await call(auto, answer=False)
    assert [n.category for n in notices] == ["fallback"] and "403" in notices[0].text
    assert auto.last_metrics.transport == "http"


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_insufficient_quota_is_fatal_at_once_and_says_what_to_check(
    make_server, closing, mode
):
    server = make_server(script=script())
    conv = conversation_for(server, mode=mode)
    closing(conv)
    server.faults.error(
        "insufficient_quota", 429, "You exceeded your current quota.", times=5, retry_after=0.01
    )
    conv.add_user_message("go")
    with pytest.raises(QuotaExceeded) as info:
        await call(conv, answer=False)
    assert "billing" in info.value.message.lower() and "plan" in info.value.message
    assert "Rate limited" not in info.value.message
    assert len(transports(server)) == 1  # not retried


@pytest.mark.parametrize("mode", ["websocket", "http"])
@pytest.mark.parametrize(("code", "status"), [("rate_limit_exceeded", 429), ("server_error", 503)])
async def test_429_and_5xx_wait_the_servers_retry_after(make_server, closing, mode, code, status):
    server = make_server(script=script())
    conv = conversation_for(server, mode=mode)
    closing(conv)
    server.faults.error(code, status, "Busy.", retry_after=0.25)
    conv.add_user_message("go")
    notices = await call(conv, answer=False)
    assert len(notices) == 1 and "Retrying in 0.2 s" in notices[0].text
    assert conv.last_metrics.transport == mode


async def test_the_agent_tells_the_ui_once_and_each_call_says_its_transport(
    make_server, settings_for, repo
):
    from agent_support import ListApprover, collect

    from codeagent.agent.events import ModelCallCompleted, Notice, TransportState, TurnCompleted
    from codeagent.agent.loop import Agent

    server = make_server(Script([Episode([Step([text("Hello.")])])]))
    agent = Agent(settings_for(server, transport="auto"), repo, ListApprover())
    try:
        first = await collect(agent.submit("hi"))
        server.faults.max_frame_size(200)  # every later request is bigger than this
        second = await collect(agent.submit("a longer message " * 20))
        third = await collect(agent.submit("and another one " * 20))
    finally:
        await agent.close()
    events = first + second + third
    assert all(isinstance(turn[-1], TurnCompleted) for turn in (first, second, third))
    fallbacks = [e for e in events if isinstance(e, Notice) and e.category == "fallback"]
    assert len(fallbacks) == 1 and "1009" in fallbacks[0].text
    assert TransportState("http-fallback") in second
    calls = [e.metrics.transport for e in events if isinstance(e, ModelCallCompleted)]
    assert calls == ["websocket", "http", "http"]
    assert agent.status().transport == "http-fallback"


@pytest.mark.parametrize("error_event", [True, False])
async def test_a_lifetime_limit_pushed_to_an_idle_socket_costs_nothing_but_a_new_socket(
    make_server, closing, error_event
):
    import asyncio

    server = make_server(script=script())
    conv = conversation_for(server, mode="websocket")
    closing(conv)
    conv.add_user_message("go")
    await call(conv, answer=False)
    server.faults.connection_limit(error_event=error_event, push_to_idle=True)
    server.set_max_connection_age(0.2)
    for _ in range(100):  # the server closes the idle socket at its limit
        if conv.transport.connection_id == 0:
            break
        await asyncio.sleep(0.05)
    assert conv.transport.connection_id == 0
    assert await call(conv) == []  # not even a silent retry: the next call opens a new socket
    assert conv.transport.connections_opened == 2
    assert conv.last_metrics.recoveries == ()


async def test_status_counts_the_calls_of_each_transport_and_the_return_time(
    make_server, settings_for, repo
):
    from agent_support import ListApprover, collect

    from codeagent.agent.loop import Agent
    from codeagent.agent.status import transport_line

    server = make_server(Script([Episode([Step([text("Hello.")])])]))
    agent = Agent(settings_for(server, transport="auto"), repo, ListApprover())
    try:
        await collect(agent.submit("hi"))
        server.faults.reject_websocket(426, times=None)
        server.faults.drop_mid_stream(after_events=1, times=3)
        await collect(agent.submit("again"))
        status = agent.status()
    finally:
        await agent.close()
    assert status.calls_by_transport == (("websocket", 1), ("http", 1))
    assert status.websocket_retry_in is not None and 0 < status.websocket_retry_in <= 60
    line = transport_line(status)
    assert line.startswith("1 over WebSocket, 1 over HTTP; WebSocket is tried again in 1 min")
