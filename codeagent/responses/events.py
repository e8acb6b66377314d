"""Typed models of the Responses API server events and output items that codeagent consumes.

Shared by the client (``responses/``) and the local server (``server/``). Every model tolerates
unknown fields, because the API adds fields often; a missing required field is a
``WireFormatError`` that names the event type and the field. Unknown event types become
``UnknownEvent`` and are passed through untouched.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeagent.responses.errors import ResponsesError, WireFormatError, error_from_wire


class WireModel(BaseModel):
    """Base for wire models: unknown fields are kept (``extra="allow"``) and dumped back out.

    Each model's validator is built when it is first used (``defer_build``), not at import:
    that is ~40 models, and the first request should not wait for their schemas.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict for this model, without fields that are ``None``."""
        return self.model_dump(mode="json", exclude_none=True)


# --------------------------------------------------------------------------- usage


class InputTokensDetails(WireModel):
    cached_tokens: int = 0
    cache_write_tokens: int | None = None


class OutputTokensDetails(WireModel):
    reasoning_tokens: int = 0


class Usage(WireModel):
    """Token usage of one response. ``cached_tokens`` is part of ``input_tokens``."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)


# --------------------------------------------------------------------------- output items


class OutputItem(WireModel):
    """Any output item. Specific subclasses below add the fields codeagent reads."""

    type: str
    id: str | None = None
    status: str | None = None


class MessageItem(OutputItem):
    type: Literal["message"] = "message"
    role: str = "assistant"
    content: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The concatenated ``output_text`` (or ``input_text``) parts."""
        return "".join(
            str(p.get("text", ""))
            for p in self.content
            if p.get("type") in ("output_text", "input_text")
        )


class ReasoningItem(OutputItem):
    type: Literal["reasoning"] = "reasoning"
    summary: list[dict[str, Any]] = Field(default_factory=list)
    encrypted_content: str | None = None

    @property
    def summary_text(self) -> str:
        return "\n\n".join(str(p.get("text", "")) for p in self.summary)


class FunctionCallItem(OutputItem):
    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str = ""


class CustomToolCallItem(OutputItem):
    type: Literal["custom_tool_call"] = "custom_tool_call"
    call_id: str
    name: str
    input: str = ""


class ApplyPatchOperation(WireModel):
    type: Literal["create_file", "update_file", "delete_file"]
    path: str
    diff: str | None = None


class ApplyPatchCallItem(OutputItem):
    type: Literal["apply_patch_call"] = "apply_patch_call"
    call_id: str
    operation: ApplyPatchOperation


class ShellAction(WireModel):
    commands: list[str]
    timeout_ms: int | None = None
    max_output_length: int | None = None


class ShellCallItem(OutputItem):
    type: Literal["shell_call"] = "shell_call"
    call_id: str
    action: ShellAction


class CompactionItem(OutputItem):
    type: Literal["compaction"] = "compaction"
    encrypted_content: str | None = None


ITEM_TYPES: dict[str, type[OutputItem]] = {
    "message": MessageItem,
    "reasoning": ReasoningItem,
    "function_call": FunctionCallItem,
    "custom_tool_call": CustomToolCallItem,
    "apply_patch_call": ApplyPatchCallItem,
    "shell_call": ShellCallItem,
    "compaction": CompactionItem,
}

#: Output item types that the client must answer with an output item before the next turn.
TOOL_CALL_TYPES = frozenset({"function_call", "custom_tool_call", "apply_patch_call", "shell_call"})


def parse_item(data: dict[str, Any]) -> OutputItem:
    """Parse one output item; unknown item types become a plain ``OutputItem``."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise WireFormatError(f"output item is not an object with a 'type': {data!r:.200}")
    cls = ITEM_TYPES.get(data["type"], OutputItem)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise WireFormatError(_describe(f"output item {data['type']!r}", exc)) from exc


# --------------------------------------------------------------------------- response object


class ResponseError(WireModel):
    code: str | None = None
    message: str = ""


class ResponseObject(WireModel):
    """The ``response`` carried by lifecycle events."""

    id: str
    object: str = "response"
    status: str | None = None
    output: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage | None = None
    error: ResponseError | None = None
    incomplete_details: dict[str, Any] | None = None
    previous_response_id: str | None = None
    model: str | None = None


# --------------------------------------------------------------------------- server events


class ServerEvent(WireModel):
    """Any server event. ``stream_id`` is echoed on events of a named lane (WebSocket only)."""

    type: str
    sequence_number: int | None = None
    stream_id: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES


class UnknownEvent(ServerEvent):
    """An event type codeagent does not model; kept whole so it can be logged or forwarded."""


class ResponseLifecycleEvent(ServerEvent):
    response: ResponseObject


class ResponseCreated(ResponseLifecycleEvent):
    type: Literal["response.created"] = "response.created"


class ResponseQueued(ResponseLifecycleEvent):
    type: Literal["response.queued"] = "response.queued"


class ResponseInProgress(ResponseLifecycleEvent):
    type: Literal["response.in_progress"] = "response.in_progress"


class ResponseCompleted(ResponseLifecycleEvent):
    type: Literal["response.completed"] = "response.completed"


class ResponseFailed(ResponseLifecycleEvent):
    type: Literal["response.failed"] = "response.failed"


class ResponseIncomplete(ResponseLifecycleEvent):
    type: Literal["response.incomplete"] = "response.incomplete"


class OutputItemAdded(ServerEvent):
    type: Literal["response.output_item.added"] = "response.output_item.added"
    output_index: int
    item: dict[str, Any]


class OutputItemDone(ServerEvent):
    type: Literal["response.output_item.done"] = "response.output_item.done"
    output_index: int
    item: dict[str, Any]


