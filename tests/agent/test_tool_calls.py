"""Tool-call items of every shape become one ``ToolCall``; answers use the matching item type."""

from __future__ import annotations

import json

import pytest

from codeagent.agent.tool_calls import (
    ToolCall,
    answered_call_ids,
    output_item,
    tool_calls_in,
    unanswered_outputs,
)
from codeagent.agent.tools.shell import MAX_OUTPUT_LIMIT, MAX_TIMEOUT_MS


def test_builtin_items() -> None:
    patch = ToolCall.from_item(
        {"type": "apply_patch_call", "call_id": "c1",
         "operation": {"type": "delete_file", "path": "old.py"}}
    )  # fmt: skip
    assert (patch.tool, patch.operation["path"], patch.problem) == ("apply_patch", "old.py", None)
    assert patch.describe() == "Delete old.py"
    shell = ToolCall.from_item(
        {"type": "shell_call", "call_id": "c2",
         "action": {"commands": ["ls", "pwd"], "timeout_ms": 500, "max_output_length": 99}}
    )  # fmt: skip
    assert shell.commands == ["ls", "pwd"] and shell.timeout_ms == 500 and shell.max_output == 99
    assert shell.describe() == "ls && pwd"


def test_function_and_custom_items() -> None:
    call = ToolCall.from_item(
        {"type": "function_call", "call_id": "c3", "name": "apply_patch",
         "arguments": json.dumps({"input": "*** Begin Patch\n*** End Patch\n"})}
    )  # fmt: skip
    assert call.patch_text.startswith("*** Begin Patch")
    call = ToolCall.from_item(
        {"type": "function_call", "call_id": "c4", "name": "shell",
         "arguments": json.dumps({"commands": ["make test"], "timeout_ms": None})}
    )  # fmt: skip
    assert call.commands == ["make test"] and call.timeout_ms is None and call.problem is None
    custom = ToolCall.from_item(
        {"type": "custom_tool_call", "call_id": "c5", "name": "apply_patch", "input": "P"}
    )
    assert custom.patch_text == "P"
    assert output_item(custom, "ok")["type"] == "custom_tool_call_output"


def test_malformed_calls_are_flagged_not_raised() -> None:
    bad_json = ToolCall.from_item(
        {"type": "function_call", "call_id": "c", "name": "shell", "arguments": "{nope"}
    )
    assert "not valid JSON" in bad_json.problem
    no_commands = ToolCall.from_item({"type": "shell_call", "call_id": "c", "action": {}})
    assert "commands" in no_commands.problem
    empty_command = ToolCall.from_item(
        {"type": "shell_call", "call_id": "c", "action": {"commands": ["  "]}}
    )
    assert empty_command.problem
    no_input = ToolCall.from_item(
        {"type": "function_call", "call_id": "c", "name": "apply_patch", "arguments": "{}"}
    )
    assert "input" in no_input.problem
    no_operation = ToolCall.from_item({"type": "apply_patch_call", "call_id": "c"})
    assert "operation" in no_operation.problem


def test_output_items_match_the_call_type() -> None:
    shell = ToolCall("c1", "shell_call", "shell", commands=["a", "b"])
    item = output_item(shell, "rejected", success=False)
    assert item["type"] == "shell_call_output" and len(item["output"]) == 2
    assert item["output"][0]["outcome"] == {"type": "exit", "exit_code": 1}
    patch = ToolCall("c2", "apply_patch_call", "apply_patch")
    assert output_item(patch, "no", success=False)["status"] == "failed"
    function = ToolCall("c3", "function_call", "update_plan")
    assert output_item(function, "ok") == {
        "type": "function_call_output", "call_id": "c3", "output": "ok",
    }  # fmt: skip


