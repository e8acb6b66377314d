"""Every request body the client really sends validates against the official SDK's types.

The agent runs real turns against the local server (WebSocket and HTTP; first turn, chained
turn, a full resend after ``previous_response_not_found``, the call after a compaction; built-in
and function tools). The server records each frame/body as received; each is validated against
``openai.types.responses.response_create_params.ResponseCreateParamsStreaming`` (or the compact
endpoint's params) with every TypedDict made strict: a field the SDK does not declare fails,
except the few the documented WebSocket protocol needs (``type``; ``generate`` and ``stream_id``
on WebSocket only). ``stream`` is implicit over WebSocket, so it is added before validating.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from openai.types.responses.response_compact_params import ResponseCompactParams
from openai.types.responses.response_create_params import ResponseCreateParamsStreaming
from openai.types.responses.response_steer_event_param import ResponseSteerEventParam
from pydantic import TypeAdapter
from pydantic_core import SchemaValidator, ValidationError

from codeagent.agent.approvals import Policy
from codeagent.agent.events import SteerUpdate, TextDelta
from codeagent.agent.loop import Agent
from codeagent.config import Settings
from codeagent.server.script import Episode, Script, Step, apply_patch, function_call, shell, text
from tests.exec_support import make_repo

API_KEY = "sk-test-shapes-1234567890"
#: Fields the WebSocket protocol adds to a ``response.create`` (guide: websocket-mode).
WEBSOCKET_FIELDS = frozenset({"type", "generate", "stream_id"})
GREET_DIFF = '@@ def greet():\n-    print("Hi")\n+    print("Hello")\n'


def _strict(tp: Any) -> SchemaValidator:
    """A validator for SDK TypedDict ``tp`` that forbids undeclared keys at every depth and
    validates ``Iterable[...]`` fields eagerly (pydantic checks generators lazily)."""
    schema = TypeAdapter(tp).core_schema

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "typed-dict":
                node["extra_behavior"] = "forbid"
            elif node.get("type") == "generator":
                node["type"] = "list"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return SchemaValidator(schema)


CREATE = _strict(ResponseCreateParamsStreaming)
COMPACT = _strict(ResponseCompactParams)
STEER = _strict(ResponseSteerEventParam)


def _problems(exc: ValidationError) -> str:
    """The most specific errors first (a union reports every member; the deepest is the one)."""
    errors = sorted(exc.errors(), key=lambda e: -len(e["loc"]))
    extra = [e for e in errors if e["type"] == "extra_forbidden"]
    shown = (extra or errors)[:6]
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in shown)


def check_frame(transport: str, payload: dict[str, Any]) -> None:
    """Fail with the offending fields unless ``payload`` is a valid request for ``transport``."""
    body = dict(payload)
    if transport == "ws":
        assert body.pop("type") == "response.create"
        assert "stream" not in body, "stream is implicit over WebSocket and must not be sent"
        for name in WEBSOCKET_FIELDS - {"type"}:
            body.pop(name, None)
        body["stream"] = True
    else:
        leaked = WEBSOCKET_FIELDS & set(body)
        assert not leaked, f"WebSocket-only fields sent over HTTP: {sorted(leaked)}"
    _validate(CREATE, body, f"{transport} request")


def check_compact(payload: dict[str, Any]) -> None:
    _validate(COMPACT, dict(payload), "compact request")


def check_steer(payload: dict[str, Any]) -> None:
    """A ``response.steer`` frame: the SDK's event with nothing else (no ``stream_id``)."""
    problems = None
    try:
        STEER.validate_python(dict(payload))
    except ValidationError as exc:
        problems = _problems(exc)
    if problems:
        pytest.fail(f"steer frame does not match the SDK: {problems}")


def _validate(validator: SchemaValidator, body: dict[str, Any], what: str) -> None:
    body["input"] = [_with_replay_id(item) for item in body.get("input") or []]
    problems = None
    try:
        validator.validate_python(body)
    except ValidationError as exc:
        problems = _problems(exc)
    if problems:
        pytest.fail(f"{what} does not match the SDK: {problems}")