class ContentPartAdded(ServerEvent):
    type: Literal["response.content_part.added"] = "response.content_part.added"
    item_id: str
    output_index: int
    content_index: int
    part: dict[str, Any]


class ContentPartDone(ServerEvent):
    type: Literal["response.content_part.done"] = "response.content_part.done"
    item_id: str
    output_index: int
    content_index: int
    part: dict[str, Any]


class OutputTextDelta(ServerEvent):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    item_id: str
    output_index: int
    content_index: int = 0
    delta: str


class OutputTextDone(ServerEvent):
    type: Literal["response.output_text.done"] = "response.output_text.done"
    item_id: str
    output_index: int
    content_index: int = 0
    text: str


class ReasoningSummaryPartAdded(ServerEvent):
    type: Literal["response.reasoning_summary_part.added"] = "response.reasoning_summary_part.added"
    item_id: str
    output_index: int
    summary_index: int = 0
    part: dict[str, Any] = Field(default_factory=dict)


class ReasoningSummaryPartDone(ServerEvent):
    type: Literal["response.reasoning_summary_part.done"] = "response.reasoning_summary_part.done"
    item_id: str
    output_index: int
    summary_index: int = 0
    part: dict[str, Any] = Field(default_factory=dict)


class ReasoningSummaryTextDelta(ServerEvent):
    type: Literal["response.reasoning_summary_text.delta"] = "response.reasoning_summary_text.delta"
    item_id: str
    output_index: int
    summary_index: int = 0
    delta: str


class ReasoningSummaryTextDone(ServerEvent):
    type: Literal["response.reasoning_summary_text.done"] = "response.reasoning_summary_text.done"
    item_id: str
    output_index: int
    summary_index: int = 0
    text: str


class FunctionCallArgumentsDelta(ServerEvent):
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )
    item_id: str
    output_index: int
    delta: str


class FunctionCallArgumentsDone(ServerEvent):
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    item_id: str
    output_index: int
    arguments: str
    name: str | None = None


class ErrorBody(WireModel):
    type: str | None = None
    code: str | None = None
    message: str = ""
    param: str | None = None


class ErrorEvent(ServerEvent):
    """The ``error`` event. Over WebSocket it is wrapped (``status`` + ``error``); over HTTP/SSE
    it is flat (``code``, ``message`` at top level). ``body`` normalises both."""

    type: Literal["error"] = "error"
    status: int | None = None
    error: ErrorBody | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None

    @property
    def body(self) -> ErrorBody:
        if self.error is not None:
            return self.error
        return ErrorBody(code=self.code, message=self.message or "", param=self.param)

    def to_error(self, headers: dict[str, Any] | None = None) -> ResponsesError:
        """The typed error this event reports (the retry delay read from wherever it is)."""
        return error_from_wire(self.status, self.model_dump(mode="json"), headers)


class SteerRef(WireModel):
    """The steering submission a ``response.steer.*`` event is about. ``id`` is the server's
    (absent on a failure before one was allocated); ``input`` comes back only on a failure."""

    id: str | None = None
    previous_response_id: str | None = None
    input: Any = None


class SteerAccepted(ServerEvent):
    """The server queued the steer; the successor's ``response.created`` commits it."""

    type: Literal["response.steer.accepted"] = "response.steer.accepted"
    steer: SteerRef


class SteerPending(ServerEvent):
    """After ``response.completed``: the steer stays queued until the tool outputs come in one
    ``response.create``, to whose input the server prepends it (do not resend it)."""

    type: Literal["response.steer.pending"] = "response.steer.pending"
    steer: SteerRef
    reason: str = ""
    required_input: list[dict[str, Any]] = Field(default_factory=list)


class SteerFailed(ServerEvent):
    """The steer could not be committed; ``error.code`` says why (``steering_not_supported``,
    ``too_many_pending_steers``, ``response_already_completed``...)."""

    type: Literal["response.steer.failed"] = "response.steer.failed"
    steer: SteerRef = Field(default_factory=SteerRef)
    error: ErrorBody = Field(default_factory=ErrorBody)


#: The server events about steering (they belong to no response's lifecycle).
SteerEvent = SteerAccepted | SteerPending | SteerFailed


def _event_types() -> dict[str, type[ServerEvent]]:
    """Every ``ServerEvent`` class above, by the ``type`` it parses (``UnknownEvent`` aside)."""
    found: dict[str, type[ServerEvent]] = {}
    pending = list(ServerEvent.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        field = cls.model_fields.get("type")
        if cls is not UnknownEvent and field is not None and isinstance(field.default, str):
            found[field.default] = cls
    return found


EVENT_TYPES: dict[str, type[ServerEvent]] = _event_types()

#: A turn ends on one of these and on nothing else. ``response.done`` and ``response.error`` are
#: not in any schema but some servers have sent them; treat them as terminal defensively.
TERMINAL_EVENT_TYPES = frozenset(
    {
        "response.completed",
        "response.failed",
        "response.incomplete",
        "error",
        "response.done",
        "response.error",
    }
)


def parse_event(data: Any) -> ServerEvent:
    """Turn one decoded JSON frame into a typed event.

    Unknown ``type`` values become ``UnknownEvent``; a known type with a missing or mistyped
    required field raises ``WireFormatError`` naming the event and the field.
    """
    if not isinstance(data, dict):
        raise WireFormatError(f"server event is not a JSON object: {data!r:.200}")
    event_type = data.get("type")
    if not isinstance(event_type, str):
        raise WireFormatError(f"server event has no 'type': {data!r:.200}")
    cls = EVENT_TYPES.get(event_type, UnknownEvent)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise WireFormatError(_describe(f"event {event_type!r}", exc)) from exc


def _describe(what: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        problems.append(f"{where}: {err['msg']}")
    return f"malformed {what}: " + "; ".join(problems)
