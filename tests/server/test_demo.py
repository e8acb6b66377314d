"""The bundled demo: the sample repository and the scripted fix, played end to end."""

from __future__ import annotations

import json
import subprocess

import pytest
from srv_client import completed, connect, turn, user
from v4a_strict import apply_update

from codeagent.server.demo import DEMO_SCRIPT, copy_sample_repo, demo_script


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, shell=True, capture_output=True, text=True, timeout=60)


def test_sample_repo_is_a_git_repo_with_one_commit_and_a_failing_test(tmp_path):
    repo = copy_sample_repo(tmp_path / "repo")
    assert run("git rev-list --count HEAD", repo).stdout.strip() == "1"
    assert run("git status --porcelain", repo).stdout == ""
    result = run("python3 -m unittest", repo)
    assert result.returncode == 1
    assert "FAILED (failures=2)" in result.stderr


def test_running_the_demo_tests_leaves_the_working_tree_clean(tmp_path):
    # The bytecode the tests leave behind is not the agent's work: /diff and /undo must not show it.
    repo = copy_sample_repo(tmp_path / "repo")
    run("env -u PYTHONDONTWRITEBYTECODE python3 -m unittest", repo)
    assert list(repo.rglob("*.pyc")), "the tests should have written bytecode"
    assert run("git status --porcelain", repo).stdout == ""


