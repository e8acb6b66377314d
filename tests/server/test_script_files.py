"""Script files (JSON/TOML) and their errors."""

from __future__ import annotations

import json
import tomllib

import pytest
from srv_client import completed, connect, create, recv_turn, text_of, turn
from websockets.exceptions import ConnectionClosedError

from codeagent.server.script import Episode, Script, ScriptError, Step, text

TOML = """
default_reply = "Say 'fix'."
[[episodes]]
match = "(?i)fix"
[[episodes.steps]]
first_token_delay = 0.0
tokens_per_second = 10000
items = [
  { type = "reasoning", summary = "Reading." },
  { type = "shell", commands = ["ls"], timeout_ms = 1000 },
]
[[episodes.steps]]
items = [
  { type = "update_plan", steps = [["Read", "completed"]], explanation = "e" },
  { type = "apply_patch", operation = "create_file", path = "n.txt", diff = "+hi\\n" },
  { type = "function_call", name = "lookup", arguments = { q = "x" } },
  { type = "text", text = "Done." },
]
"""
STEP = "[[episodes]]\n[[episodes.steps]]\n"


def test_toml_and_json_load_the_same_script(tmp_path):
    toml_path = tmp_path / "s.toml"
    toml_path.write_text(TOML)
    script = Script.load(toml_path)
    assert script.default_reply == "Say 'fix'."
    steps = script.episodes[0].steps
    assert [i.kind for i in steps[0].items] == ["reasoning", "shell"]
    assert steps[0].tokens_per_second == 10000
    assert [i.kind for i in steps[1].items] == [
        "function_call",
        "apply_patch",
        "function_call",
        "text",
    ]
    json_path = tmp_path / "s.json"
    json_path.write_text(json.dumps(tomllib.loads(TOML)))
    assert Script.load(json_path) == script


async def test_a_loaded_script_drives_the_server(tmp_path, make_server):
    path = tmp_path / "s.toml"
    path.write_text(TOML)
    server = make_server(path)
    async with connect(server) as ws:
        assert text_of(completed(await turn(ws, input="hello"))) == "Say 'fix'."
        first = completed(await turn(ws, input="Please FIX"))
        assert [i["type"] for i in first["output"]] == ["reasoning", "shell_call"]
    server.script = Script([], default_reply="replaced")
    async with connect(server) as ws:
        assert text_of(completed(await turn(ws, input="fix"))) == "replaced"


@pytest.mark.parametrize(
    ("content", "suffix", "needle"),
    [
        ("{", ".json", "not valid json"),
        ("episodes = 3", ".toml", "episodes must be a list"),
        ('[[episodes]]\nmatch = "("', ".toml", "not a valid regex"),
        (
            '[[episodes]]\n[[episodes.steps]]\nitems = [{type = "dance"}]',
            ".toml",
            "unknown item type 'dance'",
        ),
        (
            '[[episodes]]\n[[episodes.steps]]\nitems = [{type = "shell", commands = "ls"}]',
            ".toml",
            "commands must be a list",
        ),
        ("[[episodes]]\n[[episodes.steps]]\nfirst_token_delay = -1", ".toml", "first_token_delay"),
        (
            STEP + 'items = [{type = "apply_patch", operation = "move", path = "a"}]',
            ".toml",
            "create_file",
        ),
    ],
)
def test_bad_script_files_say_what_is_wrong(tmp_path, content, suffix, needle):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(ScriptError) as info:
        Script.load(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_missing_script_file(tmp_path):
    with pytest.raises(ScriptError, match="cannot read script"):
        Script.load(tmp_path / "none.toml")


def test_steps_run_out_with_a_short_final_text():
    script = Script([Episode([Step([text("only")])])])
    history = [
        {"type": "message", "role": "user", "content": "x"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "only"}],
        },
    ]
    assert script.choose(history).items == [text("Done.")]


FAULTY = """
[[episodes]]
[[episodes.steps]]
items = [{ type = "text", text = "made it" }]
fault = { drop_after_events = 2, times = 1 }
[[episodes.steps]]
items = [{ type = "text", text = "second" }]
fault = { error = "rate_limit_exceeded", status = 429, message = "wait", times = 2 }
"""


async def test_step_faults_fire_the_given_number_of_times(tmp_path, make_server):
    path = tmp_path / "f.toml"
    path.write_text(FAULTY)
    server = make_server(path)
    async with connect(server) as ws:
        await ws.send(create(input="hi"))
        with pytest.raises(ConnectionClosedError):
            await recv_turn(ws)
    async with connect(server) as ws:
        first = completed(await turn(ws, input="hi"))
        assert text_of(first) == "made it"
        # Not a user message, so the conversation moves on to the episode's second step.
        nudge = {"type": "message", "role": "developer", "content": "go on"}
        event = (await turn(ws, input=[nudge], previous_response_id=first["id"]))[-1]
        assert event["status"] == 429 and event["error"]["code"] == "rate_limit_exceeded"
        # The failed continuation evicted its parent: resend the whole conversation.
        full = [{"type": "message", "role": "user", "content": "hi"}, *first["output"], nudge]
        event = (await turn(ws, input=full))[-1]
        assert event["status"] == 429 and event["error"]["message"] == "wait"
        second = completed(await turn(ws, input=full))
        assert text_of(second) == "second"


@pytest.mark.parametrize(
    ("fault", "needle"),
    [
        ("3", "must be a table"),
        ("{ explode = 1 }", "unknown field 'explode'"),
        ('{ drop_after_events = "3" }', "drop_after_events has a wrong type"),
        ("{ times = -1 }", "negative"),
    ],
)
def test_bad_step_faults_say_what_is_wrong(tmp_path, fault, needle):
    path = tmp_path / "f.toml"
    path.write_text(STEP + f"fault = {fault}\n")
    with pytest.raises(ScriptError, match=needle):
        Script.load(path)
