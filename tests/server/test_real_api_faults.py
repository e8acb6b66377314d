"""Faults the real API is seen to produce, from the client's side of a real socket: 1009 for a
frame too big, a close right after the upgrade, the lifetime limit (with and without its error
event, also on idle sockets), a malformed frame mid-stream, ``response.queued``, and the
``phase`` of assistant messages."""

from __future__ import annotations

import json

import httpx
import pytest
from openai.types.responses import ResponseOutputMessage
from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn
from websockets.exceptions import ConnectionClosed

from codeagent.server import script as s
from codeagent.server.faults import MALFORMED_TEXT


async def closed_code(ws) -> tuple[int, list]:
    """Read until the server closes; the close code and the events received before."""
    events = []
    with pytest.raises(ConnectionClosed) as info:
        while True:
            events.append(json.loads(await ws.recv()))
    return info.value.rcvd.code, events


async def test_a_frame_above_the_servers_limit_closes_with_1009(make_server):
    server = make_server(max_frame_bytes=50_000)
    async with connect(server, compression=None) as ws:
        completed(await turn(ws, input="x" * 40_000))  # below: fine
        await ws.send(create(input="x" * 60_000))
        code, events = await closed_code(ws)
    assert code == 1009 and events == []
    r = httpx.post(server.base_url + "/responses", json={"model": MODEL, "input": "x" * 60_000})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    async with connect(server) as ws:  # the server itself is fine
        completed(await turn(ws, input="again"))


async def test_the_frame_limit_fault_lowers_the_limit_until_cleared(responses_server):
    responses_server.faults.max_frame_size(1000)
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="short"))
        await ws.send(create(input="y" * 2000))
        code, _ = await closed_code(ws)
    assert code == 1009
    responses_server.faults.clear()
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="y" * 2000))


async def test_close_with_a_code_right_after_the_upgrade(responses_server):
    responses_server.faults.close_after_upgrade(1008, times=2)
    for _ in range(2):
        async with connect(responses_server) as ws:
            code, events = await closed_code(ws)  # closed before the client could even send
        assert code == 1008 and events == []
    async with connect(responses_server) as ws:
        assert text_of(completed(await turn(ws, input="third time"))) == "You said: third time"


LIMIT = (
    "Responses websocket connection limit reached (60 minutes). "
    "Create a new websocket connection to continue."
)


async def test_lifetime_limit_answers_the_next_request_with_the_error_then_closes(
    responses_server,
):
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="young"))
        for connection in responses_server.state.open_connections():
            connection.opened -= 3600  # an hour old now
        await ws.send(create(input="old"))
        code, events = await closed_code(ws)
    assert code == 1000
    assert events == [
        {
            "type": "error",
            "status": 400,
            "error": {
                "type": "invalid_request_error",
                "code": "websocket_connection_limit_reached",
                "message": LIMIT,
                "param": None,
            },
        }
    ]


async def test_lifetime_limit_can_close_without_the_error_event(responses_server):
    responses_server.faults.connection_limit(error_event=False)
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="young"))
        responses_server.set_max_connection_age(0)
        await ws.send(create(input="old"))
        code, events = await closed_code(ws)
    assert code == 1000 and events == []


@pytest.mark.parametrize("error_event", [True, False])
async def test_lifetime_limit_is_pushed_to_idle_sockets(responses_server, error_event):
    responses_server.faults.connection_limit(error_event=error_event, push_to_idle=True)
    async with connect(responses_server) as ws:
        completed(await turn(ws, input="then idle"))
        responses_server.set_max_connection_age(0.1)
        code, events = await closed_code(ws)  # sends nothing: the server speaks first
    assert code == 1000
    codes = [e["error"]["code"] for e in events]
    assert codes == (["websocket_connection_limit_reached"] if error_event else [])


async def test_idle_push_waits_for_a_running_response(responses_server):
    responses_server.faults.connection_limit(push_to_idle=True)
    responses_server.faults.stall(after_events=2, seconds=0.5)
    async with connect(responses_server) as ws:
        await ws.send(create(input="long one"))
        assert json.loads(await ws.recv())["type"] == "response.created"
        responses_server.set_max_connection_age(0.05)
        assert text_of(completed(await recv_turn(ws))) == "You said: long one"
        code, events = await closed_code(ws)
    assert code == 1000 and events[0]["error"]["code"] == "websocket_connection_limit_reached"


