"""``response.steer`` on the wire, against the local server over loopback: the frame, its typed
answers, and a stream that holds after the terminal event so the automatic successor streams on
in the same call; without the hold the stream ends where it always did."""

from __future__ import annotations

from typing import Any

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.errors import ConnectionClosed
from codeagent.responses.events import (
    OutputTextDelta,
    ResponseCreated,
    ResponseLifecycleEvent,
    ServerEvent,
    SteerAccepted,
    SteerFailed,
)
from codeagent.responses.requests import steer_frame
from codeagent.responses.transport import Transport
from codeagent.server.script import Episode, Script, Step, echo, text

LONG = " ".join(f"word{i}" for i in range(300))


def body(words: str, model: str = DEFAULT_MODEL) -> dict[str, Any]:
    return {
        "model": model,
        "store": False,
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": words}]}
        ],
    }


def script() -> Script:
    return Script(
        [
            Episode([Step([echo("Steered: {user}")])], match="Paris"),
            Episode([Step([text(LONG)], tokens_per_second=30)]),
        ]
    )


async def stream_steering(
    transport: Transport, request: dict[str, Any], *, hold: bool
) -> list[ServerEvent]:
    """Stream ``request``, steering its response at the first delta; with ``hold``, the stream
    is asked to wait for the steer's answer and successor."""
    events: list[ServerEvent] = []
    state = {"open": False, "sent": False}

    def holding() -> bool:
        return state["open"]

    async for event in transport.stream(request, hold=holding if hold else None):
        events.append(event)
        if isinstance(event, OutputTextDelta) and not state["sent"]:
            created = next(e for e in events if isinstance(e, ResponseCreated))
            state["open"] = state["sent"] = True
            await transport.steer(created.response.id, "set it in Paris")
        if isinstance(event, SteerFailed) or (
            isinstance(event, ResponseCreated) and len(response_ids(events)) > 1
        ):
            state["open"] = False  # answered: committed by the successor, or refused
    return events


def response_ids(events: list[ServerEvent]) -> list[str]:
    ids: list[str] = []
    for event in events:
        if isinstance(event, ResponseLifecycleEvent) and event.response.id not in ids:
            ids.append(event.response.id)
    return ids


def test_the_steer_frame_has_exactly_the_three_fields() -> None:
    assert steer_frame("resp_1", "Keep it short.") == (
        '{"type":"response.steer","previous_response_id":"resp_1","input":"Keep it short."}'
    )


async def test_a_held_stream_goes_on_with_the_automatic_successor(make_server) -> None:
    server = make_server(script())
    transport = Transport(server.base_url, "sk-test-steer", mode="websocket")
    try:
        events = await stream_steering(transport, body("tell me a story"), hold=True)
    finally:
        await transport.close()
    first, successor = response_ids(events)
    accepted = [e for e in events if isinstance(e, SteerAccepted)]
    assert len(accepted) == 1 and accepted[0].steer.previous_response_id == first
    terminals = [e for e in events if e.is_terminal]
    assert len(terminals) == 2 and terminals[-1].type == "response.completed"
    assert terminals[-1].response.id == successor  # the stream ended with the successor's end
    said = "".join(e.delta for e in events if isinstance(e, OutputTextDelta))
    assert said.endswith("Steered: set it in Paris")
    creates = [f for f in server.record if f.payload.get("type") == "response.create"]
    assert len(creates) == 1  # we asked for one response; the server made the second


async def test_without_a_hold_the_stream_ends_at_the_first_terminal_event(make_server) -> None:
    server = make_server(script())
    transport = Transport(server.base_url, "sk-test-steer", mode="websocket")
    try:
        events = await stream_steering(transport, body("tell me a story"), hold=False)
    finally:
        await transport.close()
    assert len(response_ids(events)) == 1 and events[-1].is_terminal


async def test_a_refusal_arrives_as_steer_failed_and_the_response_streams_on(make_server) -> None:
    server = make_server(script())
    transport = Transport(server.base_url, "sk-test-steer", mode="websocket")
    try:
        events = await stream_steering(transport, body("tell me a story", "gpt-5.6-sol"), hold=True)
    finally:
        await transport.close()
    [failed] = [e for e in events if isinstance(e, SteerFailed)]
    assert failed.error.code == "steering_not_supported"
    assert len(response_ids(events)) == 1 and events[-1].type == "response.completed"


async def test_steering_without_a_live_socket_says_so() -> None:
    transport = Transport("http://127.0.0.1:9/v1", "sk-test-steer", mode="websocket")
    try:
        await transport.steer("resp_1", "anything")
    except ConnectionClosed as exc:
        assert "No WebSocket connection" in exc.message
    else:
        raise AssertionError("steer without a socket did not fail")
    finally:
        await transport.close()
