"""Tool calls as the agent sees them, whatever item shape the model used, and the output items
that answer them.

The model can call a tool as a built-in item (``apply_patch_call``, ``shell_call``), a function
call (``function_call`` named ``apply_patch``, ``shell`` or ``update_plan``) or a freeform custom
call (``custom_tool_call``). ``ToolCall.from_item`` turns each into one shape; ``output_item``
builds the answer item of the matching type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from codeagent.agent.tools.patch import PatchError, patch_text_from_arguments
from codeagent.agent.tools.shell import ShellArgumentsError, parse_shell_action
from codeagent.responses.events import TOOL_CALL_TYPES

#: Sent back to the model for calls that never ran because the user interrupted the turn.
INTERRUPTED_OUTPUT = "interrupted by the user: this call did not run"


@dataclass
class ToolCall:
    """One tool call. ``tool`` is ``apply_patch``, ``shell``, ``update_plan`` or another name.

    ``problem`` is set when the call is malformed (its arguments are not what the tool takes);
    the model is told so instead of the tool running.
    """

    call_id: str
    item_type: str
    tool: str
    arguments: str = ""
    operation: dict[str, Any] | None = None
    patch_text: str | None = None
    commands: list[str] = field(default_factory=list)
    timeout_ms: int | None = None
    max_output: int | None = None
    problem: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ToolCall:
        """Read a tool-call output item (one of ``TOOL_CALL_TYPES``)."""
        item_type = str(item.get("type"))
        call_id = str(item.get("call_id") or item.get("id") or "")
        if item_type == "apply_patch_call":
            operation = item.get("operation")
            call = cls(call_id, item_type, "apply_patch")
            if isinstance(operation, dict):
                call.operation = operation
                call.arguments = json.dumps(operation)
            else:
                call.problem = "the apply_patch_call has no operation"
            return call
        if item_type == "shell_call":
            action = item.get("action")
            call = cls(call_id, item_type, "shell", arguments=json.dumps(action))
            _read_shell_arguments(call, action)
            return call
        if item_type == "custom_tool_call":
            name = str(item.get("name", ""))
            text = str(item.get("input", ""))
            call = cls(call_id, item_type, name, arguments=text)
            if name == "apply_patch":
                call.patch_text = text
            return call
        # function_call
        name = str(item.get("name", ""))
        arguments = str(item.get("arguments", ""))
        call = cls(call_id, item_type, name, arguments=arguments)
        if name == "apply_patch":
            try:
                call.patch_text = patch_text_from_arguments(arguments)
            except PatchError as exc:
                call.problem = str(exc)
        elif name == "shell":
            try:
                data = json.loads(arguments)
            except json.JSONDecodeError as exc:
                call.problem = f"the arguments are not valid JSON ({exc})"
                return call
            _read_shell_arguments(call, data)
        return call

    def describe(self) -> str:
        """A one-line title for a UI row."""
        if self.tool == "shell":
            return " && ".join(self.commands) or "shell"
        if self.tool == "apply_patch":
            if self.operation:
                verb = {"create_file": "Create", "delete_file": "Delete"}.get(
                    str(self.operation.get("type")), "Edit"
                )
                return f"{verb} {self.operation.get('path', '')}".strip()
            return "Apply a patch"
        return self.tool


def _read_shell_arguments(call: ToolCall, data: Any) -> None:
    # The shell tool's own parser, so the bounds and type checks are the ones that run.
    try:
        call.commands, call.timeout_ms, call.max_output = parse_shell_action(data)
    except ShellArgumentsError as exc:
        call.problem = str(exc)


def tool_calls_in(output: list[dict[str, Any]]) -> list[ToolCall]:
    """The tool calls among a response's output items, in order."""
    return [ToolCall.from_item(item) for item in output if item.get("type") in TOOL_CALL_TYPES]


def output_item(call: ToolCall, text: str, *, success: bool = True) -> dict[str, Any]:
    """A text answer to ``call`` in the item type its call needs.

    For a built-in ``shell_call`` every command gets an entry carrying ``text`` on stderr (used
    for rejections, interruptions and malformed calls; real runs use the shell tool's builder).
    """
    if call.item_type == "apply_patch_call":
        return {
            "type": "apply_patch_call_output",
            "call_id": call.call_id,
            "status": "completed" if success else "failed",
            "output": text,
        }
    if call.item_type == "shell_call":
        entries = [
            {"stdout": "", "stderr": text, "outcome": {"type": "exit", "exit_code": 1}}
            for _ in call.commands or [""]
        ]
        return {"type": "shell_call_output", "call_id": call.call_id, "output": entries}
    if call.item_type == "custom_tool_call":
        return {"type": "custom_tool_call_output", "call_id": call.call_id, "output": text}
    return {"type": "function_call_output", "call_id": call.call_id, "output": text}


def answered_call_ids(items: list[dict[str, Any]]) -> set[str]:
    """The call ids that already have an output item in ``items``."""
    return {
        str(item.get("call_id"))
        for item in items
        if str(item.get("type", "")).endswith("_output") and item.get("call_id")
    }


def _call_id(item: dict[str, Any]) -> str:
    return str(item.get("call_id") or item.get("id") or "")  # as ``ToolCall.from_item`` reads it


def unanswered_outputs(items: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Outputs saying ``text`` for every tool call in ``items`` that has no output yet."""
    answered = answered_call_ids(items)
    # Runs before every model call over the whole history: only the calls left without an
    # output are parsed (parsing every past call made each turn cost O(history)).
    return [
        output_item(ToolCall.from_item(item), text, success=False)
        for item in items
        if item.get("type") in TOOL_CALL_TYPES and _call_id(item) not in answered
    ]


__all__ = [
    "INTERRUPTED_OUTPUT",
    "ToolCall",
    "answered_call_ids",
    "output_item",
    "tool_calls_in",
    "unanswered_outputs",
]
