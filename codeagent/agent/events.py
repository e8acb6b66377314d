"""The events an ``Agent`` yields while it works. The TUI and ``codeagent exec`` consume the same
stream; nothing here knows about Textual or the socket.

Every event is a frozen dataclass with a ``kind`` string so that ``exec --json`` and the session
transcript can serialise it with ``event_to_dict``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class CallMetrics:
    """What one model call cost and how it travelled. Filled by the conversation state."""

    transport: Literal["websocket", "http"] = "websocket"
    chained: bool = False
    bytes_sent: int = 0
    bytes_full_resend: int = 0
    time_to_created: float | None = None
    time_to_first_delta: float | None = None
    total_time: float = 0.0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    response_id: str | None = None
    recoveries: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnMetrics(CallMetrics):
    """A user turn's figures: its model calls summed by ``metrics.sum_metrics`` (times are the
    last call's time to first token and the turn's wall time)."""


@dataclass(frozen=True)
class AgentEvent:
    """Base class of everything ``Agent.submit`` yields."""

    kind: ClassVar[str] = "event"


@dataclass(frozen=True)
class TurnStarted(AgentEvent):
    """The user's message was accepted and the first model call is about to be sent."""

    kind: ClassVar[str] = "turn_started"
    text: str


@dataclass(frozen=True)
class TextDelta(AgentEvent):
    """A piece of the assistant's visible answer."""

    kind: ClassVar[str] = "text_delta"
    item_id: str
    delta: str


@dataclass(frozen=True)
class TextDone(AgentEvent):
    """The assistant message ``item_id`` is complete; ``text`` is its whole text."""

    kind: ClassVar[str] = "text_done"
    item_id: str
    text: str


@dataclass(frozen=True)
class ReasoningDelta(AgentEvent):
    """A piece of a reasoning summary."""

    kind: ClassVar[str] = "reasoning_delta"
    item_id: str
    delta: str


@dataclass(frozen=True)
class ReasoningDone(AgentEvent):
    kind: ClassVar[str] = "reasoning_done"
    item_id: str
    text: str


@dataclass(frozen=True)
class ToolCallProposed(AgentEvent):
    """The model asked for a tool call. ``tool`` is ``apply_patch``, ``shell`` or a function name.

    ``title`` is a one-line human summary (the command, or "Edit 2 files"); ``diff`` is the unified
    diff of a patch against the current files (empty for commands); ``detail`` is the raw input.
    """

    kind: ClassVar[str] = "tool_call"
    call_id: str
    tool: str
    title: str
    detail: str = ""
    diff: str = ""


@dataclass(frozen=True)
class ToolOutput(AgentEvent):
    """A tool call finished (or was rejected); ``output`` is what the model receives."""

    kind: ClassVar[str] = "tool_output"
    call_id: str
    tool: str
    output: str
    success: bool = True
    exit_code: int | None = None
    rejected: bool = False


@dataclass(frozen=True)
class PlanStep:
    step: str
    status: Literal["pending", "in_progress", "completed"] = "pending"


@dataclass(frozen=True)
class PlanUpdated(AgentEvent):
    """The model published its step list via ``update_plan``."""

    kind: ClassVar[str] = "plan"
    steps: tuple[PlanStep, ...]
    explanation: str = ""


@dataclass(frozen=True)
class Notice(AgentEvent):
    """Something the user should know that is not an error: a reconnect, a fallback to HTTP, a
    resend after a lost cache, a checkpoint. ``category`` lets the UI style it."""

    kind: ClassVar[str] = "notice"
    category: Literal["reconnect", "fallback", "recovery", "checkpoint", "info", "warning"]
    text: str


@dataclass(frozen=True)
class StreamRestarted(AgentEvent):
    """The model call streaming now starts over (its connection failed): drop what it has
    shown so far -- the answers and reasoning of ``item_ids`` -- because it streams again as
    new items. A ``Notice`` says why, unless the retry is not worth a word."""

    kind: ClassVar[str] = "stream_restarted"
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransportState(AgentEvent):
    """The connection changed state (for the status bar)."""

    kind: ClassVar[str] = "transport_state"
    state: Literal["connecting", "connected", "reconnecting", "http", "http-fallback", "closed"]


@dataclass(frozen=True)
class ModelCallCompleted(AgentEvent):
    """One model call (one response) finished; a user turn can contain many."""

    kind: ClassVar[str] = "model_call"
    metrics: CallMetrics


@dataclass(frozen=True)
class TurnCompleted(AgentEvent):
    """The agent stopped calling tools and the user's turn is over.

    ``metrics`` sums every model call of the turn (times are the last call's time to first token
    and the whole turn's wall time); ``files_changed`` lists paths the turn wrote.
    """

    kind: ClassVar[str] = "turn_completed"
    metrics: TurnMetrics
    model_calls: int = 1
    tool_calls: int = 0
    files_changed: tuple[str, ...] = ()
    final_text: str = ""


