"""Turning one scripted :class:`Step` into the Responses API event sequence, with pacing.

The order follows the real API: ``response.created``, ``response.in_progress``, then per output
item ``output_item.added`` -> content/summary parts and deltas -> ``*.done`` ->
``output_item.done``, and finally ``response.completed`` carrying the whole ``output`` and
``usage``. Each event comes with the delay to wait before sending it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codeagent.server import sealing
from codeagent.server.items import estimate_tokens
from codeagent.server.script import Step, StepItem

#: Tokens per streamed delta chunk.
CHUNK_TOKENS = 3


@dataclass
class Emission:
    """One event and the pause before it is sent."""

    delay: float
    event: dict[str, Any]


def new_id(prefix: str) -> str:
    """A fresh id like the API's (``resp_``, ``msg_``, ``call_`` ...)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def response_object(
    response_id: str, body: dict[str, Any], *, previous_response_id: str | None
) -> dict[str, Any]:
    """The ``response`` object of lifecycle events, echoing the request's settings."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "model": body.get("model", ""),
        "output": [],
        "previous_response_id": previous_response_id,
        "store": bool(body.get("store", False)),
        "instructions": body.get("instructions"),
        "tools": body.get("tools") or [],
        "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "reasoning": body.get("reasoning"),
        "text": body.get("text") or {"format": {"type": "text"}},
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
        "usage": None,
        "error": None,
        "incomplete_details": None,
    }


def usage(input_tokens: int, cached_tokens: int, output: list[dict[str, Any]]) -> dict[str, Any]:
    """A usage object: estimated input/output tokens, cached part and reasoning part."""
    reasoning_tokens = sum(
        estimate_tokens(_summary_text(i)) for i in output if i.get("type") == "reasoning"
    )
    output_tokens = sum(estimate_tokens(_visible(i)) for i in output)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


class EventBuilder:
    """Builds the events of one response and numbers them from 0."""

    def __init__(
        self,
        response: dict[str, Any],
        step: Step,
        *,
        encrypt_reasoning: bool,
        input_tokens: int,
        cached_tokens: int,
        tools: list[dict[str, Any]] | None = None,
        first_sequence: int = 0,
    ):
        self.function_tools = function_tool_names(tools or [])
        self.custom_tools = custom_tool_names(tools or [])
        self.response = response
        self.step = step
        self.encrypt_reasoning = encrypt_reasoning
        self.input_tokens = input_tokens
        self.cached_tokens = cached_tokens
        self.output: list[dict[str, Any]] = []
        self._seq = first_sequence
        self._phase = "final_answer"
        self._first_delta_pending = True

    def events(self) -> Iterator[Emission]:
        """All emissions of the response, ending with ``response.completed``."""
        yield self._emit("response.created", response=dict(self.response))
        yield self._emit("response.in_progress", response=dict(self.response))
        for position, step_item in enumerate(self.step.items):
            self._phase = step_item.data.get("phase") or self._default_phase(position)
            yield from self._item(step_item, len(self.output))
        final = dict(self.response, status="completed", output=list(self.output))
        final["completed_at"] = int(time.time())
        final["usage"] = usage(self.input_tokens, self.cached_tokens, self.output)
        self.response = final
        yield self._emit("response.completed", response=final)

    def incomplete(self, reason: str) -> Emission:
        """``response.incomplete`` ending the response now with the items finished so far
        (``reason`` is e.g. ``steered``: a steer stopped it at an output-item boundary)."""
        final = dict(self.response, status="incomplete", output=list(self.output))
        final["incomplete_details"] = {"reason": reason}
        final["usage"] = usage(self.input_tokens, self.cached_tokens, self.output)
        self.response = final
        return self._emit("response.incomplete", response=final)

    def empty(self) -> Iterator[Emission]:
        """The two events of a ``generate: false`` request (no output)."""
        yield self._emit("response.created", response=dict(self.response))
        final = dict(self.response, status="completed", output=[])
        final["usage"] = usage(self.input_tokens, self.cached_tokens, [])
        self.response = final
        yield self._emit("response.completed", response=final)

    # ------------------------------------------------------------------ items

    def _item(self, step_item: StepItem, index: int) -> Iterator[Emission]:
        data = step_item.data
        if step_item.kind == "text":
            yield from self._message(data["text"], index)
        elif step_item.kind == "reasoning":
            yield from self._reasoning(data["summary"], index)
        elif step_item.kind == "function_call":
            yield from self._function_call(data["name"], json.dumps(data["arguments"]), index)
        elif step_item.kind == "custom_tool_call":
            yield from self._custom_call(data["name"], data["input"], index)
        elif step_item.kind == "apply_patch" and "apply_patch" in self.custom_tools:
            patch = patch_text(data["operation"], data["path"], data["diff"])
            yield from self._custom_call("apply_patch", patch, index)
        elif step_item.kind == "apply_patch" and "apply_patch" in self.function_tools:
            patch = patch_text(data["operation"], data["path"], data["diff"])
            yield from self._function_call("apply_patch", json.dumps({"input": patch}), index)
        elif step_item.kind == "shell" and "shell" in self.function_tools:
            arguments = {"commands": data["commands"], "timeout_ms": data.get("timeout_ms")}
            yield from self._function_call("shell", json.dumps(arguments), index)
        elif step_item.kind in ("apply_patch", "apply_patch_call"):
            operation = {"type": data["operation"], "path": data["path"]}
            if data["operation"] != "delete_file":
                operation["diff"] = data["diff"]
            item = {"type": "apply_patch_call", "id": new_id("apc"), "call_id": new_id("call")}
            yield from self._whole_item(item, {"operation": operation}, index)
        elif step_item.kind in ("shell", "shell_call"):
            action: dict[str, Any] = {"commands": data["commands"]}
            for key in ("timeout_ms", "max_output_length"):
                if data.get(key) is not None:
                    action[key] = data[key]
            item = {"type": "shell_call", "id": new_id("sh"), "call_id": new_id("call")}
            yield from self._whole_item(item, {"action": action}, index)
        elif step_item.kind == "local_shell_call":
            action = {"type": "exec", "command": data["command"], "env": {}}
            if data.get("timeout_ms") is not None:
                action["timeout_ms"] = data["timeout_ms"]
            item = {"type": "local_shell_call", "id": new_id("lsh"), "call_id": new_id("call")}
            yield from self._whole_item(item, {"action": action}, index)
        else:  # pragma: no cover - StepItem constructors only make the kinds above
            raise ValueError(f"unknown step item kind {step_item.kind!r}")

    def _message(self, text: str, index: int) -> Iterator[Emission]:
        item_id = new_id("msg")
        base = {"id": item_id, "type": "message", "role": "assistant", "phase": self._phase}
        yield self._emit(
            "response.output_item.added",
            output_index=index,
            item=dict(base, status="in_progress", content=[]),
        )
        part = {"type": "output_text", "text": "", "annotations": []}
        where: dict[str, Any] = {"item_id": item_id, "output_index": index, "content_index": 0}
        yield self._emit("response.content_part.added", **where, part=part)
        for delay, chunk in self._chunks(text):
            yield self._emit("response.output_text.delta", delay, **where, delta=chunk, logprobs=[])
        yield self._emit("response.output_text.done", **where, text=text, logprobs=[])
        done_part = dict(part, text=text)
        yield self._emit("response.content_part.done", **where, part=done_part)
        item = dict(base, status="completed", content=[done_part])
        self.output.append(item)
        yield self._emit("response.output_item.done", output_index=index, item=item)

    def _reasoning(self, summary: str, index: int) -> Iterator[Emission]:
        item_id = new_id("rs")
        yield self._emit(
            "response.output_item.added",
            output_index=index,
            item={"id": item_id, "type": "reasoning", "summary": []},
        )
        where: dict[str, Any] = {"item_id": item_id, "output_index": index, "summary_index": 0}
        part = {"type": "summary_text", "text": ""}
        yield self._emit("response.reasoning_summary_part.added", **where, part=part)
        for delay, chunk in self._chunks(summary):
            yield self._emit("response.reasoning_summary_text.delta", delay, **where, delta=chunk)
        yield self._emit("response.reasoning_summary_text.done", **where, text=summary)
        done_part = dict(part, text=summary)
        yield self._emit("response.reasoning_summary_part.done", **where, part=done_part)
        item: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": [done_part]}
        if self.encrypt_reasoning:
            item["encrypted_content"] = sealing.seal("reasoning", {"summary": summary})
        self.output.append(item)
        yield self._emit("response.output_item.done", output_index=index, item=item)

    def _function_call(self, name: str, arguments: str, index: int) -> Iterator[Emission]:
        item_id = new_id("fc")
        base = {"id": item_id, "type": "function_call", "call_id": new_id("call"), "name": name}
        yield self._emit(
            "response.output_item.added",
            output_index=index,
            item=dict(base, arguments="", status="in_progress"),
        )
        where: dict[str, Any] = {"item_id": item_id, "output_index": index}
        for delay, chunk in self._chunks(arguments):
            yield self._emit("response.function_call_arguments.delta", delay, **where, delta=chunk)
        yield self._emit(
            "response.function_call_arguments.done", **where, name=name, arguments=arguments
        )
        item = dict(base, arguments=arguments, status="completed")
        self.output.append(item)
        yield self._emit("response.output_item.done", output_index=index, item=item)

    def _custom_call(self, name: str, text: str, index: int) -> Iterator[Emission]:
        """A ``custom_tool_call`` (freeform/grammar tools such as Codex's ``apply_patch``)."""
        item_id = new_id("ctc")
        base = {"id": item_id, "type": "custom_tool_call", "call_id": new_id("call"), "name": name}
        yield self._emit(
            "response.output_item.added",
            output_index=index,
            item=dict(base, input=""),
        )
        where: dict[str, Any] = {"item_id": item_id, "output_index": index}
        for delay, chunk in self._chunks(text):
            yield self._emit("response.custom_tool_call_input.delta", delay, **where, delta=chunk)
        yield self._emit("response.custom_tool_call_input.done", **where, input=text)
        item = dict(base, input=text)
        self.output.append(item)
        yield self._emit("response.output_item.done", output_index=index, item=item)

    def _default_phase(self, position: int) -> str:
        """``commentary`` for a message the model follows with tool calls in the same response
        (a preamble), ``final_answer`` otherwise (what the SDK's ``phase`` means)."""
        later = self.step.items[position + 1 :]
        calls = any(item.kind not in ("text", "reasoning") for item in later)
        return "commentary" if calls else "final_answer"

    def _whole_item(
        self, base: dict[str, Any], fields: dict[str, Any], index: int
    ) -> Iterator[Emission]:
        """Items without delta events (apply_patch_call, shell_call): added, then done after
        the time the model would take to write them."""
        yield self._emit(
            "response.output_item.added",
            output_index=index,
            item=dict(base, status="in_progress", **fields),
        )
        delay = self._pace(estimate_tokens(fields))
        if self._first_delta_pending:
            delay += self.step.first_token_delay
            self._first_delta_pending = False
        item = dict(base, status="completed", **fields)
        self.output.append(item)
        yield self._emit("response.output_item.done", delay, output_index=index, item=item)

    # ------------------------------------------------------------------ pacing

    def _chunks(self, text: str) -> Iterator[tuple[float, str]]:
        size = CHUNK_TOKENS * 4
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        for piece in pieces:
            delay = self._pace(CHUNK_TOKENS)
            if self._first_delta_pending:
                delay = self.step.first_token_delay
                self._first_delta_pending = False
            yield delay, piece

    def _pace(self, tokens: int) -> float:
        speed = self.step.tokens_per_second
        return 0.0 if not speed else tokens / speed

    def _emit(self, event_type: str, delay: float = 0.0, **fields: Any) -> Emission:
        event = {"type": event_type, "sequence_number": self._seq, **fields}
        self._seq += 1
        return Emission(delay, event)


def function_tool_names(tools: list[dict[str, Any]]) -> set[str]:
    """Names of built-in tools (shell, apply_patch) the request offers only as function tools;
    a scripted call of such a tool is then emitted as a ``function_call``, as a model would."""
    builtin = {t.get("type") for t in tools if isinstance(t, dict)}
    functions = {
        t.get("name") for t in tools if isinstance(t, dict) and t.get("type") == "function"
    }
    return {name for name in ("shell", "apply_patch") if name in functions and name not in builtin}


def custom_tool_names(tools: list[dict[str, Any]]) -> set[str]:
    """Names of the request's custom (freeform) tools, e.g. Codex's grammar ``apply_patch``."""
    return {
        t["name"]
        for t in tools
        if isinstance(t, dict) and t.get("type") == "custom" and isinstance(t.get("name"), str)
    }


def patch_text(operation: str, path: str, diff: str) -> str:
    """The V4A patch envelope (``*** Begin Patch`` ...) for one built-in patch operation."""
    if diff and not diff.endswith("\n"):
        diff += "\n"
    header = {
        "create_file": f"*** Add File: {path}\n",
        "update_file": f"*** Update File: {path}\n",
        "delete_file": f"*** Delete File: {path}\n",
    }[operation]
    body = "" if operation == "delete_file" else diff
    return f"*** Begin Patch\n{header}{body}*** End Patch\n"


def _summary_text(item: dict[str, Any]) -> str:
    return "".join(str(p.get("text", "")) for p in item.get("summary", []))


def _visible(item: dict[str, Any]) -> Any:
    if item.get("type") == "message":
        return "".join(str(p.get("text", "")) for p in item.get("content", []))
    if item.get("type") == "reasoning":
        return _summary_text(item)
    return {k: v for k, v in item.items() if k not in ("id", "status")}
