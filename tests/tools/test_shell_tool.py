"""The shell tool with real subprocesses: order, timeouts, output caps, process groups."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codeagent.agent.tools.output_cap import HeadTailBuffer, cap_text
from codeagent.agent.tools.shell import (
    SHELL_FUNCTION_TOOL,
    CommandResult,
    ShellArgumentsError,
    format_results,
    parse_shell_action,
    parse_shell_arguments,
    run_commands,
    shell_call_output_item,
)


def sleeper() -> str:
    """A sleep duration unique to this test, so its processes can be found in /proc."""
    return f"{600 + secrets.randbelow(10_000)}.{secrets.randbelow(10_000):04d}"


async def test_runs_each_command_in_order_in_cwd(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    results = await run_commands(
        ["echo one && pwd", "cd sub && echo moved", "pwd; echo err >&2; exit 3", "echo after"],
        cwd=tmp_path,
        sandbox=None,
    )
    assert [r.exit_code for r in results] == [0, 0, 3, 0]
    assert results[0].stdout == f"one\n{tmp_path}\n"
    # Each command starts afresh in cwd: the cd of the second does not carry over.
    assert results[2].stdout == f"{tmp_path}\n" and results[2].stderr == "err\n"
    assert results[3].stdout == "after\n"
    assert not any(r.timed_out or r.truncated for r in results)


async def test_timeout_kills_the_whole_process_group(tmp_path: Path, live_processes):
    token = sleeper()
    results = await run_commands(
        [f"sleep {token} & sleep {token}", "echo next"], cwd=tmp_path, sandbox=None, timeout_ms=300
    )
    first, second = results
    assert first.timed_out and first.exit_code is None
    assert "timed out after 300 ms" in first.stderr
    assert second.exit_code == 0 and second.stdout == "next\n"
    assert live_processes(token) == []


async def test_background_children_do_not_hold_the_call(tmp_path: Path, live_processes):
    token = sleeper()
    (result,) = await run_commands(
        [f"sleep {token} & echo started"], cwd=tmp_path, sandbox=None, timeout_ms=60_000
    )
    assert result.exit_code == 0 and not result.timed_out and result.stdout == "started\n"
    assert live_processes(token) == []


async def test_cancelling_kills_the_running_group(tmp_path: Path, live_processes):
    token = sleeper()
    task = asyncio.create_task(
        run_commands([f"sleep {token} & touch started; sleep {token}"], cwd=tmp_path, sandbox=None)
    )
    while not (tmp_path / "started").exists():
        await asyncio.sleep(0.02)
    assert live_processes(token, wait=False)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_processes(token) == []


async def test_cancelling_at_any_moment_leaves_nothing_behind(tmp_path: Path, live_processes):
    # Cancel after 0, 1, 2, ... event-loop turns: some land while the process is still being
    # started (pipes not yet connected), where asyncio itself would only kill the shell.
    token = sleeper()
    for turns in range(12):
        task = asyncio.create_task(
            run_commands([f"sleep {token} & sleep {token}"], cwd=tmp_path, sandbox=None)
        )
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert live_processes(token) == []


async def test_output_is_capped_keeping_head_and_tail(tmp_path: Path):
    (result,) = await run_commands(
        ["seq 1 100000; seq 1 5 >&2"], cwd=tmp_path, sandbox=None, max_output=200
    )
    assert result.truncated
    assert result.stdout.startswith("1\n2\n3\n")
    assert result.stdout.endswith("99999\n100000\n")
    full = sum(len(f"{n}\n") for n in range(1, 100_001))
    assert f"[... {full - 200} bytes of output omitted ...]" in result.stdout
    assert len(result.stdout) < 300
    assert result.stderr == "1\n2\n3\n4\n5\n"


async def test_signals_and_unstartable_commands_report_exit_codes(tmp_path: Path):
    (killed,) = await run_commands(["kill -TERM $$"], cwd=tmp_path, sandbox=None)
    assert killed.exit_code == 143
    (missing,) = await run_commands(["no-such-command-xyz"], cwd=tmp_path, sandbox=None)
    assert missing.exit_code == 127 and "not found" in missing.stderr
    (nowhere,) = await run_commands(["ls"], cwd=tmp_path / "gone", sandbox=None)
    assert nowhere.exit_code == 127 and "could not start the command" in nowhere.stderr


_SECRETS = {
    "OPENAI_API_KEY": "sk-test-very-secret",
    "CODEAGENT_API_KEY": "sk-codeagent-secret",
    "AWS_ACCESS_KEY_ID": "AKIA-secret",
    "DATABASE_URL": "postgres://u:pw@db/x",
    "GITHUB_PAT": "ghp-secret",
    "GH_AUTH": "gh-secret",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
    "SENTRY_DSN": "https://secret@sentry",
    "NPM_CONFIG__AUTH": "npm-secret",
}


async def test_secrets_are_not_visible_to_unsandboxed_commands(tmp_path: Path, monkeypatch):
    for name, value in _SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MY_TOOL_SETTING", "visible-value")
    (result,) = await run_commands(["env"], cwd=tmp_path, sandbox=None)
    for name, value in _SECRETS.items():
        assert name not in result.stdout and value not in result.stdout
    assert "visible-value" in result.stdout


def test_shell_call_output_item_shape():
    results = [
        CommandResult("ls", 0, "a\n", "", False, False),
        CommandResult("sleep 9", None, "", "timed out\n", True, False),
    ]
    assert shell_call_output_item("call_1", results, 12_000) == {
        "type": "shell_call_output",
        "call_id": "call_1",
        "max_output_length": 12_000,
        "output": [
            {"stdout": "a\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}},
            {"stdout": "", "stderr": "timed out\n", "outcome": {"type": "timeout"}},
        ],
    }
    text = format_results(results)
    assert text == "$ ls\n(exit code 0)\na\n\n$ sleep 9\n(timed out)\n[stderr]\ntimed out"


def test_function_tool_and_argument_parsing():
    assert SHELL_FUNCTION_TOOL["name"] == "shell" and SHELL_FUNCTION_TOOL["strict"] is True
    assert parse_shell_arguments('{"commands": ["ls", "pwd"], "timeout_ms": null}') == (
        ["ls", "pwd"],
        None,
        None,
    )
    assert parse_shell_action({"commands": ["ls"], "timeout_ms": 5, "max_output_length": 9}) == (
        ["ls"],
        5,
        9,
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{bad", "not valid JSON"),
        ("[]", "must be an object"),
        ('{"commands": []}', "non-empty list of 'commands'"),
        ('{"commands": "ls"}', "non-empty list of 'commands'"),
        ('{"commands": ["ls", ""]}', "non-empty string"),
        ('{"commands": ["ls"], "timeout_ms": -1}', "'timeout_ms' must be a positive integer"),
        ('{"commands": ["ls"], "timeout_ms": true}', "'timeout_ms' must be a positive integer"),
        ('{"commands": ["ls"], "max_output_length": 0}', "'max_output_length' must be a positive"),
    ],
)
def test_bad_arguments_are_explained(arguments, expected):
    with pytest.raises(ShellArgumentsError) as info:
        parse_shell_arguments(arguments)
    assert expected in str(info.value)


@given(
    st.binary(max_size=400), st.lists(st.integers(min_value=1, max_value=50)), st.integers(0, 120)
)
def test_head_tail_buffer_matches_cutting_the_whole(data, cuts, limit):
    chunked = HeadTailBuffer(limit)
    position = 0
    for size in cuts:
        chunked.feed(data[position : position + size])
        position += size
    chunked.feed(data[position:])
    whole = HeadTailBuffer(limit)
    whole.feed(data)
    assert chunked.text() == whole.text() and chunked.total == len(data)
    if len(data) <= limit:
        assert not chunked.truncated and chunked.text() == data.decode("utf-8", errors="replace")
    else:
        head, tail = data[: limit // 2], data[len(data) - (limit - limit // 2) :]
        assert bytes(chunked.head) == head and bytes(chunked.tail) == tail


def test_cap_text():
    assert cap_text("short", 100) == ("short", False)
    text, cut = cap_text("a" * 50 + "b" * 50, 20)
    assert cut and text.startswith("a" * 10) and text.endswith("b" * 10)