def test_copy_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        copy_sample_repo(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert not (tmp_path / ".git").exists()


def test_demo_patches_apply_exactly_and_fix_the_bug(tmp_path):
    repo = copy_sample_repo(tmp_path / "repo")
    patches = [
        item.data
        for step in DEMO_SCRIPT.episodes[0].steps
        for item in step.items
        if item.kind == "apply_patch"
    ]
    assert patches
    for patch in patches:
        path = repo / patch["path"]
        path.write_text(apply_update(path.read_text(), patch["diff"]))
    result = run("python3 -m unittest", repo)
    assert result.returncode == 0, result.stderr
    assert "Ran 7 tests" in result.stderr


def test_demo_patches_apply_with_the_agent_patch_tool(tmp_path):
    patch_tool = pytest.importorskip("codeagent.agent.tools.patch")
    repo = copy_sample_repo(tmp_path / "repo")
    for step in DEMO_SCRIPT.episodes[0].steps:
        for item in step.items:
            if item.kind == "apply_patch":
                operation = {
                    "type": item.data["operation"],
                    "path": item.data["path"],
                    "diff": item.data["diff"],
                }
                patch = patch_tool.patch_from_operation(operation)
                patch_tool.prepare_patch(patch, repo).apply()
    assert run("python3 -m unittest", repo).returncode == 0


def test_demo_pace_looks_alive():
    steps = DEMO_SCRIPT.episodes[0].steps
    assert all(s.first_token_delay == 0.3 and s.tokens_per_second == 200 for s in steps)


async def test_demo_played_end_to_end_fixes_the_repo(tmp_path, make_server):
    repo = copy_sample_repo(tmp_path / "repo")
    server = make_server(demo_script(0.0, None))
    tool_calls = 0
    outputs_seen = []
    async with connect(server) as ws:
        response = completed(await turn(ws, input="Please fix the failing tests.", store=False))
        while True:
            results = []
            for item in response["output"]:
                if item["type"] == "shell_call":
                    entries = []
                    for command in item["action"]["commands"]:
                        r = run(command, repo)
                        outputs_seen.append(r.stdout + r.stderr)
                        entries.append(
                            {
                                "stdout": r.stdout,
                                "stderr": r.stderr,
                                "outcome": {"type": "exit", "exit_code": r.returncode},
                            }
                        )
                    results.append(
                        {"type": "shell_call_output", "call_id": item["call_id"], "output": entries}
                    )
                elif item["type"] == "apply_patch_call":
                    op = item["operation"]
                    path = repo / op["path"]
                    path.write_text(apply_update(path.read_text(), op["diff"]))
                    results.append(
                        {
                            "type": "apply_patch_call_output",
                            "call_id": item["call_id"],
                            "status": "completed",
                        }
                    )
                elif item["type"] == "function_call":
                    assert item["name"] == "update_plan"
                    json.loads(item["arguments"])
                    results.append(
                        {"type": "function_call_output", "call_id": item["call_id"], "output": "ok"}
                    )
            if not results:
                break
            tool_calls += len(results)
            response = completed(
                await turn(ws, input=results, previous_response_id=response["id"], store=False)
            )
    assert tool_calls >= 20
    final = response["output"][-1]["content"][0]["text"]
    assert final.startswith("## Fixed")
    assert any("FAILED (failures=2)" in out for out in outputs_seen)
    assert run("python3 -m unittest", repo).returncode == 0
    assert set(run("git status --porcelain", repo).stdout.split()) == {
        "M",
        "fizzbuzz/core.py",
        "tests/test_core.py",
    }


SHELL_FN = {"type": "function", "name": "shell", "parameters": {}}
PATCH_FN = {"type": "function", "name": "apply_patch", "parameters": {}}


async def test_function_tool_variants_get_function_calls(tmp_path, make_server):
    """A request that offers shell/apply_patch only as function tools gets function_call items
    (as a real model would), with a full V4A patch the agent's patch tool applies."""
    patch_tool = pytest.importorskip("codeagent.agent.tools.patch")
    repo = copy_sample_repo(tmp_path / "repo")
    server = make_server(demo_script(0.0, None))
    steps = DEMO_SCRIPT.episodes[0].steps
    patch_step = next(i for i, st in enumerate(steps) if st.items[-1].kind == "apply_patch")
    shell_step = next(i for i, st in enumerate(steps) if st.items[-1].kind == "shell")
    # Build a history that reaches each step: one fake model response per earlier step.
    async with connect(server) as ws:
        for target in (shell_step, patch_step):
            history = [user("fix it")]
            for n in range(target):
                history.append(
                    {"type": "function_call", "call_id": f"c{n}", "name": "x", "arguments": "{}"}
                )
                history.append({"type": "function_call_output", "call_id": f"c{n}", "output": "ok"})
            out = completed(await turn(ws, input=history, tools=[SHELL_FN, PATCH_FN]))
            call = out["output"][-1]
            assert call["type"] == "function_call"
            args = json.loads(call["arguments"])
            if target == shell_step:
                assert (
                    call["name"] == "shell"
                    and args["commands"] == steps[target].items[-1].data["commands"]
                )
            else:
                assert call["name"] == "apply_patch"
                assert args["input"].startswith(
                    "*** Begin Patch\n*** Update File: fizzbuzz/core.py\n"
                )
                prepared = patch_tool.prepare_patch(
                    patch_tool.parse_function_arguments(call["arguments"]), repo
                )
                prepared.apply()
    assert "if n % 15 == 0" in (repo / "fizzbuzz/core.py").read_text().split("if n % 3")[0]
    # Offering the built-in tools keeps the built-in items.
    async with connect(server) as ws:
        out = completed(
            await turn(
                ws, input=[user("fix it"), *history[1:3]], tools=[{"type": "shell"}, SHELL_FN]
            )
        )
    assert out["output"][-1]["type"] == "shell_call"


def test_demo_answers_a_follow_up_message_briefly_instead_of_replaying():
    script = demo_script(0.0, None)
    first = script.choose([user("fix it")])
    assert first.items[-1].data["name"] == "update_plan"
    done = [
        user("fix it"),
        {  # the fix applied (without it the demo says so instead: tests/tui/test_demo_honesty)
            "type": "apply_patch_call",
            "call_id": "call_fix",
            "status": "completed",
            "operation": {"type": "update_file", "path": "fizzbuzz/core.py", "diff": ""},
        },
        {"type": "apply_patch_call_output", "call_id": "call_fix", "status": "completed"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Fixed."}],
        },
        user("thanks!"),
    ]
    (reply,) = script.choose(done).items
    assert reply.kind == "text" and "demo is complete" in reply.data["text"]


def test_a_steer_typed_while_the_demo_plays_does_not_derail_it():
    # Enter while a tool call streams: the server holds the steer and puts it ahead of the
    # call's output (response.steer.pending); the demo goes on with its next step instead of
    # answering as if the turn had ended.
    script = demo_script(0.0, None)
    plain = [
        user("fix it"),
        {"type": "shell_call", "call_id": "c1", "action": {"commands": ["ls -la"]}},
        {"type": "shell_call_output", "call_id": "c1", "output": []},
    ]
    steered = [*plain[:2], user("also keep it short"), plain[2]]
    assert script.choose(steered).items == script.choose(plain).items
    assert script.choose(plain).items[0].kind != "text"
