"""Hostile frames from the server, fed through the real socket (the local server's raw-frame
fault puts one in place of an event of the response): known bad cases and hypothesis-made ones
-- random JSON, wrong types, huge strings, deep nesting, lone surrogates, unknown event types,
events out of order. Never a crash or a hang; every failure the user sees is a sentence; the
next message works."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentError, TextDelta, TextDone, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.config import Settings
from codeagent.responses.events import EVENT_TYPES
from codeagent.server.embedded import EmbeddedServer

KEY = "sk-hostile-frames-0123456789"
EVENTS_PER_REPLY = 10  # the echo reply's events, about (an index past the end never fires)
_CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|Internal error")


class _Approve:
    async def decide(self, request: ApprovalRequest) -> Decision:
        return Decision.approve()


def readable(message: str) -> bool:
    """A sentence a user can read: no traceback, no exception class names, not empty."""
    return bool(message.strip()) and message[0].isupper() and not _CLASS_NAME.search(message)


async def one_turn(server: EmbeddedServer, root: Path, transport: str, frame: str, at: int):
    """One user turn with ``frame`` in place of event ``at``, then a clean follow-up turn."""
    settings = Settings(
        base_url=server.base_url,
        api_key=KEY,
        transport=transport,  # type: ignore[arg-type]
        no_git=True,
        sandbox="none",
        idle_timeout=1.0,
    )
    agent = Agent(settings, root, _Approve())
    try:
        server.faults.clear()
        server.faults.malformed_frame(at_event=at, text=frame)
        async with asyncio.timeout(30):  # a hang fails here
            events = [e async for e in agent.submit("hello")]
            server.faults.clear()
            follow = [e async for e in agent.submit("and again")]
    finally:
        await agent.close()
    assert isinstance(events[-1], TurnCompleted | AgentError), events[-1]
    for event in events + follow:
        if isinstance(event, AgentError):
            assert readable(event.message), event.message
    assert isinstance(follow[-1], TurnCompleted), follow[-1]
    assert follow[-1].final_text == "You said: and again"
    for event in events:  # whatever arrived can be written out as UTF-8 (exec, transcript)
        if isinstance(event, TextDelta | TextDone):
            (event.delta if isinstance(event, TextDelta) else event.text).encode("utf-8")


def nested(depth: int) -> str:
    """A text delta carrying a value nested ``depth`` lists deep (built as text: parsing it
    here would hit the recursion limit that the client must survive)."""
    head = '{"type": "response.output_text.delta", "item_id": "m", "output_index": 0, '
    return head + '"delta": "x", "extra": ' + "[" * depth + "]" * depth + "}"


def completed(response_id: str, output: object) -> str:
    return json.dumps(
        {
            "type": "response.completed",
            "response": {"id": response_id, "status": "completed", "output": output},
        }
    )


KNOWN = {
    "not json": "<html><body>502 Bad Gateway</body></html>",
    "truncated": '{"type": "response.output_text.delta", "delta": "cut',
    "empty": "",
    "null": "null",
    "array": "[1, 2, 3]",
    "no type": '{"delta": "x"}',
    "type not a string": '{"type": 5}',
    "unknown type": '{"type": "response.future_feature", "x": {"y": [1]}}',
    "delta of wrong type": '{"type": "response.output_text.delta", "item_id": "m", '
    '"output_index": 0, "delta": 5}',
    "delta for an unknown item": '{"type": "response.output_text.delta", "item_id": "nope", '
    '"output_index": 99, "delta": "ghost"}',
    "lone surrogate": '{"type": "response.output_text.delta", "item_id": "m", '
    '"output_index": 0, "delta": "a\\ud800b\\udfff"}',
    "huge string": json.dumps(
        {
            "type": "response.output_text.delta",
            "item_id": "m",
            "output_index": 0,
            "delta": "y" * 3_000_000,
        }
    ),
    "deep nesting (parses)": nested(500),
    "deep nesting (too deep to parse)": "[" * 100_000 + "]" * 100_000,
    "completed first, out of order": completed("resp_early", []),
    "completed with a garbage output": completed("resp_bad", [{"type": "message", "content": 5}]),
    "completed with odd items": completed(
        "resp_odd", [{"type": "function_call"}, {"type": "message", "content": "x"}, 7]
    ),
    "error event with odd fields": '{"type": "error", "status": "teapot", "error": 5}',
    "error event, unknown code": '{"type": "error", "status": 400, "error": {"code": '
    '"brand_new_code", "message": "Something new went wrong."}}',
    "failed response without error": '{"type": "response.failed", "response": {"id": "r"}}',
    "binary-looking": "\x00\x01\x02",
}


@pytest.fixture(scope="module")
def server():
    srv = EmbeddedServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.parametrize("transport", ["websocket", "http"])
@pytest.mark.parametrize("name", list(KNOWN))
async def test_known_hostile_frames(server, tmp_path, transport, name):
    for at in (0, 4):
        await one_turn(server, tmp_path, transport, KNOWN[name], at)


_LEAF = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
_JSON = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = [
    "item_id",
    "output_index",
    "content_index",
    "delta",
    "text",
    "response",
    "item",
    "part",
    "error",
    "status",
    "code",
    "message",
    "sequence_number",
    "stream_id",
    "name",
]
_SURROGATES = st.sampled_from(["\ud800", "x\udfffy", "\udc80\udc81"])


@st.composite
def hostile_frames(draw) -> str:
    kind = draw(st.sampled_from(["event", "event", "json", "text", "surrogate", "deep", "big"]))
    if kind == "json":
        return json.dumps(draw(_JSON))
    if kind == "text":
        return draw(st.text(min_size=1, max_size=60))
    if kind == "deep":
        return nested(draw(st.integers(30, 3000)))
    if kind == "big":
        return json.dumps(
            {
                "type": "response.output_text.delta",
                "item_id": "m",
                "output_index": 0,
                "delta": "z" * draw(st.integers(10**5, 2 * 10**6)),
            }
        )
    event: dict = {"type": draw(st.sampled_from([*EVENT_TYPES, "response.done", "x.y", ""]))}
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=6, unique=True)):
        event[name] = draw(_SURROGATES if kind == "surrogate" else _JSON)
    return json.dumps(event)  # ASCII: lone surrogates travel as \\udXXX escapes


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_generated_hostile_frames(server, tmp_path, transport):
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(frame=hostile_frames(), at=st.integers(0, EVENTS_PER_REPLY))
    def check(frame: str, at: int) -> None:
        asyncio.run(one_turn(server, tmp_path, transport, frame, at))

    check()


def test_exec_json_survives_a_lone_surrogate_in_a_text_delta(make_server, tmp_path):
    server = make_server()
    server.faults.malformed_frame(at_event=5, text=KNOWN["lone surrogate"])
    env = {
        "CODEAGENT_STATE_DIR": str(tmp_path / "s"),
        "CODEAGENT_CONFIG_DIR": str(tmp_path / "c"),
        "OPENAI_API_KEY": KEY,
        "PATH": "/usr/bin:/bin",
        "PYTHONIOENCODING": "utf-8",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codeagent",
            "exec",
            "--json",
            "--no-git",
            "--sandbox",
            "none",
            "--base-url",
            server.base_url,
            "say hello \udc80 back",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[-1]["kind"] == "turn_completed"
    assert lines[1]["text"] == "say hello \ufffd back"  # the undecodable byte, replaced
    deltas = "".join(line.get("delta", "") for line in lines if line["kind"] == "text_delta")
    assert "a\ufffdb\ufffd" in deltas  # the server's lone surrogates, replaced


@pytest.mark.parametrize(
    "item",
    [
        {"type": "message", "content": [5]},
        {"type": "message", "content": "not a list"},
        {"type": "apply_patch_call", "call_id": "c1", "operation": {"type": 5, "path": [1]}},
        {"type": "shell_call", "call_id": "c2", "action": {"commands": "ls"}},
        {"type": "function_call", "call_id": "c3", "name": "shell", "arguments": {"a": 1}},
    ],
)
async def test_malformed_items_in_a_response_never_end_the_turn(server, tmp_path, item):
    settings = Settings(
        base_url=server.base_url, api_key=KEY, transport="http", no_git=True, sandbox="none",
        approval_policy="full-auto",  # type: ignore[arg-type]
    )  # fmt: skip
    agent = Agent(settings, tmp_path, _Approve())
    server.faults.clear()
    server.faults.malformed_frame(at_event=0, text=completed("resp_odd", [item]))
    try:
        events = [e async for e in agent.submit("hello")]
    finally:
        await agent.close()
    assert isinstance(events[-1], TurnCompleted), events[-1]
    assert not [e for e in events if isinstance(e, AgentError)]
