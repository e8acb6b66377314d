"""WebSocket mode over a real loopback socket: event order, chaining, bad input."""

from __future__ import annotations

import json

from srv_client import MODEL, completed, connect, create, recv_turn, text_of, turn, user

from codeagent.server import script as s


def tool_script() -> s.Script:
    return s.Script(
        [
            s.Episode(
                [
                    s.Step(
                        [
                            s.reasoning("Look at the files first."),
                            s.text("Listing files."),
                            s.shell(["ls"], timeout_ms=5000),
                        ]
                    ),
                    s.Step([s.update_plan([("Fix bug", "in_progress")], "plan")]),
                    s.Step([s.apply_patch("update_file", "a.py", "@@\n-a\n+b\n")]),
                    s.Step([s.text("All fixed.")]),
                ],
                match="fix",
            )
        ],
        default_reply="Nothing to do.",
    )


async def test_text_turn_events_arrive_in_real_order(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(ws, input="hello there", stream=True, client_metadata={"a": "b"})
    types = [e["type"] for e in events]
    assert types[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["response"]["output"] == [] and events[0]["response"]["usage"] is None
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    response = completed(events)
    assert deltas == text_of(response) == "You said: hello there"
    usage = response["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert all("stream_id" not in e for e in events)


async def test_completed_output_matches_item_done_events(make_server):
    server = make_server(tool_script())
    async with connect(server) as ws:
        events = await turn(ws, input="please fix the bug")
    done_items = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    response = completed(events)
    assert response["output"] == done_items
    assert [i["type"] for i in done_items] == ["reasoning", "message", "shell_call"]
    assert done_items[0]["summary"] == [
        {"type": "summary_text", "text": "Look at the files first."}
    ]
    assert done_items[2]["action"] == {"commands": ["ls"], "timeout_ms": 5000}
    summary = "".join(
        e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta"
    )
    assert summary == "Look at the files first."
    assert "encrypted_content" not in done_items[0]


async def test_store_false_chain_with_only_new_items_plays_the_next_steps(make_server):
    server = make_server(tool_script())
    async with connect(server) as ws:
        first = completed(await turn(ws, input="fix it", store=False))
        shell_call = first["output"][-1]
        out = {"type": "shell_call_output", "call_id": shell_call["call_id"], "output": []}
        second = completed(
            await turn(ws, input=[out], previous_response_id=first["id"], store=False)
        )
        plan = second["output"][0]
        assert plan["type"] == "function_call" and plan["name"] == "update_plan"
        assert json.loads(plan["arguments"])["plan"] == [
            {"step": "Fix bug", "status": "in_progress"}
        ]
        assert second["previous_response_id"] == first["id"]
        out2 = {"type": "function_call_output", "call_id": plan["call_id"], "output": "ok"}
        third = completed(await turn(ws, input=[out2], previous_response_id=second["id"]))
        patch = third["output"][0]
        assert patch["type"] == "apply_patch_call"
        assert patch["operation"] == {"type": "update_file", "path": "a.py", "diff": "@@\n-a\n+b\n"}
        # The cached prefix is reported as cached input tokens.
        assert (
            0
            < third["usage"]["input_tokens_details"]["cached_tokens"]
            < third["usage"]["input_tokens"]
        )


async def test_full_resend_replays_the_same_step(make_server):
    """The step comes from the conversation, not a counter: resending the same history on a new
    connection gives the same kind of response."""
    server = make_server(tool_script())
    async with connect(server) as ws:
        first = completed(await turn(ws, input="fix it"))
    history = [user("fix it"), *first["output"]]
    call = first["output"][-1]["call_id"]
    history.append({"type": "shell_call_output", "call_id": call, "output": []})
    for _ in range(2):
        async with connect(server) as ws:
            again = completed(await turn(ws, input=history))
        assert again["output"][0]["name"] == "update_plan"


async def test_unmatched_message_gets_default_reply_and_steps_run_out(make_server):
    server = make_server(tool_script())
    async with connect(server) as ws:
        assert text_of(completed(await turn(ws, input="hello"))) == "Nothing to do."


async def test_bad_frames_get_clear_errors_and_the_connection_stays_usable(responses_server):
    cases = [
        ("{not json", "invalid_json", None),
        (json.dumps([1, 2]), "invalid_json", None),
        (json.dumps({"model": MODEL}), "missing_required_parameter", "type"),
        (json.dumps({"type": "response.cancel"}), "unknown_event_type", "type"),
        (
            json.dumps({"type": "response.create", "input": "x"}),
            "missing_required_parameter",
            "model",
        ),
        (create(input=42), "invalid_type", "input"),
        (create(input=[1]), "invalid_type", "input[0]"),
        (create(input="x", store="yes"), "invalid_type", "store"),
        (create(input="x", background=True), "unsupported_parameter", "background"),
        (create(input="x", stream_id=""), "invalid_stream_id", "stream_id"),
        (create(input="x", stream_id="bad id!"), "invalid_stream_id", "stream_id"),
    ]
    async with connect(responses_server) as ws:
        for frame, code, param in cases:
            await ws.send(frame)
            event = json.loads(await ws.recv())
            assert event["type"] == "error", frame
            assert event["status"] == 400
            assert event["error"]["code"] == code, (frame, event)
            assert event["error"]["param"] == param
            assert event["error"]["message"]
        await ws.send(b"\x00binary")
        event = json.loads(await ws.recv())
        assert event["error"]["code"] == "invalid_json"
        assert "Binary" in event["error"]["message"]
        # Still usable afterwards.
        assert text_of(completed(await turn(ws, input="still there?"))) == "You said: still there?"


async def test_background_error_message_is_clear(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(ws, input="x", background=True)
    assert "Background responses are not supported" in events[-1]["error"]["message"]


async def test_record_and_timeline(responses_server):
    async with connect(responses_server) as ws:
        frame = create(input="one")
        response = completed(await turn(ws, input="one"))
        await ws.send("garbage")
        await recv_turn(ws)
    frames = responses_server.record
    assert [f.transport for f in frames] == ["ws", "ws"]
    assert frames[0].payload["input"] == "one"
    assert frames[0].nbytes == len(frame.encode())
    assert frames[1].payload == {} and frames[1].nbytes == len(b"garbage")
    assert frames[0].conn_id == frames[1].conn_id
    kinds = [(t.kind, t.response_id) for t in responses_server.timeline]
    assert kinds == [
        ("create_received", None),
        ("created_sent", response["id"]),
        ("first_delta_sent", response["id"]),
        ("completed_sent", response["id"]),
    ]
    times = [t.at for t in responses_server.timeline]
    assert times == sorted(times)
    assert responses_server.connections_opened == 1


async def test_easy_input_message_and_unknown_fields_are_accepted(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(
            ws,
            input=[{"role": "user", "content": "plain"}],
            prompt_cache_key="k",
            tools=[{"type": "custom", "name": "x"}],
            include=["reasoning.encrypted_content"],
        )
    assert text_of(completed(events)) == "You said: plain"