async def test_malformed_frame_at_an_event_index(responses_server):
    responses_server.faults.malformed_frame(at_event=3)
    async with connect(responses_server) as ws:
        await ws.send(create(input="x"))
        frames = []
        while not frames or "response.completed" not in frames[-1]:
            frames.append(await ws.recv())
        assert frames[3] == MALFORMED_TEXT
        with pytest.raises(ValueError):
            json.loads(frames[3])
        types = [json.loads(f)["type"] for i, f in enumerate(frames) if i != 3]
        assert types[:3] == [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
        ]
        # One-shot: the next response is whole.
        assert text_of(completed(await turn(ws, input="y"))) == "You said: y"


def test_malformed_frame_over_sse(responses_server):
    responses_server.faults.malformed_frame(at_event=1, text="{cut")
    body = {"model": MODEL, "input": "x", "stream": True}
    r = httpx.post(responses_server.base_url + "/responses", json=body)
    data = [line[len("data: ") :] for line in r.text.splitlines() if line.startswith("data: ")]
    assert data[1] == "{cut"
    assert json.loads(data[0])["type"] == "response.created"
    assert json.loads(data[-1])["type"] == "response.completed"


async def test_a_step_fault_can_send_a_malformed_frame(make_server):
    step = s.Step([s.text("hello")], fault=s.StepFault(malformed_at_event=0))
    server = make_server(s.Script([s.Episode([step])]))
    async with connect(server) as ws:
        await ws.send(create(input="go"))
        assert await ws.recv() == MALFORMED_TEXT
        rest = await recv_turn(ws)
    assert rest[0]["type"] == "response.in_progress" and rest[-1]["type"] == "response.completed"


async def test_a_request_waiting_for_an_in_flight_slot_gets_response_queued(responses_server):
    from codeagent.server.connection import MAX_IN_FLIGHT

    responses_server.faults.stall(after_events=1, seconds=0.5, times=MAX_IN_FLIGHT)
    async with connect(responses_server) as ws:
        for lane in range(MAX_IN_FLIGHT + 1):
            await ws.send(create(input=f"lane {lane}", stream_id=f"l{lane}"))
        last = f"l{MAX_IN_FLIGHT}"
        events = await recv_turn(ws, last)
    assert events[0]["type"] == "response.queued"
    assert events[0]["response"]["status"] == "queued"
    assert events[1]["type"] == "response.created"
    assert events[0]["response"]["id"] == events[1]["response"]["id"] == completed(events)["id"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert text_of(completed(events)) == f"You said: lane {MAX_IN_FLIGHT}"


async def test_a_lone_request_is_never_queued(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(ws, input="x")
    assert "response.queued" not in [e["type"] for e in events]


async def test_assistant_messages_carry_phase(make_server):
    steps = [
        s.Step([s.text("Let me look."), s.shell_call(["ls"])]),
        s.Step([s.text("All done.")]),
        s.Step([s.text("Forced.", phase="commentary")]),
    ]
    server = make_server(s.Script([s.Episode(steps)]))
    async with connect(server) as ws:
        first = completed(await turn(ws, input="go"))
        call = first["output"][1]
        output = {"type": "shell_call_output", "call_id": call["call_id"], "output": []}
        second = completed(await turn(ws, input=[output], previous_response_id=first["id"]))
        nudge = {"type": "message", "role": "developer", "content": "more"}
        third = completed(await turn(ws, input=[nudge], previous_response_id=second["id"]))
    assert first["output"][0]["phase"] == "commentary"
    assert second["output"][0]["phase"] == "final_answer"
    assert third["output"][0]["phase"] == "commentary"
    message = ResponseOutputMessage.model_validate(second["output"][0])  # the SDK's own type
    assert message.phase == "final_answer"


@pytest.mark.parametrize("base", ["/v1/codex", "/codex"])
async def test_codex_style_paths_serve_websocket_and_http(responses_server, base):
    import websockets

    root = responses_server.base_url.removesuffix("/v1")
    ws_url = root.replace("http", "ws", 1) + f"{base}/responses"
    async with websockets.connect(ws_url) as ws:
        assert text_of(completed(await turn(ws, input="via codex"))) == "You said: via codex"
    r = httpx.post(root + f"{base}/responses", json={"model": MODEL, "input": "over http"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    body = {"model": MODEL, "input": [{"role": "user", "content": "keep"}]}
    r = httpx.post(root + f"{base}/responses/compact", json=body)
    assert r.status_code == 200 and r.json()["output"][-1]["type"] == "compaction"
    r = httpx.post(root + f"{base}/responses", json={"model": "gpt-nope", "input": "x"})
    assert r.status_code == 404  # as strict there as on /v1/responses
