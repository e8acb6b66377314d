"""The transport against the local server over loopback: streaming, typed errors, malformed
frames, fallback to HTTP, lanes, and the API key staying out of every message."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.errors import (
    AuthenticationError,
    RateLimited,
    StreamCorrupted,
    WebSocketUnavailable,
)
from codeagent.responses.events import ResponseCompleted, UnknownEvent
from codeagent.responses.transport import Transport
from codeagent.responses.websocket import websocket_url

SECRET = "sk-secret-do-not-leak-123"


def body(text: str = "hello", **extra) -> dict:
    return {
        "model": DEFAULT_MODEL,
        "store": False,
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        ],
        **extra,
    }


async def collect(transport: Transport, request: dict) -> list:
    return [event async for event in transport.stream(request)]


def test_websocket_url_swaps_the_scheme_and_keeps_the_query():
    assert websocket_url("https://api.openai.com/v1") == "wss://api.openai.com/v1/responses"
    assert websocket_url("http://127.0.0.1:8080/v1/?x=1") == "ws://127.0.0.1:8080/v1/responses?x=1"
    with pytest.raises(ValueError, match="http:// or https://"):
        websocket_url("ftp://example.com")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="auto, websocket or http"):
        Transport("http://127.0.0.1:9/v1", None, mode="carrier-pigeon")


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_one_response_streams_to_its_terminal_event(responses_server, mode):
    transport = Transport(responses_server.base_url, "sk-test", mode=mode)
    try:
        events = await collect(transport, body("ping"))
        events2 = await collect(transport, body("pong"))
    finally:
        await transport.close()
    assert events[0].type == "response.created"
    assert isinstance(events[-1], ResponseCompleted)
    assert "ping" in json.dumps(events[-1].response.output)
    assert isinstance(events2[-1], ResponseCompleted)
    frames = responses_server.record
    assert [f.transport for f in frames] == (
        ["ws", "ws"] if mode == "websocket" else ["http", "http"]
    )
    assert transport.last_bytes_sent == frames[-1].nbytes
    if mode == "websocket":
        assert frames[0].conn_id == frames[1].conn_id  # one persistent socket


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_wrong_key_is_an_authentication_error_that_never_shows_the_key(make_server, mode):
    server = make_server(api_key="sk-the-right-one")
    transport = Transport(server.base_url, SECRET, mode=mode)
    try:
        with pytest.raises(AuthenticationError) as info:
            await collect(transport, body())
    finally:
        await transport.close()
    assert "OPENAI_API_KEY" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in repr(transport)


async def test_the_right_key_is_sent_as_bearer(make_server):
    server = make_server(api_key="sk-the-right-one")
    transport = Transport(
        server.base_url,
        "sk-the-right-one",
        mode="websocket",
        beta_header="responses_websockets=2026-02-06",
    )
    try:
        events = await collect(transport, body())
    finally:
        await transport.close()
    assert isinstance(events[-1], ResponseCompleted)


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_a_non_json_frame_mid_stream_is_a_corrupt_stream_in_plain_words(
    responses_server, mode
):
    transport = Transport(responses_server.base_url, "sk-test", mode=mode)
    try:
        responses_server.faults.malformed_frame(at_event=2, text="<html>502 Bad Gateway</html>")
        with pytest.raises(StreamCorrupted, match="not a JSON event") as info:
            await collect(transport, body())
        assert "<html>502" in info.value.message  # the user sees what arrived
        # The transport recovers: the next request works (on a fresh socket for WebSocket).
        events = await collect(transport, body("again"))
    finally:
        await transport.close()
    assert isinstance(events[-1], ResponseCompleted)
    if mode == "websocket":
        assert transport.connections_opened == 2


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_known_event_missing_a_field_is_skipped_and_logged(responses_server, mode, caplog):
    caplog.set_level(logging.INFO, logger="codeagent.responses")
    transport = Transport(responses_server.base_url, "sk-test", mode=mode)
    try:
        responses_server.faults.send_raw(json.dumps({"type": "response.output_text.delta"}))
        events = await collect(transport, body())
        again = await collect(transport, body("again"))
    finally:
        await transport.close()
    assert isinstance(events[-1], ResponseCompleted) and isinstance(again[-1], ResponseCompleted)
    assert "response.output_text.delta" in caplog.text and "delta" in caplog.text
    if mode == "websocket":
        assert transport.connections_opened == 1  # not fatal to the socket


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_unknown_event_types_are_passed_through(responses_server, mode):
    transport = Transport(responses_server.base_url, "sk-test", mode=mode)
    raw = {"type": "response.future_feature", "payload": {"x": 1}}
    try:
        responses_server.faults.send_raw(json.dumps(raw))
        events = await collect(transport, body())
    finally:
        await transport.close()
    unknown = [e for e in events if isinstance(e, UnknownEvent)]
    assert len(unknown) == 1 and unknown[0].model_extra["payload"] == {"x": 1}
    assert isinstance(events[-1], ResponseCompleted)


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_rate_limit_error_carries_the_retry_delay(responses_server, mode):
    transport = Transport(responses_server.base_url, "sk-test", mode=mode)
    try:
        responses_server.faults.error("rate_limit_exceeded", 429, "Slow down.", retry_after=1.5)
        with pytest.raises(RateLimited) as info:
            await collect(transport, body())
    finally:
        await transport.close()
    assert info.value.retry_after == 1.5


async def test_auto_falls_back_to_http_after_426_for_the_rest_of_the_session(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="auto")
    responses_server.faults.reject_websocket(426, times=1)
    try:
        await transport.ensure_fresh()
        assert transport.fell_back and transport.active == "http"
        assert "426" in transport.fallback_reason
        first = await collect(transport, body())
        second = await collect(transport, body("still http"))
    finally:
        await transport.close()
    assert isinstance(first[-1], ResponseCompleted) and isinstance(second[-1], ResponseCompleted)
    assert [f.transport for f in responses_server.record] == ["http", "http"]


async def test_auto_falls_back_after_repeated_handshake_failures(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="auto")
    responses_server.faults.reject_websocket(503, times=None)
    try:
        events = await collect(transport, body())
    finally:
        await transport.close()
        responses_server.faults.clear()
    assert transport.fell_back and "handshakes failed" in transport.fallback_reason
    assert isinstance(events[-1], ResponseCompleted)


async def test_websocket_mode_does_not_fall_back(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="websocket")
    responses_server.faults.reject_websocket(426, times=1)
    try:
        with pytest.raises(WebSocketUnavailable, match="426"):
            await collect(transport, body())
    finally:
        await transport.close()
    assert not transport.fell_back
    assert responses_server.record == []


async def test_lanes_run_concurrently_on_one_socket(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="websocket")
    try:
        await transport.ensure_fresh()
        a, b = await asyncio.gather(
            collect(transport, body("alpha", stream_id="a")),
            collect(transport, body("beta", stream_id="b")),
        )
    finally:
        await transport.close()
    assert "alpha" in json.dumps(a[-1].response.output) and all(e.stream_id == "a" for e in a)
    assert "beta" in json.dumps(b[-1].response.output) and all(e.stream_id == "b" for e in b)
    assert transport.connections_opened == 1


async def test_ensure_fresh_rotates_an_old_connection(responses_server):
    transport = Transport(
        responses_server.base_url,
        "sk-test",
        mode="websocket",
        max_connection_age=10,
        rotate_margin=0,
    )
    try:
        await transport.ensure_fresh()
        first = transport.connection_id
        await transport.ensure_fresh()
        assert transport.connection_id == first  # young: kept
        transport.rotate_margin = 10  # now every connection counts as due
        await transport.ensure_fresh()
        assert transport.connection_id != first and transport.connection_id != 0
        assert transport.connections_opened == 2
    finally:
        await transport.close()


async def test_connection_negotiates_compression_and_accepts_frames_over_1_mib(make_server):
    from codeagent.responses.websocket import WebSocketConnection
    from codeagent.server.script import Episode, Script, Step, apply_patch

    # ~1.5 MB in one item; apply_patch_call items travel whole (no deltas), so the done and
    # completed frames are each above the websockets default max_size of 1 MiB.
    big = "+" + "x" * 99 + "\n"
    big = big * 15_000
    server = make_server(
        script=Script([Episode([Step([apply_patch("create_file", "big.txt", big)])])])
    )
    connection = await WebSocketConnection.open(server.base_url, "sk-test", connection_id=1)
    try:
        assert "permessage-deflate" in connection.extensions
        frame = json.dumps({"type": "response.create", **body()})
        events = [e async for e in connection.stream(frame, idle_timeout=30)]
    finally:
        await connection.close()
    assert isinstance(events[-1], ResponseCompleted)
    assert len(json.dumps(events[-1].response.output)) > len(big)


async def test_one_lane_runs_one_response_at_a_time_in_order(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="websocket")
    order: list[str] = []

    async def run(text: str) -> None:
        async for event in transport.stream(body(text, stream_id="lane")):
            order.append(text if event.type != "response.completed" else f"{text}:end")

    try:
        await transport.ensure_fresh()
        await asyncio.gather(run("first"), run("second"))
    finally:
        await transport.close()
    end_first = order.index("first:end")
    assert set(order[: end_first + 1]) == {"first", "first:end"}
    assert order[-1] == "second:end"


async def test_debug_logging_of_the_handshake_never_shows_the_key(make_server, caplog):
    server = make_server(api_key=SECRET)
    caplog.set_level(logging.DEBUG)
    transport = Transport(server.base_url, SECRET, mode="websocket")
    try:
        events = await collect(transport, body())
    finally:
        await transport.close()
    assert isinstance(events[-1], ResponseCompleted)
    assert "Authorization" in caplog.text  # the headers were logged...
    assert SECRET not in caplog.text  # ...without the key


async def test_no_server_is_a_clear_error_in_each_mode(make_server):
    from codeagent.responses.errors import ConnectionClosed, HandshakeFailed

    server = make_server()
    base_url = server.base_url
    server.stop()  # nothing listens on that port any more
    ws_only = Transport(base_url, "sk-test", mode="websocket", connect_timeout=2)
    auto = Transport(base_url, "sk-test", mode="auto", connect_timeout=2)
    try:
        with pytest.raises(HandshakeFailed, match="Could not open a WebSocket"):
            await collect(ws_only, body())
        with pytest.raises(ConnectionClosed, match="HTTP connection failed"):
            await collect(auto, body())
        assert auto.fell_back and "handshakes failed" in auto.fallback_reason
    finally:
        await ws_only.close()
        await auto.close()


async def test_stopping_at_the_terminal_event_keeps_the_socket(responses_server):
    transport = Transport(responses_server.base_url, "sk-test", mode="websocket")
    try:
        for text in ("one", "two"):
            events = transport.stream(body(text))
            async for event in events:
                if event.is_terminal:
                    break
            await events.aclose()
    finally:
        await transport.close()
    assert transport.connections_opened == 1