@dataclass(frozen=True)
class SteerSubmitted(AgentEvent):
    """A message typed while the turn ran, to change its course (``Agent.steer``).

    ``via`` is how it travels: ``"steer"`` is a ``response.steer`` event on the socket (models the
    catalog marks as steerable, over WebSocket); ``"next_call"`` rides with the next model call's
    input, after the tool outputs (other models, HTTP, or a steer the server refused).
    """

    kind: ClassVar[str] = "steer_submitted"
    steer_id: str
    text: str
    via: Literal["steer", "next_call"]


@dataclass(frozen=True)
class SteerUpdate(AgentEvent):
    """What became of a ``SteerSubmitted`` message (its receipt).

    ``accepted``: the server owns it (``response.steer.accepted``), not applied yet.
    ``applied``: it is in the model's input (the successor response was created, or it was sent
    with the next call). ``rescheduled``: the server refused the steer (``detail`` says why); it
    goes with the next call instead. ``unapplied``: the turn ended before it could be applied;
    the UI sends it as the next message, so nothing typed is lost.
    """

    kind: ClassVar[str] = "steer_update"
    steer_id: str
    state: Literal["accepted", "applied", "rescheduled", "unapplied"]
    detail: str = ""


@dataclass(frozen=True)
class TurnInterrupted(AgentEvent):
    kind: ClassVar[str] = "turn_interrupted"
    reason: str = "interrupted by the user"


@dataclass(frozen=True)
class AgentError(AgentEvent):
    """A failure the user must see. ``fatal`` means the turn ended because of it."""

    kind: ClassVar[str] = "error"
    message: str
    fatal: bool = True
    code: str | None = None


def event_to_dict(event: AgentEvent) -> dict[str, Any]:
    """A JSON-ready dict of ``event`` with its ``kind`` first (for ``--json`` and transcripts).

    The same dict as ``{"kind": ..., **dataclasses.asdict(event)}``, built without asdict's
    per-value deep copy of strings and numbers: a tool turn converts a few dozen events."""
    data: dict[str, Any] = {"kind": event.kind}
    for name in _field_names(type(event)):
        data[name] = _plain(getattr(event, name))
    return data


#: Values ``dataclasses.asdict`` would copy unchanged (immutable, not containers).
_ATOMIC: frozenset[type] = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _plain(value: Any) -> Any:
    """``value`` as ``dataclasses.asdict`` converts a field (nested dataclasses to dicts)."""
    if type(value) in _ATOMIC:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if type(value) in (tuple, list):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    # namedtuples, dicts, other objects: asdict's own rules
    return dataclasses.asdict(_Holder(value))["value"]


@dataclass(frozen=True)
class _Holder:
    """Carries a rare field value through ``dataclasses.asdict`` for its exact conversion."""

    value: Any


#: ``kind`` -> event class, for ``event_from_dict``
EVENT_KINDS: dict[str, type[AgentEvent]] = {}


def event_from_dict(data: dict[str, Any]) -> AgentEvent | None:
    """The event ``event_to_dict`` made ``data`` from (the inverse), or None when ``data`` is
    no event this version knows (an unknown kind, or fields of the wrong shape).

    Unknown fields are ignored and missing optional ones take their defaults, so transcripts
    written by older versions still read.
    """
    kind = data.get("kind") or data.get("type")
    if kind == "user":  # transcripts of early versions
        kind = "turn_started"
    cls = EVENT_KINDS.get(str(kind))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    try:
        if cls is PlanUpdated:
            values["steps"] = tuple(PlanStep(**step) for step in values.get("steps", ()))
        if "metrics" in values:
            kind = TurnMetrics if cls is TurnCompleted else CallMetrics
            values["metrics"] = _metrics_from_dict(values["metrics"] or {}, kind)
        for name in ("item_ids", "files_changed"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)
    except (TypeError, ValueError):
        return None


def _metrics_from_dict(data: dict[str, Any], kind: type[CallMetrics]) -> CallMetrics:
    names = {f.name for f in dataclasses.fields(kind)}
    values = {k: v for k, v in data.items() if k in names}
    values["recoveries"] = tuple(values.get("recoveries", ()))
    return kind(**values)


def _register_kinds() -> None:
    pending: list[type[AgentEvent]] = list(AgentEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        EVENT_KINDS[cls.kind] = cls
        pending.extend(cls.__subclasses__())


_register_kinds()


__all__ = [
    "AgentError",
    "AgentEvent",
    "ModelCallCompleted",
    "Notice",
    "PlanStep",
    "PlanUpdated",
    "ReasoningDelta",
    "ReasoningDone",
    "SteerSubmitted",
    "SteerUpdate",
    "StreamRestarted",
    "TextDelta",
    "TextDone",
    "ToolCallProposed",
    "ToolOutput",
    "TransportState",
    "TurnCompleted",
    "TurnInterrupted",
    "TurnMetrics",
    "TurnStarted",
    "event_from_dict",
    "event_to_dict",
]
