"""Reading conversation items the way the server needs them: normalising input, finding the last
user message, counting model turns and estimating tokens."""

from __future__ import annotations

import json
import math
from typing import Any

#: Item types that only the model produces; a run of them is one model response.
MODEL_ITEM_TYPES = frozenset(
    {
        "reasoning",
        "function_call",
        "custom_tool_call",
        "apply_patch_call",
        "shell_call",
        "local_shell_call",
    }
)


def normalize_input(value: Any) -> list[dict[str, Any]]:
    """The request's ``input`` as a list of item dicts (a string becomes one user message)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [user_message(value)]
    items = []
    for item in value:
        if isinstance(item, dict) and "type" not in item and "role" in item:
            # EasyInputMessage: {"role": "user", "content": "..."} has no type.
            item = {"type": "message", **item}
        items.append(item)
    return items


def user_message(text: str) -> dict[str, Any]:
    """A user message item carrying ``text``."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def message_text(item: dict[str, Any]) -> str:
    """The text of a message item (string content or its text parts)."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and "text" in part
        )
    return ""


def is_user_message(item: dict[str, Any]) -> bool:
    return item.get("type") == "message" and item.get("role") == "user"


def is_model_item(item: dict[str, Any]) -> bool:
    """Whether ``item`` was produced by the model (assistant messages and tool calls)."""
    kind = item.get("type")
    if kind == "message":
        return item.get("role") == "assistant"
    return kind in MODEL_ITEM_TYPES


def last_user_index(items: list[dict[str, Any]]) -> int | None:
    """Index of the last user message, or None when there is none."""
    for index in range(len(items) - 1, -1, -1):
        if is_user_message(items[index]):
            return index
    return None


def last_user_text(items: list[dict[str, Any]]) -> str:
    """Text of the last user message ("" when there is none)."""
    index = last_user_index(items)
    return "" if index is None else message_text(items[index])


def responses_since_last_user(items: list[dict[str, Any]]) -> int:
    """How many model responses follow the last user message: each run of consecutive model
    items counts as one response (tool outputs separate the runs)."""
    start = last_user_index(items)
    count = 0
    in_run = False
    for item in items[(start + 1) if start is not None else 0 :]:
        if is_model_item(item):
            if not in_run:
                count += 1
            in_run = True
        else:
            in_run = False
    return count


def estimate_tokens(value: Any) -> int:
    """A rough token count (4 characters per token) of a string or a JSON value."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return math.ceil(len(text) / 4)


def context_tokens(instructions: str | None, items: list[dict[str, Any]]) -> int:
    """Estimated input tokens of a context: instructions plus every item."""
    return estimate_tokens(instructions or "") + sum(estimate_tokens(i) for i in items)
