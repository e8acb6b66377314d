"""``response.steer`` against the local server over a real loopback WebSocket.

Each event the server sends about steering is validated against the official SDK's models, so
the shapes are the real API's. Scripts stream slowly where a steer has to arrive mid-stream; a
steer that applies at the next output boundary cuts the pacing short, so no test waits long.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from openai.types.responses import (
    ResponseIncompleteEvent,
    ResponseSteerAcceptedEvent,
    ResponseSteerFailedEvent,
    ResponseSteerPendingEvent,
)
from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn, user

from codeagent.server import script as s
from codeagent.server.items import user_message

#: Seconds to wait for an event that should come (no test waits anywhere near this long).
RECV_BOUND = 30.0
#: A catalog model without steering (GPT-5.6 and earlier do not support it).
NO_STEERING_MODEL = "gpt-5.6-sol"
LONG = "This paragraph streams slowly so that a steer can arrive in the middle of it. " * 3
CALL_ARGS = {"cmd": "pytest -q tests/test_everything_in_this_repository.py"}
TOOLS = [
    {
        "type": "function",
        "name": "run",
        "description": "Run a command.",
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
    }
]


def steering_script() -> s.Script:
    slow = 6.0  # tokens per second: half a second per streamed chunk
    return s.Script(
        [
            # Two items: a steer during the first ends the response at the boundary.
            s.Episode(
                [s.Step([s.text(LONG), s.text("Second part.")], tokens_per_second=slow)],
                match="essay",
            ),
            # One item: a steer during it lets the response complete first.
            s.Episode([s.Step([s.text(LONG)], tokens_per_second=slow)], match="short"),
            # A client tool call streamed slowly; then a slow second call (steers stay pending).
            s.Episode(
                [
                    s.Step([s.function_call("run", CALL_ARGS)], tokens_per_second=slow),
                    s.Step([s.text("Tests pass.")]),
                ],
                match="run the tests",
            ),
            s.Episode(
                [
                    s.Step(
                        [s.function_call("run", {"cmd": "ls"}), s.function_call("run", CALL_ARGS)],
                        tokens_per_second=slow,
                    )
                ],
                match="two calls",
            ),
            # What the model answers to steering input: it quotes it.
            s.Episode([s.Step([s.echo("Steered: {user}")])], match="(?i)focus|lint|tests only"),
        ],
        default_reply="Nothing scripted.",
    )


def steer(target: str, value: Any, **extra: Any) -> str:
    return json.dumps(
        {"type": "response.steer", "previous_response_id": target, "input": value, **extra}
    )


async def recv(ws: Any) -> dict[str, Any]:
    """The next event; a generous bound turns a missing event into a failure, not a hang."""
    return json.loads(await asyncio.wait_for(ws.recv(), RECV_BOUND))


async def recv_until(ws: Any, kind: str, into: list[dict[str, Any]]) -> dict[str, Any]:
    """Events up to the first of type ``kind`` (appended to ``into``); that event."""
    while True:
        event = await recv(ws)
        into.append(event)
        if event["type"] == kind:
            return event


async def start(ws: Any, first: str, **fields: Any) -> tuple[str, list[dict[str, Any]]]:
    """Send a create and read until the first event of type ``first``; the response id."""
    await ws.send(create(**fields))
    events: list[dict[str, Any]] = []
    await recv_until(ws, first, events)
    return events[0]["response"]["id"], events


def only(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matching = [e for e in events if e["type"] == kind]
    assert len(matching) == 1, [e["type"] for e in events]
    return matching[0]


def assert_failed(event: dict[str, Any], code: str, target: str, value: Any) -> None:
    assert event["type"] == "response.steer.failed", event
    ResponseSteerFailedEvent.model_validate(event)
    assert event["error"]["code"] == code and event["error"]["type"] == "invalid_request_error"
    assert event["error"]["message"]
    assert event["steer"]["previous_response_id"] == target
    assert event["steer"]["input"] == value  # the input comes back, as sent
    assert "id" not in event["steer"]  # refused before an id was allocated


# ---------------------------------------------------------------------- accepted


async def test_a_steer_mid_stream_ends_the_response_steered_and_a_successor_takes_it(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(
            ws, "response.output_text.delta", input="write an essay", stream_id="main"
        )
        await ws.send(steer(rid, "focus on the tests"))
        end = await recv_until(ws, "response.incomplete", events)
        successor = await recv_turn(ws, "main")

    accepted = only(events, "response.steer.accepted")
    ResponseSteerAcceptedEvent.model_validate(accepted)
    assert accepted["steer"]["id"].startswith("steer_")
    assert accepted["steer"]["previous_response_id"] == rid
    assert accepted["stream_id"] == "main"  # the target's create named the lane
    # The steer is numbered in the target's stream, which stays contiguous around it.
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert all(e["stream_id"] == "main" for e in events + successor)

    # The current item is finished, the second one never starts.
    ResponseIncompleteEvent.model_validate(end)
    response = end["response"]
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "steered"}
    assert text_of(response) == LONG
    assert [e["type"] for e in events].count("response.output_item.added") == 1

    # The successor follows on its own: it continues the steered response with the steer.
    created = successor[0]
    assert created["type"] == "response.created" and created["sequence_number"] == 0
    assert created["response"]["previous_response_id"] == rid
    assert created["response"]["model"] == MODEL
    assert text_of(completed(successor)) == "Steered: focus on the tests"
    taken = server.inputs.of(created["response"]["id"])
    assert taken.automatic and taken.steer_ids == (accepted["steer"]["id"],)
    assert taken.items == [user_message("focus on the tests")]
    assert taken.previous_response_id == rid and taken.lane == "main"


async def test_the_steered_response_and_its_successor_stay_chainable(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, _ = await start(ws, "response.output_text.delta", input="write an essay")
        await ws.send(steer(rid, [{"role": "user", "content": "lint only"}]))
        events: list[dict[str, Any]] = []
        await recv_until(ws, "response.incomplete", events)
        successor = completed(await recv_turn(ws))
        assert all("stream_id" not in e for e in events)  # the default lane names none
        again = await turn(ws, input="thanks", previous_response_id=successor["id"])
        # Steering an ended response is refused now.
        await ws.send(steer(rid, "too late"))
        late = await recv(ws)
    assert text_of(successor) == "Steered: lint only"
    assert completed(again)["previous_response_id"] == successor["id"]
    assert_failed(late, "response_not_active", rid, "too late")


async def test_a_response_that_finishes_first_completes_and_the_successor_follows(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(ws, "response.output_text.delta", input="a short answer")
        await ws.send(steer(rid, "focus on brevity"))
        end = await recv_until(ws, "response.completed", events)
        successor = await recv_turn(ws)
    only(events, "response.steer.accepted")
    assert text_of(end["response"]) == LONG  # the only item finished: nothing was cut
    created = successor[0]["response"]
    assert created["previous_response_id"] == rid
    assert text_of(completed(successor)) == "Steered: focus on brevity"
    assert server.inputs.of(created["id"]).automatic


# ---------------------------------------------------------------------- pending


def call_output(call: dict[str, Any], text: str = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call["call_id"], "output": text}


async def test_a_steer_during_a_tool_call_waits_and_is_prepended_to_the_continuation(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(
            ws, "response.function_call_arguments.delta", input="run the tests", tools=TOOLS
        )
        await ws.send(steer(rid, "tests only, please"))
        done = await recv_until(ws, "response.completed", events)
        pending = await recv(ws)
        # A steer after the completion is refused: the response no longer takes input.
        await ws.send(steer(rid, "one more"))
        late = await recv(ws)
        output = call_output(done["response"]["output"][0])
        continuation = await turn(ws, input=[output], previous_response_id=rid, tools=TOOLS)

    accepted = only(events, "response.steer.accepted")
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    # The call was finished and answered for: the response completed, it was not cut.
    assert done["response"]["status"] == "completed"
    call = done["response"]["output"][0]
    assert json.loads(call["arguments"]) == CALL_ARGS
    ResponseSteerPendingEvent.model_validate(pending)
    assert pending["type"] == "response.steer.pending"
    assert pending["sequence_number"] == done["sequence_number"] + 1
    assert pending["steer"] == accepted["steer"]
    assert pending["reason"] == "waiting_for_required_input"
    assert pending["required_input"] == [
        {"type": "function_call_output", "call_id": call["call_id"], "name": "run"}
    ]
    assert_failed(late, "response_already_completed", rid, "one more")

    # The server prepended the queued steer to the client's own input; the model saw it.
    new = completed(continuation)
    assert new["previous_response_id"] == rid
    assert text_of(new) == "Steered: tests only, please"
    taken = server.inputs.of(new["id"])
    assert taken.items == [user_message("tests only, please"), output]
    assert taken.steer_ids == (accepted["steer"]["id"],) and not taken.automatic
    assert server.record[-1].payload["input"] == [output]  # the client sent only its output


async def test_several_pending_steers_are_prepended_in_submission_order(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        # After the first call the response must run to its end: the steers wait for it.
        rid, events = await start(ws, "response.output_item.done", input="two calls", tools=TOOLS)
        await ws.send(steer(rid, "tests only, please"))
        await ws.send(steer(rid, [user("and lint")]))
        done = await recv_until(ws, "response.completed", events)
        pending = [await recv(ws), await recv(ws)]
        outputs = [call_output(call) for call in done["response"]["output"]]
        continuation = completed(
            await turn(ws, input=outputs, previous_response_id=rid, tools=TOOLS)
        )
    accepted = [e for e in events if e["type"] == "response.steer.accepted"]
    assert len(accepted) == 2 and len(done["response"]["output"]) == 2
    stubs = [
        {"type": "function_call_output", "call_id": o["call_id"], "name": "run"} for o in outputs
    ]
    for event, acc in zip(pending, accepted, strict=True):
        ResponseSteerPendingEvent.model_validate(event)
        assert event["steer"] == acc["steer"] and event["required_input"] == stubs
    assert text_of(continuation) == "Steered: and lint"
    taken = server.inputs.of(continuation["id"])
    assert taken.items == [user_message("tests only, please"), user("and lint"), *outputs]
    assert taken.steer_ids == tuple(a["steer"]["id"] for a in accepted)


async def test_too_many_pending_steers_are_refused(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        # After the first call the response must run to its end: steers queue up meanwhile.
        rid, _ = await start(ws, "response.output_item.done", input="two calls", tools=TOOLS)
        for n in range(9):
            await ws.send(steer(rid, f"steer {n}"))
        answers: list[dict[str, Any]] = []
        while len(answers) < 9:
            event = await recv(ws)
            if event["type"].startswith("response.steer."):
                answers.append(event)
    assert [a["type"] for a in answers] == ["response.steer.accepted"] * 8 + [
        "response.steer.failed"
    ]
    assert len({a["steer"]["id"] for a in answers[:8]}) == 8
    assert_failed(answers[8], "too_many_pending_steers", rid, "steer 8")


async def test_a_successor_that_cannot_be_created_returns_the_steer(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(
            ws, "response.output_text.delta", input="write an essay", stream_id="main"
        )
        server.faults.error("server_error", 500)  # the next response fails: the successor
        await ws.send(steer(rid, "focus on the tests"))
        await recv_until(ws, "response.incomplete", events)
        failed = await recv(ws)
        # The steered response stays cached: the client carries the input on from it.
        retry = completed(
            await turn(ws, input="focus on the tests", previous_response_id=rid, stream_id="main")
        )
    accepted = only(events, "response.steer.accepted")
    ResponseSteerFailedEvent.model_validate(failed)
    assert failed["type"] == "response.steer.failed"  # and no error event for it
    assert failed["error"]["code"] == "successor_creation_failed"
    assert failed["steer"] == {**accepted["steer"], "input": "focus on the tests"}
    assert failed["sequence_number"] == events[-1]["sequence_number"] + 1
    assert failed["stream_id"] == "main"
    assert text_of(retry) == "Steered: focus on the tests"


async def test_a_rejected_continuation_returns_the_pending_steer(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(
            ws, "response.function_call_arguments.delta", input="run the tests", tools=TOOLS
        )
        await ws.send(steer(rid, "tests only, please"))
        await recv_until(ws, "response.steer.pending", events)
        # The continuation leaves the call unanswered: the API refuses it.
        error = (await turn(ws, input=[], previous_response_id=rid, tools=TOOLS))[-1]
        failed = await recv(ws)
    accepted = only(events, "response.steer.accepted")
    assert error["type"] == "error" and error["status"] == 400
    assert failed["error"]["code"] == "successor_creation_failed"
    assert failed["steer"] == {**accepted["steer"], "input": "tests only, please"}
    ResponseSteerFailedEvent.model_validate(failed)
    assert server.inputs[-1].response_id == rid  # nothing was created after it


# ---------------------------------------------------------------------- refused


async def test_unknown_and_finished_responses_are_refused(make_server):
    server = make_server(steering_script())
    async with connect(server) as ws:
        await ws.send(steer("resp_unknown", "hello"))
        unknown = await recv(ws)
        done = completed(await turn(ws, input="hello", stream_id="side"))
        await ws.send(steer(done["id"], "hello"))
        finished = await recv(ws)
        still_fine = completed(await turn(ws, input="hello", previous_response_id=done["id"]))
    assert_failed(unknown, "response_not_found", "resp_unknown", "hello")
    assert unknown["sequence_number"] == 0 and "stream_id" not in unknown
    assert_failed(finished, "response_already_completed", done["id"], "hello")
    assert finished["stream_id"] == "side"
    assert still_fine["previous_response_id"] == done["id"]


@pytest.mark.parametrize(
    "fields",
    [
        {"model": NO_STEERING_MODEL},
        {"context_management": [{"type": "compaction", "compact_threshold": 200_000}]},
    ],
    ids=["model-without-steering", "automatic-compaction"],
)
async def test_steering_is_not_supported_for_such_responses(make_server, fields):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(
            ws, "response.output_text.delta", input="write an essay", **fields
        )
        await ws.send(steer(rid, "focus"))
        await recv_until(ws, "response.steer.failed", events)
    refused = only(events, "response.steer.failed")
    assert_failed(refused, "steering_not_supported", rid, "focus")
    assert "response.steer.accepted" not in [e["type"] for e in events]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


BAD_INPUTS = {
    "stream-id": ({"stream_id": "main"}, "hello"),
    "extra-field": ({"model": MODEL}, "hello"),
    "empty-string": ({}, ""),
    "empty-array": ({}, []),
    "assistant-role": ({}, [{"role": "assistant", "content": "I will."}]),
    "tool-output": ({}, [{"type": "function_call_output", "call_id": "c", "output": "x"}]),
    "message-id": ({}, [{"type": "message", "role": "user", "content": "hi", "id": "msg_1"}]),
    "output-part": ({}, [{"role": "user", "content": [{"type": "output_text", "text": "x"}]}]),
    "empty-content": ({}, [{"role": "user", "content": []}]),
    "image-without-source": ({}, [{"role": "user", "content": [{"type": "input_image"}]}]),
}


@pytest.mark.parametrize("extra, value", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
async def test_malformed_steers_are_invalid_input_and_change_nothing(make_server, extra, value):
    server = make_server(steering_script())
    async with connect(server) as ws:
        rid, events = await start(ws, "response.output_text.delta", input="write an essay")
        await ws.send(steer(rid, value, **extra))
        refused = await recv_until(ws, "response.steer.failed", events)
        later = await recv(ws)
    assert refused["error"]["code"] == "invalid_input"
    assert refused["steer"] == {"previous_response_id": rid, "input": value}
    if isinstance(value, str):  # (a list is echoed as sent, which the SDK's model may refuse)
        ResponseSteerFailedEvent.model_validate(refused)
    assert "stream_id" not in refused
    # The response goes on at its pace, in one numbering with the refusal.
    assert later["type"] == "response.output_text.delta"
    numbers = [e["sequence_number"] for e in [*events, later]]
    assert numbers == list(range(len(numbers)))


async def test_a_steer_without_target_or_input_is_an_error_event(responses_server):
    async with connect(responses_server) as ws:
        await ws.send(json.dumps({"type": "response.steer", "input": "hello"}))
        no_target = await recv(ws)
        await ws.send(json.dumps({"type": "response.steer", "previous_response_id": "resp_x"}))
        no_input = await recv(ws)
        after = completed(await turn(ws, input="still here"))
    assert no_target["type"] == "error" and no_target["status"] == 400
    assert no_target["error"]["param"] == "previous_response_id"
    assert no_input["type"] == "error" and no_input["error"]["param"] == "input"
    assert text_of(after) == "You said: still here"


def test_http_has_no_steering(responses_server):
    body = {"type": "response.steer", "previous_response_id": "resp_x", "input": "hi"}
    r = httpx.post(responses_server.base_url + "/responses", json={"model": MODEL, **body})
    assert r.status_code == 400
    assert r.json()["error"]["param"] in ("type", "previous_response_id", "input")


def test_scripts_can_echo_the_last_user_message_from_a_file():
    script = s.Script.from_dict(
        {"episodes": [{"steps": [{"items": [{"type": "echo", "template": "Got: {user}"}]}]}]}
    )
    step = script.choose([user_message("hello"), user_message("change of plan")])
    assert step.items == [s.text("Got: change of plan")]
