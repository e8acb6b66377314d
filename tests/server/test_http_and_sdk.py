"""HTTP/SSE transport and the official ``openai`` SDK as an independent client."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from httpx_sse import connect_sse
from srv_client import MODEL, user


def sse_events(server, body, **kwargs):
    with (
        httpx.Client(timeout=10) as client,
        connect_sse(client, "POST", server.base_url + "/responses", json=body, **kwargs) as src,
    ):
        assert src.response.status_code == 200
        assert src.response.headers["content-type"].startswith("text/event-stream")
        return [(e.event, json.loads(e.data)) for e in src.iter_sse()]


def test_sse_frames_the_same_events_with_event_names(responses_server):
    events = sse_events(responses_server, {"model": MODEL, "input": "over http", "stream": True})
    assert all(name == data["type"] for name, data in events)
    types = [name for name, _ in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "response.output_text.delta" in types
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    final = events[-1][1]["response"]
    assert final["output"][0]["content"][0]["text"] == "You said: over http"
    frame = responses_server.record[-1]
    assert frame.transport == "http" and frame.payload["input"] == "over http"


def test_http_without_stream_returns_the_whole_response(responses_server):
    r = httpx.post(responses_server.base_url + "/responses", json={"model": MODEL, "input": "hi"})
    assert r.status_code == 200
    assert r.json()["status"] == "completed"
    assert r.json()["output"][0]["content"][0]["text"] == "You said: hi"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ("{nope", "invalid_json", None),
        (json.dumps({"input": "x"}), "missing_required_parameter", "model"),
        (json.dumps({"model": MODEL, "input": 3}), "invalid_type", "input"),
    ],
)
def test_http_bad_input_gets_the_flat_error_shape(responses_server, body, code, param):
    r = httpx.post(
        responses_server.base_url + "/responses",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["code"] == code and error["param"] == param
    assert error["type"] == "invalid_request_error"
    # The server is fine afterwards.
    ok = httpx.post(responses_server.base_url + "/responses", json={"model": MODEL, "input": "ok"})
    assert ok.status_code == 200


def test_http_cannot_continue_a_store_false_response(responses_server):
    url = responses_server.base_url + "/responses"
    first = httpx.post(url, json={"model": MODEL, "input": "a", "store": False}).json()
    r = httpx.post(url, json={"model": MODEL, "input": "b", "previous_response_id": first["id"]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "previous_response_not_found"
    assert r.json()["error"]["param"] == "previous_response_id"


def test_http_continues_a_store_true_response(responses_server):
    url = responses_server.base_url + "/responses"
    first = httpx.post(url, json={"model": MODEL, "input": "a", "store": True}).json()
    second = httpx.post(
        url, json={"model": MODEL, "input": "b", "store": True, "previous_response_id": first["id"]}
    ).json()
    assert second["previous_response_id"] == first["id"]
    assert second["usage"]["input_tokens_details"]["cached_tokens"] > 0


def test_openai_sdk_websocket_multi_turn_store_false_chain(responses_server):
    client = openai.OpenAI(base_url=responses_server.base_url, api_key="sk-test")
    with client.responses.connect() as conn:
        previous = None
        for word in ("alpha", "beta", "gamma"):
            fields = {"model": MODEL, "store": False, "input": [user(word)]}
            if previous:
                fields["previous_response_id"] = previous
            conn.response.create(**fields)
            types = []
            for event in conn:
                types.append(event.type)
                if event.type == "response.completed":
                    response = event.response
                    break
                assert event.type != "error", event
            assert types[0] == "response.created"
            assert response.output_text == f"You said: {word}"
            assert response.usage.total_tokens > 0
            previous = response.id
    # Each continuation sent only its new item.
    frames = [f.payload for f in responses_server.record]
    assert [len(f["input"]) for f in frames] == [1, 1, 1]
    assert responses_server.connections_opened == 1


def test_openai_sdk_http_streaming(responses_server):
    client = openai.OpenAI(base_url=responses_server.base_url, api_key="sk-test")
    stream = client.responses.create(model=MODEL, input="streamed", stream=True)
    events = list(stream)
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "You said: streamed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "You said: streamed"


def test_openai_sdk_compact_round_trip(responses_server):
    client = openai.OpenAI(base_url=responses_server.base_url, api_key="sk-test")
    compacted = client.responses.compact(model=MODEL, input=[user("remember me")])
    assert compacted.output[-1].type == "compaction"


def test_openai_sdk_lane_session_routes_by_echoed_stream_id(responses_server):
    from openai.lib.responses_websocket import ResponsesWebSocketLimits, ResponsesWebSocketSession

    client = openai.OpenAI(base_url=responses_server.base_url, api_key="sk-test")
    limits = ResponsesWebSocketLimits(
        max_lanes=4,
        max_events_per_lane=1000,
        max_events=4000,
        max_bytes_per_lane=1_000_000,
        max_bytes=4_000_000,
    )
    with (
        client.responses.connect() as conn,
        ResponsesWebSocketSession(conn, limits=limits) as session,
    ):
        planner, critic = session.lane("planner"), session.lane("critic")
        planner.send({"type": "response.create", "model": MODEL, "input": "plan it"})
        critic.send({"type": "response.create", "model": MODEL, "input": "critique it"})
        assert critic.get_final_response(timeout=10).output_text == "You said: critique it"
        first = planner.get_final_response(timeout=10)
        assert first.output_text == "You said: plan it"
        planner.send(
            {
                "type": "response.create",
                "model": MODEL,
                "input": "more",
                "previous_response_id": first.id,
            }
        )
        assert planner.get_final_response(timeout=10).previous_response_id == first.id
    lanes = [f.payload.get("stream_id") for f in responses_server.record]
    assert lanes == ["planner", "critic", "planner"]
