"""Scripts for the scripted model: what the "model" emits at each step of a conversation.

A :class:`Script` is a list of :class:`Episode` s. The last user message of a request selects the
first episode whose ``match`` regex matches it; the number of model responses already made after
that user message selects the :class:`Step`. Both are read from the conversation itself, so a
resend or a reconnect replays the same step.

File format (JSON or TOML, same structure)::

    default_reply = "I have nothing scripted for that."
    [[episodes]]
    match = "fix .*bug"            # optional regex; omitted = matches anything
    [[episodes.steps]]
    first_token_delay = 0.3        # seconds before the first delta (optional)
    tokens_per_second = 200        # streaming speed (optional; omitted = as fast as possible;
                                   # a slow step gives a steer time to arrive mid-stream, and
                                   # the steer cuts the pauses short)
    items = [
      { type = "reasoning", summary = "Looking around first." },
      { type = "shell", commands = ["ls"], timeout_ms = 10000 },
      { type = "text", text = "Done.", phase = "final_answer" },   # phase optional
      { type = "echo", template = "Noted: {user}" },   # text quoting the last user message
      { type = "function_call", name = "exec_command", arguments = { cmd = "ls" } },
      { type = "custom_tool_call", name = "apply_patch", input = "*** Begin Patch\n..." },
      { type = "apply_patch", operation = "update_file", path = "a.py", diff = "@@\n-a\n+b\n" },
      { type = "apply_patch_call", operation = "delete_file", path = "old.py" },
      { type = "shell_call", commands = ["pytest -q"], timeout_ms = 60000 },
      { type = "local_shell_call", command = ["bash", "-lc", "ls"] },
      { type = "update_plan", steps = [["Read code", "completed"]], explanation = "" },
    ]
    # Optional: a fault played with this step, the first `times` times it is played.
    fault = { drop_after_events = 3, times = 1 }
    # or { stall_after_events = 2, stall_seconds = 1.5 }, { error = "server_error", status = 500,
    # message = "..." }, { raw = "{not json" } (a raw frame sent before the events),
    # { malformed_at_event = 4 } (a non-JSON frame in place of event 4)
    # `shell`/`apply_patch` follow the request's tools (a function or custom tool of that name
    # gets a function_call / custom_tool_call); the `*_call` types are sent as they are.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeagent.server import items as conv


class ScriptError(ValueError):
    """A script file or definition that cannot be used; the message says what and where."""


@dataclass(frozen=True)
class StepItem:
    """One output item the scripted model emits. Build with the constructors below."""

    kind: str
    data: dict[str, Any]


def text(value: str, phase: str | None = None) -> StepItem:
    """An assistant message streamed as text deltas. Its ``phase`` is ``commentary`` when the
    same step goes on with a tool call, else ``final_answer``, unless given."""
    if phase not in (None, "commentary", "final_answer"):
        raise ScriptError(f"phase must be commentary or final_answer: {phase!r}")
    return StepItem("text", {"text": value} if phase is None else {"text": value, "phase": phase})


def echo(template: str = "You said: {user}", phase: str | None = None) -> StepItem:
    """An assistant message quoting the conversation's last user message in place of ``{user}``
    (a steer sent mid-turn included), so a test can see what the model was given."""
    if not isinstance(template, str):
        raise ScriptError(f"echo template must be a string: {template!r}")
    return StepItem("echo", {"template": template, "phase": text("", phase).data.get("phase")})


def resolve(step: Step, input_items: list[dict[str, Any]]) -> Step:
    """``step`` with its ``echo`` items turned into text for this conversation."""
    if not any(item.kind == "echo" for item in step.items):
        return step
    said = conv.last_user_text(input_items)
    items = [
        text(item.data["template"].replace("{user}", said), item.data["phase"])
        if item.kind == "echo"
        else item
        for item in step.items
    ]
    return dataclasses.replace(step, items=items)


def reasoning(summary: str) -> StepItem:
    """A reasoning item with a streamed summary."""
    return StepItem("reasoning", {"summary": summary})


def function_call(name: str, arguments: dict[str, Any]) -> StepItem:
    """A ``function_call`` item; ``arguments`` is sent JSON-encoded."""
    return StepItem("function_call", {"name": name, "arguments": arguments})


def apply_patch(type: str, path: str, diff: str = "") -> StepItem:
    """A patch with a V4A ``diff`` (none for delete_file): an ``apply_patch_call``, or the
    call the request's own ``apply_patch`` tool takes (function: ``{"input": patch}``; custom:
    the patch text)."""
    if type not in ("create_file", "update_file", "delete_file"):
        raise ScriptError(f"apply_patch type must be create_file/update_file/delete_file: {type!r}")
    return StepItem("apply_patch", {"operation": type, "path": path, "diff": diff})


def shell(commands: list[str], timeout_ms: int | None = None) -> StepItem:
    """A ``shell_call`` running ``commands`` in order (a ``function_call`` when the request
    offers ``shell`` only as a function tool)."""
    return StepItem("shell", {"commands": list(commands), "timeout_ms": timeout_ms})


def custom_tool_call(name: str, input: str) -> StepItem:
    """A ``custom_tool_call`` of a freeform tool (e.g. Codex's grammar ``apply_patch``), its
    ``input`` streamed as ``response.custom_tool_call_input`` deltas."""
    return StepItem("custom_tool_call", {"name": name, "input": input})


def shell_call(
    commands: list[str], timeout_ms: int | None = None, max_output_length: int | None = None
) -> StepItem:
    """A built-in ``shell_call`` as it is, whatever tools the request offers."""
    data = {"commands": list(commands), "timeout_ms": timeout_ms}
    return StepItem("shell_call", {**data, "max_output_length": max_output_length})


def apply_patch_call(type: str, path: str, diff: str = "") -> StepItem:
    """A built-in ``apply_patch_call`` as it is, whatever tools the request offers."""
    return StepItem("apply_patch_call", apply_patch(type, path, diff).data)


def local_shell_call(command: list[str], timeout_ms: int | None = None) -> StepItem:
    """A legacy ``local_shell_call`` (``exec`` action with an argv ``command``)."""
    return StepItem("local_shell_call", {"command": list(command), "timeout_ms": timeout_ms})


def update_plan(steps: list[tuple[str, str]], explanation: str = "") -> StepItem:
    """An ``update_plan`` function call (Codex's plan tool shape)."""
    plan = [{"step": step, "status": status} for step, status in steps]
    return function_call("update_plan", {"explanation": explanation, "plan": plan})


@dataclass(frozen=True)
class StepFault:
    """A fault played with a step, the first ``times`` times the server plays that step:
    cut the connection after N events, stall, answer with an error, or send a raw frame first."""

    drop_after_events: int | None = None
    stall_after_events: int | None = None
    stall_seconds: float = 0.0
    error: str | None = None
    status: int = 500
    message: str = ""
    raw: str | None = None
    malformed_at_event: int | None = None
    times: int = 1


@dataclass(frozen=True)
class Step:
    """One model response: its items, first-token delay, streaming speed and optional fault."""

    items: list[StepItem]
    first_token_delay: float = 0.0
    tokens_per_second: float | None = None
    fault: StepFault | None = None


@dataclass(frozen=True)
class Episode:
    """A scripted conversation, chosen when ``match`` (a regex) matches the user's message."""

    steps: list[Step]
    match: str | None = None

    def matches(self, user_text: str) -> bool:
        return self.match is None or re.search(self.match, user_text) is not None


@dataclass
class Script:
    """Episodes tried in order; ``default_reply`` answers a message no episode matches."""

    episodes: list[Episode] = field(default_factory=list)
    default_reply: str = "I have nothing scripted for that message."

    def choose(self, input_items: list[dict[str, Any]]) -> Step:
        """The step to play for this full (expanded) conversation."""
        user_text = conv.last_user_text(input_items)
        episode = next((e for e in self.episodes if e.matches(user_text)), None)
        if episode is None:
            return Step([text(self.default_reply)])
        index = conv.responses_since_last_user(input_items)
        if index < len(episode.steps):
            return resolve(episode.steps[index], input_items)
        return Step([text("Done.")])

    @classmethod
    def load(cls, path: str | Path) -> Script:
        """Read a script from a ``.json`` or ``.toml`` file (format in the module docstring)."""
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(f"cannot read script {path}: {exc.strerror or exc}") from exc
        try:
            data = tomllib.loads(raw) if path.suffix == ".toml" else json.loads(raw)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ScriptError(
                f"script {path} is not valid {path.suffix[1:] or 'JSON'}: {exc}"
            ) from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "script") -> Script:
        """Build a script from its decoded file structure."""
        if not isinstance(data, dict):
            raise ScriptError(f"{source}: the top level must be a table/object")
        episodes = []
        for e_index, episode in enumerate(_list(data.get("episodes", []), f"{source}: episodes")):
            where = f"{source}: episodes[{e_index}]"
            if not isinstance(episode, dict):
                raise ScriptError(f"{where} must be a table/object")
            match = episode.get("match")
            if match is not None:
                try:
                    re.compile(match)
                except (re.error, TypeError) as exc:
                    raise ScriptError(f"{where}.match is not a valid regex: {exc}") from exc
            steps = [
                _step(step, f"{where}.steps[{s_index}]")
                for s_index, step in enumerate(_list(episode.get("steps", []), f"{where}.steps"))
            ]
            episodes.append(Episode(steps, match))
        default = data.get("default_reply", cls.default_reply)
        if not isinstance(default, str):
            raise ScriptError(f"{source}: default_reply must be a string")
        return cls(episodes, default)


def echo_script() -> Script:
    """The script used without ``--script``: echo the user's last message."""
    return EchoScript()


class EchoScript(Script):
    """Answers any input with a short streamed message that echoes the last user message."""

    def choose(self, input_items: list[dict[str, Any]]) -> Step:
        said = conv.last_user_text(input_items).strip() or "(nothing)"
        return Step([text(f"You said: {said}")])


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ScriptError(f"{where} must be a list")
    return value


def _step(data: Any, where: str) -> Step:
    if not isinstance(data, dict):
        raise ScriptError(f"{where} must be a table/object")
    delay = data.get("first_token_delay", 0.0)
    speed = data.get("tokens_per_second")
    if not isinstance(delay, int | float) or delay < 0:
        raise ScriptError(f"{where}.first_token_delay must be a number >= 0")
    if speed is not None and (not isinstance(speed, int | float) or speed <= 0):
        raise ScriptError(f"{where}.tokens_per_second must be a number > 0")
    built = [
        _item(item, f"{where}.items[{i}]")
        for i, item in enumerate(_list(data.get("items", []), f"{where}.items"))
    ]
    fault = _fault(data["fault"], f"{where}.fault") if "fault" in data else None
    return Step(built, float(delay), None if speed is None else float(speed), fault)


_FAULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "drop_after_events": int,
    "stall_after_events": int,
    "stall_seconds": (int, float),
    "error": str,
    "status": int,
    "message": str,
    "raw": str,
    "malformed_at_event": int,
    "times": int,
}


