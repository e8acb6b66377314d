"""``POST /v1/responses/compact`` and the expansion of opaque items sent back as input.

A compacted window keeps the user messages and ends in a ``compaction`` item whose
``encrypted_content`` seals the whole history it replaces. When such a window comes back as
input, the compaction item is expanded to that history again (the kept user messages before it
are part of it), so the scripted model sees the real conversation.
"""

from __future__ import annotations

import time
from typing import Any

from codeagent.server import sealing
from codeagent.server.generator import new_id
from codeagent.server.items import context_tokens, estimate_tokens, is_user_message
from codeagent.server.requests import bad


def expand_input(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with every compaction item replaced by the history it seals; reasoning items
    with ``encrypted_content`` are checked. Raises ``RequestError`` for a forged blob."""
    expanded: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        kind = item.get("type")
        if kind == "compaction":
            try:
                history = sealing.unseal("compaction", item.get("encrypted_content"))
            except sealing.SealError as exc:
                raise bad(
                    f"Invalid compaction item at input[{index}]: {exc}.",
                    f"input[{index}].encrypted_content",
                    "invalid_encrypted_content",
                ) from exc
            # The sealed history already holds everything before the compaction item.
            expanded = list(history)
        elif kind == "reasoning" and item.get("encrypted_content") is not None:
            try:
                sealing.unseal("reasoning", item["encrypted_content"])
            except sealing.SealError as exc:
                raise bad(
                    f"Invalid reasoning item at input[{index}]: {exc}.",
                    f"input[{index}].encrypted_content",
                    "invalid_encrypted_content",
                ) from exc
            expanded.append(item)
        else:
            expanded.append(item)
    return expanded


def compact_window(
    model: str, instructions: str | None, history: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``response.compaction`` object for a full (expanded) ``history``."""
    if not history:
        raise bad("Nothing to compact: 'input' is empty.", "input", "empty_input")
    kept = [item for item in history if is_user_message(item)]
    compaction = {
        "id": new_id("cmp"),
        "type": "compaction",
        "encrypted_content": sealing.seal("compaction", history),
    }
    output = [*kept, compaction]
    input_tokens = context_tokens(instructions, history)
    output_tokens = sum(estimate_tokens(i) for i in output)
    return {
        "id": new_id("cmp"),
        "object": "response.compaction",
        "created_at": int(time.time()),
        "model": model,
        "output": output,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }
