"""The strict server rejects what the real API rejects, with the real API's error shape, over
WebSocket (an ``error`` event, the connection stays usable) and HTTP (the JSON error body)."""

from __future__ import annotations

import json

import httpx
import pytest
from srv_client import MODEL, completed, connect, turn, user

from codeagent.server import script as s

NOT_FOUND = "The model `{}` does not exist or you do not have access to it."


def post(server, body, path="/responses"):
    return httpx.post(server.base_url + path, json=body, timeout=10)


async def ws_error(server, **fields):
    """The error event a single ``response.create`` gets; the socket then still works."""
    async with connect(server) as ws:
        events = await turn(ws, **fields)
        assert len(events) == 1 and events[0]["type"] == "error", events
        completed(await turn(ws, input="still usable"))
    return events[0]


@pytest.mark.parametrize("model", ["gpt-nope", "gpt-5.1-codex", "gpt-5.2-codex"])
async def test_models_outside_the_catalog_or_shut_down_are_not_found(responses_server, model):
    event = await ws_error(responses_server, model=model, input="hi")
    assert event["status"] == 404
    assert event["error"] == {
        "type": "invalid_request_error",
        "code": "model_not_found",
        "message": NOT_FOUND.format(model),
        "param": None,
    }
    r = post(responses_server, {"model": model, "input": "hi"})
    assert r.status_code == 404 and r.json()["error"] == event["error"]
    r = post(responses_server, {"model": model, "input": "hi"}, "/responses/compact")
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


async def test_catalog_models_are_served_deprecated_ones_too(responses_server):
    async with connect(responses_server) as ws:
        for model in (MODEL, "gpt-6.2-sol", "gpt-5"):  # gpt-5 is deprecated, not shut down
            assert completed(await turn(ws, model=model, input="hi"))["model"] == model


async def test_any_model_accepts_unknown_names(make_server):
    server = make_server(any_model=True)
    async with connect(server) as ws:
        assert (
            completed(await turn(ws, model="my-own-model", input="hi"))["model"] == "my-own-model"
        )
    assert post(server, {"model": "my-own-model", "input": "hi"}).status_code == 200


@pytest.mark.parametrize("name", ["foo", "messages", "max_tokens", "reasoning_effort"])
async def test_unknown_top_level_parameters_are_rejected(responses_server, name):
    event = await ws_error(responses_server, input="hi", **{name: 1})
    assert event["status"] == 400
    assert event["error"] == {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "message": f"Unknown parameter: '{name}'.",
        "param": name,
    }
    r = post(responses_server, {"model": MODEL, "input": "hi", name: 1})
    assert r.status_code == 400 and r.json()["error"] == event["error"]


@pytest.mark.parametrize(
    ("name", "value"), [("generate", False), ("stream_id", "main"), ("type", "response.create")]
)
def test_websocket_only_parameters_are_unsupported_over_http(responses_server, name, value):
    r = post(responses_server, {"model": MODEL, "input": "hi", name: value})
    assert r.status_code == 400
    assert r.json()["error"] == {
        "type": "invalid_request_error",
        "code": "unsupported_parameter",
        "message": f"Unsupported parameter: {name}",
        "param": name,
    }


REAL_CLIENT_FIELDS = {
    "stream": True,
    "client_metadata": {"x-codex-turn-state": "abc"},
    "prompt_cache_key": "session-1",
    "include": ["reasoning.encrypted_content"],
    "context_management": [{"type": "compaction", "compact_threshold": 200_000}],
    "store": False,
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "reasoning": {"effort": "medium", "summary": "auto"},
    "text": {"verbosity": "low"},
    "instructions": "Be brief.",
    "metadata": {"k": "v"},
    "service_tier": "auto",
    "safety_identifier": "user-1",
    "max_output_tokens": 1000,
    "truncation": "disabled",
}


async def test_fields_real_clients_send_stay_accepted(responses_server):
    async with connect(responses_server) as ws:
        events = await turn(ws, input="hi", stream_id="main", **REAL_CLIENT_FIELDS)
        assert text_of_last(events) == "You said: hi"
        warm = completed(await turn(ws, input="warm", generate=False))
        assert warm["output"] == []
    r = post(responses_server, {"model": MODEL, "input": "hi", **REAL_CLIENT_FIELDS})
    assert r.status_code == 200, r.text


def text_of_last(events):
    return completed(events)["output"][0]["content"][0]["text"]


@pytest.mark.parametrize(
    ("model", "effort", "code", "message"),
    [
        (
            MODEL,
            "none",
            "unsupported_value",
            "Unsupported value: 'reasoning.effort' does not support 'none' with this model. "
            "Supported values are: 'low', 'medium', 'high', 'xhigh', 'max', and 'ultra'.",
        ),
        (
            "gpt-6-luna",
            "ultra",
            "unsupported_value",
            "Unsupported value: 'reasoning.effort' does not support 'ultra' with this model. "
            "Supported values are: 'none', 'low', 'medium', 'high', 'xhigh', and 'max'.",
        ),
        (
            MODEL,
            "turbo",
            "invalid_value",
            "Invalid value: 'turbo'. Supported values are: "
            "'low', 'medium', 'high', 'xhigh', 'max', and 'ultra'.",
        ),
        (
            "gpt-4.1",
            "low",
            "unsupported_parameter",
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
        ),
    ],
)
async def test_reasoning_efforts_the_model_does_not_take_are_rejected(
    responses_server, model, effort, code, message
):
    body = {"model": model, "input": "hi", "reasoning": {"effort": effort}}
    event = await ws_error(responses_server, **body)
    assert event["status"] == 400
    assert event["error"] == {
        "type": "invalid_request_error",
        "code": code,
        "message": message,
        "param": "reasoning.effort",
    }
    r = post(responses_server, body)
    assert r.status_code == 400 and r.json()["error"] == event["error"]