def _fault(data: Any, where: str) -> StepFault:
    if not isinstance(data, dict):
        raise ScriptError(f"{where} must be a table/object")
    for key, value in data.items():
        expected = _FAULT_FIELDS.get(key)
        if expected is None:
            raise ScriptError(
                f"{where}: unknown field {key!r} (expected one of {', '.join(_FAULT_FIELDS)})"
            )
        if (
            not isinstance(value, expected)
            or isinstance(value, bool)
            or (isinstance(value, int | float) and value < 0)
        ):
            raise ScriptError(f"{where}.{key} has a wrong type or a negative value: {value!r}")
    return StepFault(**data)


def _item(data: Any, where: str) -> StepItem:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ScriptError(f"{where} must be a table/object with a 'type'")
    kind = data["type"]
    try:
        if kind == "text":
            return text(_str(data, "text", where), data.get("phase"))
        if kind == "reasoning":
            return reasoning(_str(data, "summary", where))
        if kind == "echo":
            return echo(data.get("template", "You said: {user}"), data.get("phase"))
        if kind == "function_call":
            arguments = data.get("arguments", {})
            if not isinstance(arguments, dict):
                raise ScriptError(f"{where}.arguments must be a table/object")
            return function_call(_str(data, "name", where), arguments)
        if kind == "apply_patch":
            return apply_patch(
                _str(data, "operation", where), _str(data, "path", where), data.get("diff", "")
            )
        if kind == "custom_tool_call":
            return custom_tool_call(_str(data, "name", where), _str(data, "input", where))
        if kind == "apply_patch_call":
            return apply_patch_call(
                _str(data, "operation", where), _str(data, "path", where), data.get("diff", "")
            )
        if kind in ("shell", "shell_call"):
            commands = _strings(data, "commands", where)
            if kind == "shell":
                return shell(commands, data.get("timeout_ms"))
            return shell_call(commands, data.get("timeout_ms"), data.get("max_output_length"))
        if kind == "local_shell_call":
            return local_shell_call(_strings(data, "command", where), data.get("timeout_ms"))
        if kind == "update_plan":
            steps = data.get("steps", [])
            if not isinstance(steps, list) or not all(
                isinstance(s, list | tuple) and len(s) == 2 for s in steps
            ):
                raise ScriptError(f"{where}.steps must be a list of [step, status] pairs")
            return update_plan([(str(a), str(b)) for a, b in steps], data.get("explanation", ""))
    except ScriptError as exc:
        if str(exc).startswith(where):
            raise
        raise ScriptError(f"{where}: {exc}") from exc
    raise ScriptError(
        f"{where}: unknown item type {kind!r} "
        "(expected text, echo, reasoning, function_call, custom_tool_call, apply_patch, "
        "apply_patch_call, shell, shell_call, local_shell_call, update_plan)"
    )


def _strings(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ScriptError(f"{where}.{key} must be a list of strings")
    return value


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ScriptError(f"{where}.{key} must be a string")
    return value