#: Items the SDK types give a Required ``id`` that a ``store=false`` client replays without one
#: (the ids are not persisted: "Item with id ... not found"); Codex drops every item id on
#: replay with store=false [V codex] and the API takes the items by content.
_ID_OPTIONAL_ON_REPLAY = frozenset({"message", "reasoning"})


def _with_replay_id(item: Any) -> Any:
    if (
        isinstance(item, dict)
        and item.get("type") in _ID_OPTIONAL_ON_REPLAY
        and item.get("role", "assistant") == "assistant"
        and "id" not in item
    ):
        return {**item, "id": "replayed_without_id"}
    return item


def check_all(server: Any) -> list[dict[str, Any]]:
    """Validate every recorded request; return the response.create bodies in order."""
    creates = []
    for frame in server.record:
        if frame.transport == "ws" and frame.payload.get("type") == "response.steer":
            check_steer(frame.payload)
            continue
        if frame.transport == "http" and "stream" not in frame.payload:
            check_compact(frame.payload)  # POST /responses/compact (never streamed)
            continue
        check_frame(frame.transport, frame.payload)
        creates.append(frame.payload)
    assert creates, "no request was recorded"
    return creates


def _tools_by_type(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t.get("name", t["type"]): t for t in body.get("tools", [])}


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "userconf"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"app.py": 'def greet():\n    print("Hi")\n'})


def tool_script(function_tools: bool) -> Script:
    """Turn 1: a shell call, then a patch, then a final answer (three chained calls)."""
    if function_tools:
        steps = [
            Step([function_call("shell", {"commands": ["cat app.py"]})]),
            Step([function_call("apply_patch", {"input": _v4a()})]),
            Step([text("Patched.")]),
        ]
    else:
        steps = [
            Step([shell(["cat app.py"], timeout_ms=10_000)]),
            Step([apply_patch("update_file", "app.py", GREET_DIFF)]),
            Step([text("Patched.")]),
        ]
    return Script([Episode(steps, match="fix"), Episode([Step([text("Sure.")])])])


def _v4a() -> str:
    return f"*** Begin Patch\n*** Update File: app.py\n{GREET_DIFF}*** End Patch\n"


async def run_turns(agent: Agent, *texts: str) -> None:
    for line in texts:
        events = [e async for e in agent.submit(line)]
        assert events[-1].kind == "turn_completed", events[-1]


def settings(server: Any, **fields: Any) -> Settings:
    fields.setdefault("api_key", API_KEY)
    fields.setdefault("approval_policy", Policy.FULL_AUTO)
    fields.setdefault("sandbox", "none")
    fields.setdefault("no_git", True)  # checkpoints are not what this test is about
    return Settings(base_url=server.base_url, **fields)


@pytest.mark.parametrize("transport", ["websocket", "http"])
@pytest.mark.parametrize("function_tools", [False, True], ids=["builtin", "function"])
async def test_every_turn_validates_against_the_sdk(
    make_server, repo: Path, transport: str, function_tools: bool
) -> None:
    server = make_server(tool_script(function_tools))
    agent = Agent(
        settings(server, transport=transport, function_tools=function_tools), repo, _NoAsk()
    )
    try:
        await run_turns(agent, "fix the greeting", "thanks")
    finally:
        await agent.close()
    creates = check_all(server)
    assert len(creates) == 4  # three calls for the tool turn, one for "thanks"
    first = creates[0]
    assert "previous_response_id" not in first
    # No model flag or setting: a fresh install sends a current model the strict server knows.
    assert {body["model"] for body in creates} == {"gpt-6-astra"}
    assert server.state.catalog.get("gpt-6-astra").status == "active"
    if transport == "websocket":
        assert all("previous_response_id" in body for body in creates[1:])  # chained
    tools = _tools_by_type(first)
    if not function_tools:
        assert tools["shell"] == {"type": "shell", "environment": {"type": "local"}}
        assert tools["apply_patch"] == {"type": "apply_patch"}
    # One cache key for the whole session, on every request.
    keys = {body.get("prompt_cache_key") for body in creates}
    assert len(keys) == 1 and None not in keys


