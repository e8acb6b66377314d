"""Scripts emit every tool-call shape a real client defines, so agent developers can drive their
own agents with ``codeagent serve``; the README's example runs as documented."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from srv_client import MODEL, completed, connect, turn

from codeagent.server import script as s
from codeagent.server.script import Script, ScriptError

SERVER_DIR = Path(__file__).resolve().parents[2] / "codeagent" / "server"
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
CUSTOM_APPLY_PATCH = {
    "type": "custom",
    "name": "apply_patch",
    "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
}


def one_step(*items):
    return Script([s.Episode([s.Step(list(items))])])


async def test_custom_tool_call_streams_its_input(make_server):
    server = make_server(one_step(s.custom_tool_call("apply_patch", PATCH)))
    async with connect(server) as ws:
        events = await turn(ws, input="go", tools=[CUSTOM_APPLY_PATCH])
    types = [e["type"] for e in events]
    assert "response.custom_tool_call_input.delta" in types
    deltas = "".join(e["delta"] for e in events if e["type"].endswith("input.delta"))
    (done,) = [e for e in events if e["type"] == "response.custom_tool_call_input.done"]
    (item,) = completed(events)["output"]
    assert deltas == done["input"] == item["input"] == PATCH
    assert item["type"] == "custom_tool_call" and item["name"] == "apply_patch"
    assert item["call_id"].startswith("call_")
    from openai.types.responses import ResponseCustomToolCall

    ResponseCustomToolCall.model_validate(item)


async def test_function_call_to_any_tool_name(make_server):
    server = make_server(one_step(s.function_call("exec_command", {"cmd": "ls", "yield_ms": 5})))
    async with connect(server) as ws:
        (item,) = completed(await turn(ws, input="go"))["output"]
    assert item["type"] == "function_call" and item["name"] == "exec_command"
    assert json.loads(item["arguments"]) == {"cmd": "ls", "yield_ms": 5}


async def test_scripted_patch_follows_the_requests_apply_patch_tool(make_server):
    server = make_server(one_step(s.apply_patch("create_file", "a.txt", "+hi\n")))
    async with connect(server) as ws:
        custom = completed(await turn(ws, input="go", tools=[CUSTOM_APPLY_PATCH]))["output"][0]
        builtin = completed(await turn(ws, input="go", tools=[{"type": "apply_patch"}]))
    assert custom["type"] == "custom_tool_call" and custom["input"] == PATCH
    assert builtin["output"][0]["type"] == "apply_patch_call"


async def test_call_items_are_sent_as_they_are_whatever_the_tools(make_server):
    function_tools = [
        {"type": "function", "name": name, "parameters": {"type": "object"}}
        for name in ("shell", "apply_patch")
    ]
    server = make_server(
        one_step(
            s.shell_call(["pytest -q"], timeout_ms=60_000, max_output_length=4000),
            s.apply_patch_call("delete_file", "old.py"),
            s.local_shell_call(["bash", "-lc", "ls"]),
        )
    )
    async with connect(server) as ws:
        output = completed(await turn(ws, input="go", tools=function_tools))["output"]
    assert [i["type"] for i in output] == ["shell_call", "apply_patch_call", "local_shell_call"]
    assert output[0]["action"] == {
        "commands": ["pytest -q"],
        "timeout_ms": 60_000,
        "max_output_length": 4000,
    }
    assert output[1]["operation"] == {"type": "delete_file", "path": "old.py"}
    assert output[2]["action"]["command"] == ["bash", "-lc", "ls"]
    from openai.types.responses import ResponseApplyPatchToolCall, ResponseFunctionShellToolCall

    ResponseFunctionShellToolCall.model_validate(output[0])
    ResponseApplyPatchToolCall.model_validate(output[1])


def test_script_files_take_the_new_item_types(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[[episodes]]\n[[episodes.steps]]\nitems = [\n"
        '  { type = "text", text = "Plan.", phase = "commentary" },\n'
        '  { type = "custom_tool_call", name = "apply_patch", input = "x" },\n'
        '  { type = "shell_call", commands = ["ls"], max_output_length = 10 },\n'
        '  { type = "apply_patch_call", operation = "delete_file", path = "a" },\n'
        '  { type = "local_shell_call", command = ["ls"] },\n'
        "]\n"
    )
    (step,) = Script.load(path).episodes[0].steps
    assert [i.kind for i in step.items] == [
        "text",
        "custom_tool_call",
        "shell_call",
        "apply_patch_call",
        "local_shell_call",
    ]
    assert step.items[0].data["phase"] == "commentary"


@pytest.mark.parametrize(
    ("item", "needle"),
    [
        ('{ type = "custom_tool_call", name = "x" }', "input must be a string"),
        ('{ type = "shell_call", commands = "ls" }', "commands must be a list of strings"),
        ('{ type = "text", text = "x", phase = "final" }', "phase must be"),
        ('{ type = "local_shell_call" }', "command must be a list of strings"),
    ],
)
def test_bad_new_items_say_what_is_wrong(tmp_path, item, needle):
    path = tmp_path / "s.toml"
    path.write_text(f"[[episodes]]\n[[episodes.steps]]\nitems = [{item}]\n")
    with pytest.raises(ScriptError, match=needle):
        Script.load(path)


def readme_client() -> str:
    readme = (SERVER_DIR / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- example-client.*?-->\n```python\n(.*?)```", readme, re.S)
    assert found, "the README lost its example client"
    return found.group(1)


def test_the_readme_example_runs_as_documented(tmp_path):
    script = SERVER_DIR / "examples" / "codex_tools.toml"
    server = subprocess.Popen(
        [sys.executable, "-m", "codeagent", "serve", "--port", "0", "--script", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        client = tmp_path / "client.py"
        client.write_text(readme_client())
        env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "local"}
        run = subprocess.run(
            [sys.executable, str(client)], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=20)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "exec_command: cat hello.py",
        "apply_patch: *** Update File: hello.py",
        "Fixed the greeting in hello.py.",
    ]
    assert MODEL in readme_client()  # the example sends the catalog's default model
