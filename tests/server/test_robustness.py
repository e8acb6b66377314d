"""The server survives clients that vanish, huge frames and being stopped mid-stream."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn, user
from websockets.exceptions import ConnectionClosed


async def test_client_vanishing_mid_stream_does_not_hurt_other_connections(responses_server):
    responses_server.faults.stall(after_events=1, seconds=0.5)
    async with connect(responses_server) as ws:
        await ws.send(create(input="bye"))
        assert json.loads(await ws.recv())["type"] == "response.created"
    # The abandoned response finishes sending into a closed socket; nothing breaks.
    await asyncio.sleep(0.6)
    async with connect(responses_server) as ws:
        assert text_of(completed(await turn(ws, input="next"))) == "You said: next"


def test_http_client_vanishing_mid_stream(responses_server):
    responses_server.faults.stall(after_events=1, seconds=0.5)
    url = responses_server.base_url + "/responses"
    with httpx.stream("POST", url, json={"model": MODEL, "input": "x", "stream": True}) as r:
        next(r.iter_lines())
    assert httpx.post(url, json={"model": MODEL, "input": "y"}).json()["status"] == "completed"


async def test_large_frames_are_accepted(responses_server):
    big = "x" * 200_000
    async with connect(responses_server, compression=None) as ws:
        response = completed(await turn(ws, input=[user("start " + big), user("short")]))
    assert text_of(response) == "You said: short"
    assert responses_server.record[-1].nbytes > 200_000
    assert response["usage"]["input_tokens"] > 50_000


async def test_stop_closes_open_connections_mid_stream(make_server):
    server = make_server()
    server.faults.stall(after_events=1, seconds=30)
    async with connect(server) as ws:
        await ws.send(create(input="x"))
        assert json.loads(await ws.recv())["type"] == "response.created"
        await asyncio.to_thread(server.stop)
        with pytest.raises(ConnectionClosed):
            await recv_turn(ws)


async def test_queued_requests_survive_errors_in_the_same_lane(responses_server):
    async with connect(responses_server) as ws:
        await ws.send(create(input="a", stream_id="s"))
        await ws.send(create(input="b", stream_id="s", previous_response_id="resp_missing"))
        await ws.send(create(input="c", stream_id="s"))
        first = await recv_turn(ws, "s")
        second = await recv_turn(ws, "s")
        third = await recv_turn(ws, "s")
    assert text_of(completed(first)) == "You said: a"
    assert second[-1]["error"]["code"] == "previous_response_not_found"
    assert text_of(completed(third)) == "You said: c"


class FlakyBackend:
    """A backend that fails on a magic word (stands in for a bug or an upstream failure)."""

    async def respond(self, request):
        from codeagent.server.items import last_user_text
        from codeagent.server.script import Step, text

        said = last_user_text(request.items)
        if said == "explode":
            raise ValueError("backend blew up")
        return Step([text(f"backend saw {len(request.items)} items")])


async def test_a_failing_backend_gives_server_error_and_the_connection_survives(make_server):
    server = make_server(backend=FlakyBackend())
    async with connect(server) as ws:
        event = (await turn(ws, input="explode"))[-1]
        assert event["status"] == 500 and event["error"]["code"] == "server_error"
        assert "backend blew up" in event["error"]["message"]
        assert text_of(completed(await turn(ws, input="fine"))) == "backend saw 1 items"
    r = httpx.post(server.base_url + "/responses", json={"model": MODEL, "input": "explode"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"


async def test_server_side_sockets_send_without_nagle_delay(responses_server):
    """Events are small frames sent in bursts; without TCP_NODELAY the second one waited for the
    client's delayed ACK."""
    import socket

    from codeagent.server.transport_abort import SCOPE_KEY

    async with connect(responses_server) as ws:
        completed(await turn(ws, input="x"))
        (connection,) = responses_server.state.open_connections()
        sock = connection.ws.scope[SCOPE_KEY].get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_starting_on_a_busy_port_raises_and_leaves_nothing_running(make_server):
    from codeagent.server.embedded import EmbeddedServer

    busy = make_server()
    with pytest.raises(OSError):
        EmbeddedServer(port=busy.port).start()
    assert (
        httpx.post(busy.base_url + "/responses", json={"model": MODEL, "input": "x"}).status_code
        == 200
    )
