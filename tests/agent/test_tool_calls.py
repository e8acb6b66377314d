"""Tool-call items of every shape become one ``ToolCall``; answers use the matching item type."""

from __future__ import annotations

import json

from codeagent.agent.tool_calls import (
    ToolCall,
    answered_call_ids,
    output_item,
    tool_calls_in,
    unanswered_outputs,
)


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
         "arguments": json.dumps({"commands": "make test", "timeout_ms": None})}
    )  # fmt: skip
    assert call.commands == ["make test"] and call.timeout_ms is None
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