async def test_full_resend_after_recovery_validates(make_server, repo: Path) -> None:
    server = make_server(tool_script(False))
    agent = Agent(settings(server, transport="websocket"), repo, _NoAsk())
    try:
        await run_turns(agent, "fix the greeting")
        server.state.faults.forget_cached_responses()
        await run_turns(agent, "thanks")
    finally:
        await agent.close()
    creates = check_all(server)
    resend = creates[-1]
    assert "previous_response_id" not in resend  # the recovery sent the whole history
    types = [item["type"] for item in resend["input"]]
    assert "shell_call" in types and "shell_call_output" in types
    assert "apply_patch_call" in types and "apply_patch_call_output" in types


async def test_requests_after_compaction_validate(make_server, repo: Path) -> None:
    server = make_server(tool_script(False))
    agent = Agent(settings(server, transport="websocket", compact_threshold=1), repo, _NoAsk())
    try:
        await run_turns(agent, "fix the greeting", "thanks")
        await agent.compact()
        await run_turns(agent, "and again")
    finally:
        await agent.close()
    creates = check_all(server)
    assert any(item["type"] == "compaction" for item in creates[-1]["input"])
    compacts = [f for f in server.record if f.transport == "http" and "stream" not in f.payload]
    assert len(compacts) >= 2  # the automatic one before "thanks" and /compact


class _NoAsk:
    """Full-auto runs never ask; asking would be a test bug."""

    async def decide(self, request: Any) -> Any:
        raise AssertionError(f"unexpected approval request: {request}")


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_stored_session_with_the_top_effort_validates(
    make_server, repo: Path, transport: str
) -> None:
    """store=true replays items with their ids; ``ultra`` goes out as the SDK's ``max``."""
    server = make_server(tool_script(False))
    agent = Agent(
        settings(server, transport=transport, store=True, reasoning_effort="ultra"),
        repo,
        _NoAsk(),
    )
    try:
        await run_turns(agent, "fix the greeting", "thanks")
    finally:
        await agent.close()
    creates = check_all(server)
    assert all(body["reasoning"] == {"effort": "max", "summary": "auto"} for body in creates)
    assert all(body["store"] is True for body in creates)


async def test_a_resumed_session_keeps_its_cache_key(make_server, repo: Path) -> None:
    server = make_server(tool_script(False))
    first = Agent(settings(server, transport="websocket"), repo, _NoAsk())
    try:
        await run_turns(first, "thanks")
    finally:
        await first.close()
    again = Agent.resume(settings(server, transport="http"), repo, _NoAsk(), "last")
    try:
        await run_turns(again, "and again")
    finally:
        await again.close()
    creates = check_all(server)
    assert len(creates) == 2
    assert creates[0]["prompt_cache_key"] == creates[1]["prompt_cache_key"] == first.session.id


async def test_a_steer_frame_validates(make_server, repo: Path) -> None:
    """A message typed mid-stream goes as ``response.steer``; it and every request around it
    (the turn's create, the next turn's chained from the successor) validate."""
    long_text = " ".join(f"word{i}" for i in range(300))
    script = Script(
        [
            Episode([Step([text("In one file.")])], match="one file"),
            Episode([Step([text(long_text)], tokens_per_second=30)], match="fix"),
        ]
    )
    server = make_server(script)
    agent = Agent(settings(server, transport="websocket"), repo, _NoAsk())
    events: list[Any] = []
    try:
        async for event in agent.submit("fix the greeting"):
            events.append(event)
            if isinstance(event, TextDelta) and not any(
                e.kind == "steer_submitted" for e in events
            ):
                agent.steer("Keep it to one file.")
        await run_turns(agent, "thanks")
    finally:
        await agent.close()
    assert [e.state for e in events if isinstance(e, SteerUpdate)] == ["accepted", "applied"]
    steers = [f.payload for f in server.record if f.payload.get("type") == "response.steer"]
    assert len(steers) == 1
    assert len(check_all(server)) == 2  # the successor needed no create of ours


def test_the_steer_check_refuses_what_the_sdk_does_not_declare() -> None:
    """The check above can fail: ``stream_id`` is not a steer field ("Do not send stream_id")."""
    check_steer({"type": "response.steer", "previous_response_id": "resp_1", "input": "x"})
    with pytest.raises(pytest.fail.Exception, match="stream_id"):
        check_steer(
            {"type": "response.steer", "previous_response_id": "r", "input": "x", "stream_id": "a"}
        )