def test_unanswered_calls_get_outputs() -> None:
    items = [
        {"type": "message", "role": "user", "content": []},
        {"type": "shell_call", "call_id": "a", "action": {"commands": ["ls"]}},
        {"type": "shell_call_output", "call_id": "a", "output": []},
        {"type": "function_call", "call_id": "b", "name": "update_plan", "arguments": "{}"},
    ]
    assert [c.call_id for c in tool_calls_in(items)] == ["a", "b"]
    assert answered_call_ids(items) == {"a"}
    [answer] = unanswered_outputs(items, "interrupted")
    assert answer == {"type": "function_call_output", "call_id": "b", "output": "interrupted"}


def test_only_the_unanswered_calls_of_a_long_history_get_outputs() -> None:
    """Interrupted in the middle of a long session: every earlier call keeps its own output;
    the two left open (a built-in shell call with two commands, one known only by its ``id``)
    get one answer each, in the shape their call needs."""
    items: list[dict] = [{"type": "message", "role": "user", "content": []}]
    for i in range(50):
        items.append({"type": "shell_call", "call_id": f"c{i}", "action": {"commands": ["ls"]}})
        items.append({"type": "shell_call_output", "call_id": f"c{i}", "output": []})
    items.append({"type": "shell_call", "call_id": "open", "action": {"commands": ["a", "b"]}})
    items.append({"type": "custom_tool_call", "id": "ct", "name": "apply_patch", "input": "x"})
    answers = unanswered_outputs(items, "interrupted")
    assert [(a["type"], a["call_id"]) for a in answers] == [
        ("shell_call_output", "open"),
        ("custom_tool_call_output", "ct"),
    ]
    assert [e["stderr"] for e in answers[0]["output"]] == ["interrupted", "interrupted"]
    assert unanswered_outputs([*items, *answers], "interrupted") == []


@pytest.mark.parametrize(
    "item",
    [
        {"type": "function_call", "call_id": "c", "name": "shell",
         "arguments": json.dumps({"commands": ["make test"], "timeout_ms": True})},
        {"type": "shell_call", "call_id": "c",
         "action": {"commands": ["make test"], "timeout_ms": True}},
    ],
)  # fmt: skip
def test_a_boolean_timeout_is_an_error_not_a_one_millisecond_timeout(item) -> None:
    # The live parser used to read ``true`` as 1 (bool is an int) and kill the command at once.
    call = ToolCall.from_item(item)
    assert call.problem == "'timeout_ms' must be a positive integer or null, not true"
    assert call.timeout_ms is None


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"commands": "ls"}, "non-empty list of 'commands'"),
        ({"commands": ["ls"], "max_output_length": "9"}, "'max_output_length' must be"),
        ({"commands": ["ls"], "timeout_ms": 1.5}, "'timeout_ms' must be a positive integer"),
        ([], "must be an object"),
    ],
)
def test_shell_arguments_are_checked_by_the_strict_parser(arguments, problem) -> None:
    call = ToolCall.from_item(
        {"type": "function_call", "call_id": "c", "name": "shell",
         "arguments": json.dumps(arguments)}
    )  # fmt: skip
    assert problem in call.problem


def test_limits_above_the_bounds_are_cut_to_them() -> None:
    call = ToolCall.from_item(
        {"type": "shell_call", "call_id": "c",
         "action": {"commands": ["yes"], "timeout_ms": 10**12, "max_output_length": 2 * 10**9}}
    )  # fmt: skip
    assert (call.timeout_ms, call.max_output) == (MAX_TIMEOUT_MS, MAX_OUTPUT_LIMIT)
    assert MAX_TIMEOUT_MS == 600_000 and MAX_OUTPUT_LIMIT == 1 << 20


def test_patch_function_arguments_use_the_patch_tool_parser() -> None:
    alias = ToolCall.from_item(
        {"type": "function_call", "call_id": "c", "name": "apply_patch",
         "arguments": json.dumps({"patch": "*** Begin Patch\n*** End Patch\n"})}
    )  # fmt: skip
    assert alias.problem.startswith('the arguments must be {"input": "<the patch text>"}')
    broken = ToolCall.from_item(
        {"type": "function_call", "call_id": "c", "name": "apply_patch", "arguments": "{x"}
    )
    assert "not valid JSON" in broken.problem
