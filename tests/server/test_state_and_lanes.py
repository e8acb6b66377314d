"""Connection-local cache, server-wide store, stream_id lanes, generate:false, lifetime, auth."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn
from websockets.exceptions import ConnectionClosed, InvalidStatus

from codeagent.server import script as s


def err(events):
    assert events[-1]["type"] == "error", events[-1]
    return events[-1]


async def test_unknown_previous_response_is_not_found(responses_server):
    async with connect(responses_server) as ws:
        event = err(await turn(ws, input="x", previous_response_id="resp_nope"))
    assert event["status"] == 400
    assert event["error"]["code"] == "previous_response_not_found"
    assert event["error"]["param"] == "previous_response_id"
    assert "resp_nope" in event["error"]["message"]


async def test_failed_continuation_evicts_its_parent(responses_server):
    async with connect(responses_server) as ws:
        first = completed(await turn(ws, input="a"))
        responses_server.faults.error("server_error", 500)
        assert err(await turn(ws, input="b", previous_response_id=first["id"]))["status"] == 500
        miss = err(await turn(ws, input="b", previous_response_id=first["id"]))
        assert miss["error"]["code"] == "previous_response_not_found"


async def test_only_the_latest_response_per_lane_is_cached(responses_server):
    async with connect(responses_server) as ws:
        first = completed(await turn(ws, input="a"))
        second = completed(await turn(ws, input="b", previous_response_id=first["id"]))
        old = err(await turn(ws, input="c", previous_response_id=first["id"]))
        assert old["error"]["code"] == "previous_response_not_found"
        completed(await turn(ws, input="c", previous_response_id=second["id"]))


async def test_closing_the_connection_drops_the_cache_but_not_the_store(responses_server):
    async with connect(responses_server) as ws:
        volatile = completed(await turn(ws, input="a", store=False))
    async with connect(responses_server) as ws:
        stored = completed(await turn(ws, input="b", store=True))
        assert err(await turn(ws, input="x", previous_response_id=volatile["id"]))
    async with connect(responses_server) as ws:
        again = completed(await turn(ws, input="c", previous_response_id=stored["id"]))
        assert again["previous_response_id"] == stored["id"]
    # store=true responses also continue over HTTP.
    r = httpx.post(
        responses_server.base_url + "/responses",
        json={"model": MODEL, "input": "d", "previous_response_id": stored["id"]},
    )
    assert r.status_code == 200


async def test_generate_false_gives_created_and_completed_and_is_chainable(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(ws, input="warm up", generate=False, tools=[])
        assert [e["type"] for e in events] == ["response.created", "response.completed"]
        warm = completed(events)
        assert warm["output"] == []
        real = completed(await turn(ws, input=[], previous_response_id=warm["id"]))
    assert text_of(real) == "You said: warm up"
    assert real["usage"]["input_tokens_details"]["cached_tokens"] > 0


async def test_stream_id_is_echoed_and_lanes_are_separate(responses_server):
    async with connect(responses_server) as ws:
        await ws.send(create(input="one", stream_id="a"))
        await ws.send(create(input="two", stream_id="b.2"))
        events = []
        done = set()
        while len(done) < 2:
            event = json.loads(await ws.recv())
            events.append(event)
            if event["type"] == "response.completed":
                done.add(event["stream_id"])
        assert {e["stream_id"] for e in events} == {"a", "b.2"}
        by_lane = {lane: [e for e in events if e["stream_id"] == lane] for lane in ("a", "b.2")}
        assert text_of(by_lane["a"][-1]["response"]) == "You said: one"
        assert text_of(by_lane["b.2"][-1]["response"]) == "You said: two"
        # A lane's errors echo its stream_id too.
        event = err(await turn(ws, input="x", stream_id="a", previous_response_id="resp_x"))
        assert event["stream_id"] == "a"
        # A fork from another lane's latest response works.
        a_id = by_lane["a"][-1]["response"]["id"]
        fork = completed(await turn(ws, input="fork", stream_id="c", previous_response_id=a_id))
        assert fork["previous_response_id"] == a_id


async def test_same_lane_is_fifo(responses_server):
    async with connect(responses_server) as ws:
        await ws.send(create(input="first", stream_id="x"))
        await ws.send(create(input="second", stream_id="x"))
        first = await recv_turn(ws, "x")
        second = await recv_turn(ws, "x")
    assert text_of(completed(first)) == "You said: first"
    assert text_of(completed(second)) == "You said: second"
    assert first[0]["type"] == second[0]["type"] == "response.created"


async def test_more_than_32_named_lanes_is_refused(responses_server):
    async with connect(responses_server) as ws:
        for index in range(32):
            completed(await turn(ws, input="x", stream_id=f"lane{index}"))
        event = err(await turn(ws, input="x", stream_id="lane32"))
        assert event["error"]["code"] == "websocket_stream_limit_reached"
        assert event["stream_id"] == "lane32"
        # Existing lanes and the default lane keep working.
        completed(await turn(ws, input="x", stream_id="lane0"))
        completed(await turn(ws, input="x"))


async def test_at_most_16_responses_run_at_once(make_server):
    server = make_server(s.Script([s.Episode([s.Step([s.text("slow")], first_token_delay=1.0)])]))
    async with connect(server) as ws:
        for index in range(17):
            await ws.send(create(input="go", stream_id=f"l{index}"))
        started_before_first_completion = 0
        completions = 0
        while completions < 17:
            event = json.loads(await ws.recv())
            if event["type"] == "response.created" and completions == 0:
                started_before_first_completion += 1
            if event["type"] == "response.completed":
                completions += 1
    assert started_before_first_completion == 16


async def test_connection_lifetime_limit(responses_server):
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="young"))
        responses_server.set_max_connection_age(0.0)
        event = err(await turn(ws, input="old"))
        assert event["error"]["code"] == "websocket_connection_limit_reached"
        assert "Create a new websocket connection" in event["error"]["message"]
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    # The reconnect gets a fresh lifetime.
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="fresh"))
        # new_connections=True also shortens the life of later connections.
        responses_server.set_max_connection_age(0.0, new_connections=True)
        assert (
            err(await turn(ws, input="old"))["error"]["code"]
            == "websocket_connection_limit_reached"
        )
    async with connect(responses_server) as ws:
        event = err(await turn(ws, input="born old"))
        assert event["error"]["code"] == "websocket_connection_limit_reached"
    assert responses_server.connections_opened == 3


async def test_connection_lifetime_from_the_constructor(make_server):
    server = make_server(max_connection_age=0.0)
    async with connect(server) as ws:
        event = err(await turn(ws, input="x"))
    assert "0 seconds" in event["error"]["message"]


async def test_bearer_auth_at_the_handshake(make_server):
    server = make_server(api_key="sk-local-secret")
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic sk-local-secret"},
    ):
        with pytest.raises(InvalidStatus) as info:
            async with connect(server, additional_headers=headers):
                pass
        assert info.value.response.status_code == 401
        assert b"sk-local-secret" not in info.value.response.body
    async with connect(
        server, additional_headers={"Authorization": "Bearer sk-local-secret"}
    ) as ws:
        completed(await turn(ws, input="in"))
    url = server.base_url + "/responses"
    r = httpx.post(
        url, json={"model": MODEL, "input": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert "nope" not in r.text
    ok = httpx.post(
        url,
        json={"model": MODEL, "input": "x"},
        headers={"Authorization": "Bearer sk-local-secret"},
    )
    assert ok.status_code == 200