async def test_every_effort_the_catalog_lists_is_accepted(responses_server):
    from codeagent.responses.catalog import load_catalog

    efforts = load_catalog().get(MODEL).reasoning_efforts
    async with connect(responses_server) as ws:
        for effort in efforts:
            completed(await turn(ws, input="hi", reasoning={"effort": effort, "summary": "auto"}))


async def test_background_is_rejected_on_both_transports(responses_server):
    event = await ws_error(responses_server, input="hi", background=True)
    assert event["error"]["code"] == "unsupported_parameter"
    assert event["error"]["param"] == "background"
    r = post(responses_server, {"model": MODEL, "input": "hi", "background": True})
    assert r.status_code == 400 and r.json()["error"]["param"] == "background"


# ---------------------------------------------------------------- tool call / output pairing

#: Each call shape a script can emit, the output item that answers it, and the message noun.
CALLS = [
    (s.function_call("exec_command", {"cmd": "ls"}), "function_call_output", "function call"),
    (s.custom_tool_call("apply_patch", "*** Begin Patch\n*** End Patch\n"),
     "custom_tool_call_output", "custom tool call"),
    (s.shell_call(["ls"]), "shell_call_output", "shell call"),
    (s.apply_patch_call("delete_file", "old.txt"), "apply_patch_call_output", "apply patch call"),
    (s.local_shell_call(["ls"]), "local_shell_call_output", "local shell call"),
]  # fmt: skip


def output_for(kind, call):
    if kind == "local_shell_call_output":
        return {"type": kind, "id": call["call_id"], "output": '{"output": "ok"}'}
    if kind == "shell_call_output":
        out = [{"stdout": "ok", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}]
        return {"type": kind, "call_id": call["call_id"], "output": out}
    if kind == "apply_patch_call_output":
        return {"type": kind, "call_id": call["call_id"], "status": "completed"}
    return {"type": kind, "call_id": call["call_id"], "output": "ok"}


def calling(item):
    return s.Script([s.Episode([s.Step([s.text("On it."), item]), s.Step([s.text("Done.")])])])


@pytest.mark.parametrize(("item", "output_type", "noun"), CALLS)
async def test_a_call_continued_without_its_output_is_rejected(
    make_server, item, output_type, noun
):
    server = make_server(calling(item))
    async with connect(server) as ws:
        first = completed(await turn(ws, input="go"))
        call = first["output"][1]
        event = (
            await turn(ws, input=[user("never mind")], previous_response_id=first["id"], store=True)
        )[-1]
        assert event["type"] == "error" and event["status"] == 400
        assert event["error"] == {
            "type": "invalid_request_error",
            "code": None,
            "message": f"No tool output found for {noun} {call['call_id']}.",
            "param": "input",
        }
        # Answered, the same continuation (full history: the failure evicted the parent) works.
        history = [user("go"), *first["output"], output_for(output_type, call)]
        assert completed(await turn(ws, input=history))["output"][0]["content"][0]["text"] == (
            "Done."
        )


@pytest.mark.parametrize(("item", "output_type", "noun"), CALLS)
async def test_an_output_without_its_call_is_rejected(make_server, item, output_type, noun):
    server = make_server(calling(item))
    orphan = output_for(output_type, {"call_id": "call_orphan"})
    event = await ws_error(server, input=[user("go"), orphan])
    assert event["status"] == 400 and event["error"]["param"] == "input"
    assert event["error"]["message"] == (
        f"No tool call found for {noun} output with call_id call_orphan."
    )


async def test_pairing_is_checked_after_resolving_previous_response_id_over_http(make_server):
    server = make_server(calling(s.function_call("exec_command", {"cmd": "ls"})))
    first = post(server, {"model": MODEL, "input": "go", "store": True}).json()
    call = first["output"][1]
    continued = {"model": MODEL, "previous_response_id": first["id"], "store": True}
    r = post(server, {**continued, "input": [user("skip it")]})
    assert r.status_code == 400
    assert (
        r.json()["error"]["message"] == f"No tool output found for function call {call['call_id']}."
    )
    answer = output_for("function_call_output", call)
    r = post(server, {**continued, "input": [answer]})
    assert r.status_code == 200 and r.json()["status"] == "completed"


async def test_an_output_answering_a_call_of_another_kind_is_rejected(make_server):
    server = make_server(calling(s.shell_call(["ls"])))
    async with connect(server) as ws:
        first = completed(await turn(ws, input="go"))
        wrong = {"type": "function_call_output", "call_id": first["output"][1]["call_id"]}
        event = await turn(ws, input=[{**wrong, "output": "x"}], previous_response_id=first["id"])
    assert event[-1]["error"]["message"].startswith("No tool call found for function call output")


def test_compact_rejects_parameters_it_does_not_take(responses_server):
    body = {"model": MODEL, "input": [user("hi")], "tools": []}
    r = post(responses_server, body, "/responses/compact")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_parameter"
    assert r.json()["error"]["param"] == "tools"
    del body["tools"]
    r = post(responses_server, {**body, "prompt_cache_key": "k"}, "/responses/compact")
    assert r.status_code == 200, r.text


def test_error_bodies_are_json_even_for_odd_text(responses_server):
    raw = json.dumps({"model": MODEL, "input": "hi", "\ud800odd": 1})  # escaped lone surrogate
    r = httpx.post(responses_server.base_url + "/responses", content=raw, timeout=10)
    assert r.status_code == 400
    assert json.loads(r.text)["error"]["code"] == "unknown_parameter"
