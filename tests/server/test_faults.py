"""Fault injection, seen from the client's side of a real socket."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn
from websockets.exceptions import ConnectionClosedError, InvalidStatus


async def test_drop_mid_stream_cuts_without_close_frame_then_disarms(responses_server):
    responses_server.faults.drop_mid_stream(after_events=3)
    async with connect(responses_server) as ws:
        await ws.send(create(input="x"))
        received = []
        with pytest.raises(ConnectionClosedError) as info:
            while True:
                received.append(json.loads(await ws.recv()))
        assert info.value.rcvd is None  # abrupt: no close frame from the server
        assert [e["type"] for e in received] == [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
        ]
    async with connect(responses_server) as ws:
        assert text_of(completed(await turn(ws, input="again"))) == "You said: again"


def test_drop_mid_stream_cuts_the_http_stream(responses_server):
    responses_server.faults.drop_mid_stream(after_events=2)
    url = responses_server.base_url + "/responses"
    lines = []
    with (
        pytest.raises(httpx.HTTPError),
        httpx.stream("POST", url, json={"model": MODEL, "input": "x", "stream": True}) as r,
    ):
        for line in r.iter_lines():
            lines.append(line)
    assert not any("response.completed" in line for line in lines)
    assert httpx.post(url, json={"model": MODEL, "input": "y"}).status_code == 200


async def test_reject_websocket_answers_the_handshake_with_a_status(responses_server):
    responses_server.faults.reject_websocket(426, times=1)
    with pytest.raises(InvalidStatus) as info:
        async with connect(responses_server):
            pass
    assert info.value.response.status_code == 426
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="ok"))


async def test_reject_websocket_for_ever_until_cleared(responses_server):
    responses_server.faults.reject_websocket(403)
    for _ in range(3):
        with pytest.raises(InvalidStatus):
            async with connect(responses_server):
                pass
    # HTTP still works while WebSocket is refused.
    r = httpx.post(responses_server.base_url + "/responses", json={"model": MODEL, "input": "x"})
    assert r.status_code == 200
    responses_server.faults.clear()
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="ok"))


async def test_error_fault_sends_an_error_event_with_retry_after(responses_server):
    responses_server.faults.error("rate_limit_exceeded", 429, "Slow down", retry_after=2)
    async with connect(responses_server) as ws:
        events = await turn(ws, input="x")
        assert events == [
            {
                "type": "error",
                "status": 429,
                "error": {
                    "type": "rate_limit_error",
                    "code": "rate_limit_exceeded",
                    "message": "Slow down",
                    "param": None,
                    "headers": {"retry-after": "2"},
                },
            }
        ]
        completed(await turn(ws, input="after"))


def test_error_fault_over_http_uses_status_and_header(responses_server):
    responses_server.faults.error("server_error", 500, times=2, retry_after=1.5)
    url = responses_server.base_url + "/responses"
    for _ in range(2):
        r = httpx.post(url, json={"model": MODEL, "input": "x", "stream": True})
        assert r.status_code == 500
        assert r.headers["retry-after"] == "1.5"
        assert r.json()["error"]["code"] == "server_error"
        assert r.json()["error"]["type"] == "server_error"
    assert httpx.post(url, json={"model": MODEL, "input": "x"}).status_code == 200


async def test_stall_pauses_mid_stream_then_finishes(responses_server):
    responses_server.faults.stall(after_events=2, seconds=1.0)
    async with connect(responses_server) as ws:
        await ws.send(create(input="x"))
        first = [json.loads(await ws.recv()) for _ in range(2)]
        assert [e["type"] for e in first] == ["response.created", "response.in_progress"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
        rest = await recv_turn(ws)
    assert rest[-1]["type"] == "response.completed"


async def test_send_raw_frames_before_the_response(responses_server):
    responses_server.faults.send_raw("{broken", times=1)
    responses_server.faults.send_raw('{"type": "response.mystery"}')
    async with connect(responses_server) as ws:
        await ws.send(create(input="x"))
        assert await ws.recv() == "{broken"
        assert json.loads(await ws.recv())["type"] == "response.created"
        await recv_turn(ws)
        await ws.send(create(input="y"))
        assert json.loads(await ws.recv()) == {"type": "response.mystery"}
        completed(await recv_turn(ws))


async def test_forget_cached_responses_and_eviction(responses_server):
    async with connect(responses_server) as ws:
        first = completed(await turn(ws, input="a"))
        responses_server.faults.forget_cached_responses()
        miss = await turn(ws, input="b", previous_response_id=first["id"])
        assert miss[-1]["error"]["code"] == "previous_response_not_found"
        # The failed continuation evicted its parent: a retry misses too.
        again = await turn(ws, input="b", previous_response_id=first["id"])
        assert again[-1]["error"]["code"] == "previous_response_not_found"
        # Full context without previous_response_id recovers.
        completed(await turn(ws, input="a b"))


async def test_clear_disarms_everything(responses_server):
    f = responses_server.faults
    f.drop_mid_stream()
    f.error("server_error", 500)
    f.stall(0, 30)
    f.send_raw("junk")
    f.forget_cached_responses()
    f.clear()
    async with connect(responses_server) as ws:
        first = completed(await turn(ws, input="a"))
        completed(await turn(ws, input="b", previous_response_id=first["id"]))


async def test_websockets_client_handshake_to_unknown_path_fails(responses_server):
    with pytest.raises(InvalidStatus):
        async with websockets.connect(responses_server.base_url.replace("http", "ws") + "/nope"):
            pass


async def test_faults_can_target_one_connection(responses_server):
    async with connect(responses_server) as first, connect(responses_server) as second:
        completed(await turn(first, input="who am i"))
        target = responses_server.record[-1].conn_id
        completed(await turn(second, input="other"))
        responses_server.faults.error("server_error", 500, conn_id=target)
        responses_server.faults.send_raw("{junk", conn_id=target)
        # The other connection is not affected ...
        events = await turn(second, input="untouched")
        assert text_of(completed(events)) == "You said: untouched"
        # ... the targeted one is.
        assert (await turn(first, input="x"))[-1]["status"] == 500
        await first.send(create(input="y"))
        assert await first.recv() == "{junk"
        completed(await recv_turn(first))
