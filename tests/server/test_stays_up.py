"""The local server stays up for everyone: a big request whose client leaves stops at once, what
the server remembers is bounded, and hostile input gets the API's error shape (issue 12)."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from srv_client import MODEL, completed, connect, create, text_of, turn, user

from codeagent.server.records import (
    MAX_BYTES_PER_CONNECTION,
    MAX_FRAMES_PER_CONNECTION,
    FrameLog,
    ReceivedFrame,
    ResponseRecord,
    ResponseStore,
)

BIG = "x" * (4 * 1024 * 1024)
#: Events the echo of BIG would take: one text delta per 12 characters.
BIG_EVENTS = len(BIG) // 12


def marks(server, kind, response_id):
    return [t for t in list(server.timeline) if t.kind == kind and t.response_id == response_id]


async def test_a_big_request_whose_client_leaves_does_not_block_others(responses_server):
    async with connect(responses_server, compression=None) as leaving:
        await leaving.send(create(input=BIG))  # echoed back: a very long response
        created = json.loads(await leaving.recv())
        assert created["type"] == "response.created"
        abandoned = created["response"]["id"]
        leaving.transport.abort()  # the client vanishes without a close frame
        with contextlib.suppress(Exception):
            await leaving.close()
    async with connect(responses_server) as other:
        assert text_of(completed(await turn(other, input="my turn"))) == "You said: my turn"
    # The abandoned response was stopped, not streamed to its end into the dead socket.
    assert marks(responses_server, "completed_sent", abandoned) == []
    (gone,) = marks(responses_server, "peer_gone", abandoned)
    assert gone.events < BIG_EVENTS // 2


def test_a_big_http_stream_whose_client_leaves_does_not_block_others(responses_server):
    url = responses_server.base_url + "/responses"
    with httpx.stream("POST", url, json={"model": MODEL, "input": BIG, "stream": True}) as r:
        first = next(line for line in r.iter_lines() if line.startswith("data: "))
    abandoned = json.loads(first[len("data: ") :])["response"]["id"]
    r = httpx.post(url, json={"model": MODEL, "input": "my turn"}, timeout=30)
    assert r.json()["status"] == "completed"
    assert marks(responses_server, "completed_sent", abandoned) == []


async def test_invalid_frames_do_not_grow_the_record_beyond_its_bound(responses_server):
    pad = "x" * 100_000
    async with connect(responses_server, compression=None) as ws:
        for _ in range(2000):
            await ws.send(json.dumps({"type": "response.bogus", "pad": pad}))
            assert json.loads(await ws.recv())["error"]["code"] == "unknown_event_type"
        record = responses_server.record
        assert sum(frame.nbytes for frame in record) <= MAX_BYTES_PER_CONNECTION
        assert len(record) <= MAX_FRAMES_PER_CONNECTION
        assert record[-1].payload["type"] == "response.bogus"  # the newest is kept whole
        assert text_of(completed(await turn(ws, input="still fine"))) == "You said: still fine"


def frame(conn_id: int, nbytes: int) -> ReceivedFrame:
    return ReceivedFrame(conn_id, "ws", nbytes, "{}", 0.0)


def test_frame_log_bounds_per_connection_and_server_wide():
    log = FrameLog(max_frames=10, max_bytes=1000, per_connection_frames=4, per_connection_bytes=300)
    for conn in range(1, 6):
        for _ in range(6):
            log.append(frame(conn, 100))
    assert log.kept_bytes <= 1000 and len(log) <= 10
    for conn in range(1, 6):
        assert log.kept_bytes_of(conn) <= 300
    assert log[-1].conn_id == 5
    log.append(frame(6, 5000))  # one frame above every bound is still kept, alone
    assert log == [log[-1]] and log[-1].nbytes == 5000
    log.clear()
    log.append(frame(7, 10))
    assert log.kept_bytes == 10


def test_frames_that_are_not_json_objects_keep_no_text(responses_server):
    responses_server.state.note_frame(1, "ws", "{not json" * 1000, {})
    assert responses_server.record[-1].raw is None
    assert responses_server.record[-1].payload == {}
    assert responses_server.record.kept_bytes == 0


def test_the_response_store_keeps_the_most_recent_responses():
    store = ResponseStore(max_records=3)
    for n in range(5):
        store.put(ResponseRecord(f"resp_{n}", None, [], True))
    store.get("resp_2")  # read: most recent now
    store.put(ResponseRecord("resp_5", None, [], True))
    assert len(store) == 3
    assert [store.get(f"resp_{n}") is not None for n in range(6)] == [
        False,
        False,
        True,
        False,
        True,
        True,
    ]


DEEP = [
    "[" * 100_000,  # Python's parser gives up (RecursionError)
    '{"a":' * 500 + "1" + "}" * 500,  # parses, but deeper than any real request
    json.dumps({"type": "response.create", "model": MODEL, "input": "x"})[:-1]
    + ', "metadata": '
    + "[" * 300
    + "]" * 300
    + "}",
]


@pytest.mark.parametrize("text", DEEP, ids=["unclosed", "deep-object", "deep-field"])
async def test_a_deeply_nested_frame_gets_an_error_and_the_connection_stays_usable(
    responses_server, text
):
    async with connect(responses_server, compression=None) as ws:
        await ws.send(text)
        event = json.loads(await ws.recv())
        assert event["type"] == "error" and event["status"] == 400
        assert event["error"]["code"] == "invalid_json"
        assert "nested" in event["error"]["message"]
        assert text_of(completed(await turn(ws, input="after"))) == "You said: after"
    r = httpx.post(responses_server.base_url + "/responses", content=text)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


# ---------------------------------------------------------------- fuzzed HTTP bodies

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
item_keys = st.sampled_from(
    ["type", "role", "content", "call_id", "id", "output", "encrypted_content", "text", "name"]
)
item_types = st.sampled_from(
    ["message", "compaction", "reasoning", "function_call", "function_call_output", "bogus"]
)
items = st.dictionaries(item_keys, values | item_types, max_size=5)
bodies = st.one_of(
    st.binary(max_size=64),
    values.map(json.dumps),
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.just(MODEL) | values,
            "input": st.lists(items, max_size=4) | values,
            "previous_response_id": values,
            "instructions": values,
            "prompt_cache_key": values,
            "tools": values,
        },
    ).map(json.dumps),
)


@pytest.fixture
def http(responses_server):
    """A keep-alive client (a new connection per example would dominate the run time)."""
    with httpx.Client(base_url=responses_server.base_url, timeout=10) as client:
        yield client


def api_answer(r: httpx.Response) -> dict:
    """The answer is JSON in the API's shape: a result, or a 4xx ``error`` object."""
    assert r.headers["content-type"].startswith("application/json"), r.text
    data = r.json()
    if r.status_code == 200:
        return data
    assert 400 <= r.status_code < 500, r.text
    error = data["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    return data


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_compact_answers_any_body_in_the_api_error_shape(http, body):
    r = http.post("/responses/compact", content=body)
    data = api_answer(r)
    if r.status_code == 200:
        assert data["object"] == "response.compaction"


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_create_answers_any_body_in_the_api_error_shape(http, body):
    r = http.post("/responses", content=body)
    data = api_answer(r)
    if r.status_code == 200:
        assert data["status"] == "completed"


def test_a_compact_round_trip_still_works(responses_server):
    body = {"model": MODEL, "input": [user("keep this")]}
    r = httpx.post(responses_server.base_url + "/responses/compact", json=body)
    assert r.status_code == 200 and r.json()["output"][-1]["type"] == "compaction"


frames = st.one_of(
    values.map(json.dumps),
    st.text(max_size=40),
    st.fixed_dictionaries(
        {"type": st.just("response.create")},
        optional={
            "model": st.just(MODEL) | values,
            "input": st.lists(items, max_size=4) | values,
            "previous_response_id": values,
            "stream_id": values,
            "generate": values,
            "reasoning": st.fixed_dictionaries({}, optional={"effort": values}) | values,
            "tools": values,
        },
    ).map(json.dumps),
)


@pytest.fixture
def ws_sync(responses_server):
    from websockets.sync.client import connect as sync_connect

    url = responses_server.base_url.replace("http", "ws", 1) + "/responses"
    with sync_connect(url, max_size=None) as ws:
        yield ws


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=frames)
def test_any_frame_gets_a_response_or_an_api_error_and_the_socket_stays_up(ws_sync, text):
    ws_sync.send(text)
    while True:  # one answer per frame: a response's events up to its end, or one error
        event = json.loads(ws_sync.recv(timeout=10))
        if event["type"] == "error":
            assert set(event) <= {"type", "status", "error", "stream_id"}
            assert 400 <= event["status"] < 500, event
            assert {"type", "code", "message", "param"} <= set(event["error"])
            assert event["error"]["message"] and "Traceback" not in event["error"]["message"]
            return
        if event["type"] == "response.completed":
            return
