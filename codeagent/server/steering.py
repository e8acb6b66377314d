"""Steering (``response.steer``) on one WebSocket connection: validating the client event,
queueing accepted input on the response it targets, and what happens at that response's end.

Semantics follow the SDK's docstrings (``openai/types/responses/response_steer_*.py``) and
``/work/shared/docs/responses-websocket.md`` §2.4/§3.5:

- ``response.steer.accepted`` means the server owns the input; the successor's
  ``response.created`` is the commit point. Steer events are numbered in the target's stream.
- A response still generating stops at the next output-item boundary with ``response.incomplete``
  (``incomplete_details.reason = "steered"``); an automatic successor inheriting its settings
  follows on the same lane with the queued input. A response that finishes first completes
  normally and is followed by the automatic successor all the same.
- A response that ends with client-owned tool calls completes; each queued steer then gets
  ``response.steer.pending`` with ``required_input`` stubs, and the next explicit
  ``response.create`` continuing it on the same lane gets the queued input prepended.
- Input that cannot be taken or committed comes back in ``response.steer.failed``.

HTTP has no steering: ``response.steer`` is a WebSocket client event only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from codeagent.responses.catalog import Catalog
from codeagent.server.generator import new_id
from codeagent.server.items import normalize_input
from codeagent.server.requests import bad
from codeagent.server.strict import CALL_OUTPUTS

#: Accepted steers waiting on one response before ``too_many_pending_steers`` (the cap a
#: third-party emulator documents; the real API's number is unpublished).
MAX_PENDING_STEERS = 8
#: Responses a connection remembers as steering targets (the oldest finished ones go first).
MAX_TARGETS = 256
#: The only fields of a ``response.steer`` event (SDK ``ResponseSteerEvent``: "This event accepts
#: only `type`, `previous_response_id`, and `input`. Do not send `stream_id`").
STEER_FIELDS = frozenset({"type", "previous_response_id", "input"})
_MESSAGE_FIELDS = frozenset({"type", "role", "content"})
#: Fields of each content part steering takes (SDK ``ResponseSteerInputContent``).
_COMMON_PART_FIELDS = frozenset({"type", "prompt_cache_breakpoint"})
_PART_FIELDS = {
    "input_text": _COMMON_PART_FIELDS | {"text"},
    "input_image": _COMMON_PART_FIELDS | {"image_url", "file_id", "detail"},
    "input_file": _COMMON_PART_FIELDS | {"file_data", "file_id", "file_url", "filename", "detail"},
}
_PART_SOURCES = {
    "input_text": ("text",),
    "input_image": ("image_url", "file_id"),
    "input_file": ("file_data", "file_id", "file_url"),
}
#: ``required_input`` stub per client-owned call type (SDK ``ResponseSteerRequiredInput``; it
#: has no stub for the legacy ``local_shell_call``, so such a call is not listed).
_STUBS = {call: out for call, (out, _noun) in CALL_OUTPUTS.items() if call != "local_shell_call"}

TargetStatus = Literal["queued", "active", "waiting", "completed", "ended"]


class SteerInputError(ValueError):
    """A steer event or its input failed validation (``invalid_input``)."""


@dataclass
class Steer:
    """One accepted steering submission: its id, the input as sent and as conversation items."""

    id: str
    target_id: str
    input: Any
    items: list[dict[str, Any]]


@dataclass
class Successor:
    """A response to run next on the lane and the accepted steers its ``response.created``
    commits: an automatic successor, or the explicit continuation of a waiting response."""

    payload: dict[str, Any]
    steers: list[Steer]
    automatic: bool


@dataclass
class SteerTarget:
    """A response of this connection as a steering target, and the numbering of its stream."""

    id: str
    lane: str | None
    body: dict[str, Any]
    #: Why steering is refused for this response (``steering_not_supported``), else None.
    unsupported: str | None
    status: TargetStatus = "active"
    seq: int = 0
    queue: list[Steer] = field(default_factory=list)
    #: The items the response finished so far (the event builder's list, growing).
    output: list[dict[str, Any]] = field(default_factory=list)
    _steered: asyncio.Event = field(default_factory=asyncio.Event)

    def stamp(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` numbered next in this response's stream (steer events included)."""
        event["sequence_number"] = self.seq
        self.seq += 1
        return event

    def skip(self) -> None:
        """A number is used by a frame that is not an event (an injected malformed frame)."""
        self.seq += 1

    def _hurries(self) -> bool:
        """Steers wait for the next output boundary: no client-owned tool call was emitted yet
        (after one the response runs to ``response.completed`` and the steers stay pending)."""
        return bool(self.queue) and not client_calls(self.output)

    async def pause(self, delay: float) -> None:
        """The pacing pause before an event. A steer that applies at the next output boundary
        cuts it short (the model hurries there), so the rest of the current item streams at
        once; a steer that waits for the response's end leaves the pace as it was."""
        if delay <= 0 or self._hurries():
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while not self._hurries():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._steered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._steered.wait(), remaining)

    def stops_before(self, event: dict[str, Any]) -> bool:
        """Whether the response ends (steered) instead of sending ``event``: steers wait for
        the next output boundary and ``event`` starts a new output item."""
        return self._hurries() and event.get("type") == "response.output_item.added"


class SteerBook:
    """The steering targets of one connection: accepting steers and settling them."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.targets: OrderedDict[str, SteerTarget] = OrderedDict()

    # ------------------------------------------------------------------ targets

    def queued(self, response_id: str, lane: str | None, body: dict[str, Any]) -> None:
        """A response announced with ``response.queued``: known, not steerable yet."""
        self._add(SteerTarget(response_id, lane, body, self._unsupported(body), "queued", seq=1))

    def open(
        self,
        response_id: str,
        lane: str | None,
        body: dict[str, Any],
        first_sequence: int,
        output: list[dict[str, Any]],
    ) -> SteerTarget:
        """A response about to send ``response.created`` (``output``: the list its finished
        items go to): steerable until it ends."""
        target = SteerTarget(
            response_id, lane, body, self._unsupported(body), seq=first_sequence, output=output
        )
        self._add(target)
        return target

    def _add(self, target: SteerTarget) -> None:
        self.targets[target.id] = target
        self.targets.move_to_end(target.id)
        for key in list(self.targets):
            if len(self.targets) <= MAX_TARGETS:
                break
            if self.targets[key].status in ("completed", "ended", "queued"):
                del self.targets[key]

    def _unsupported(self, body: dict[str, Any]) -> str | None:
        model = body.get("model")
        info = self.catalog.get(model) if isinstance(model, str) else None
        if info is None or not info.steering:
            return f"The model '{model}' does not support steering."
        if body.get("context_management"):
            return (
                "Responses that use automatic compaction (context_management) do not support "
                "steering."
            )
        if body.get("conversation"):
            return "Responses bound to a conversation do not support steering."
        return None

    # ------------------------------------------------------------------ submitting

    def submit(self, payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The answer to one ``response.steer`` event and the lane it goes out on.

        Raises ``RequestError`` (an ordinary ``error`` event) for a frame that names no target
        or carries no input at all: ``response.steer.failed`` requires both
        ``steer.previous_response_id`` and ``steer.input`` (SDK ``ResponseSteerFailedEvent``),
        so there is nothing to return them in. Everything else wrong with the event is
        ``invalid_input`` ("The event or input failed validation", SDK ``Error.code``).
        """
        target_id = payload.get("previous_response_id")
        raw_input = payload.get("input")
        if not isinstance(target_id, str) or not target_id:
            raise bad(
                "Missing required parameter: 'previous_response_id' (the id of the response to "
                "steer).",
                "previous_response_id",
                "missing_required_parameter",
            )
        if not isinstance(raw_input, str | list):
            raise bad(
                "Missing required parameter: 'input' (a string or an array of user messages).",
                "input",
                "missing_required_parameter",
            )
        target = self.targets.get(target_id)

        def refuse(code: str, message: str, steer_id: str | None = None) -> tuple[Any, Any]:
            event = failed_event(target_id, raw_input, code, message, steer_id)
            if target is None:
                event["sequence_number"] = 0
                return event, None
            return target.stamp(event), target.lane

        try:
            items = steer_items(payload)
        except SteerInputError as exc:
            return refuse("invalid_input", str(exc))
        if target is None:
            return refuse(
                "response_not_found",
                f"Response '{target_id}' is not available on this connection.",
            )
        if target.unsupported is not None:
            return refuse("steering_not_supported", target.unsupported)
        if target.status == "completed" or target.status == "waiting":
            return refuse(
                "response_already_completed",
                f"Response '{target_id}' has completed and no longer accepts steering input.",
            )
        if target.status != "active":
            return refuse(
                "response_not_active",
                f"Response '{target_id}' is not active and does not accept steering input.",
            )
        if len(target.queue) >= MAX_PENDING_STEERS:
            return refuse(
                "too_many_pending_steers",
                f"Response '{target_id}' already has {MAX_PENDING_STEERS} pending steering "
                "submissions; wait for them to be applied.",
            )
        steer = Steer(new_id("steer"), target_id, raw_input, items)
        target.queue.append(steer)
        target._steered.set()
        accepted = {
            "type": "response.steer.accepted",
            "steer": {"id": steer.id, "previous_response_id": target_id},
        }
        return target.stamp(accepted), target.lane

    # ------------------------------------------------------------------ settling

    def finish(
        self, target: SteerTarget, ended: str
    ) -> tuple[list[dict[str, Any]], Successor | None]:
        """Settle a response's steers once its terminal event (``ended`` = its type) is sent:
        the ``response.steer.pending`` events to send and the automatic successor to run."""
        steers, target.queue = target.queue, []
        if ended != "response.completed":
            target.status = "ended"
        elif steers and client_calls(target.output):
            target.status = "waiting"
            target.queue = steers
            stubs = required_input(target.output)
            return [target.stamp(pending_event(target.id, s.id, stubs)) for s in steers], None
        else:
            target.status = "completed"
        if not steers:
            return [], None
        payload = {
            **target.body,
            "previous_response_id": target.id,
            "input": [item for steer in steers for item in steer.items],
        }
        payload.pop("generate", None)
        return [], Successor(payload, steers, automatic=True)

    def claim(self, payload: dict[str, Any], lane: str | None) -> Successor | None:
        """An explicit ``response.create`` continuing a response whose steers are pending on
        the same lane: the create with the queued input prepended, in submission order."""
        target = self.targets.get(str(payload.get("previous_response_id")))
        if target is None or target.status != "waiting" or target.lane != lane:
            return None
        own = payload.get("input")
        if own is not None and not isinstance(own, str | list):
            return None  # the create is rejected as it is; the steers stay pending
        steers, target.queue = target.queue, []
        target.status = "completed"
        prepended = [item for steer in steers for item in steer.items]
        return Successor({**payload, "input": prepended + normalize_input(own)}, steers, False)

    def uncommitted(self, successor: Successor, reason: str) -> list[tuple[dict[str, Any], Any]]:
        """``response.steer.failed`` (``successor_creation_failed``) for each steer of a successor
        that could not be created, in its target's stream; the input goes back to the client."""
        events: list[tuple[dict[str, Any], str | None]] = []
        for steer in successor.steers:
            event = failed_event(
                steer.target_id,
                steer.input,
                "successor_creation_failed",
                f"The successor response could not be created: {reason}",
                steer.id,
            )
            target = self.targets.get(steer.target_id)
            if target is None:
                event["sequence_number"] = 0
                events.append((event, None))
            else:
                events.append((target.stamp(event), target.lane))
        return events


# ---------------------------------------------------------------------- validation


def steer_items(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The steer's input as user message items; ``SteerInputError`` says what is wrong."""
    extra = sorted(set(payload) - STEER_FIELDS)
    if "stream_id" in extra:
        raise SteerInputError(
            "Unknown parameter: 'stream_id'. response.steer accepts only 'type', "
            "'previous_response_id' and 'input'; the target response determines the lane."
        )
    if extra:
        raise SteerInputError(
            f"Unknown parameter: '{extra[0]}'. response.steer accepts only 'type', "
            "'previous_response_id' and 'input'."
        )
    value = payload["input"]
    if isinstance(value, str):
        if not value:
            raise SteerInputError("Invalid 'input': expected a non-empty string.")
        return normalize_input(value)
    if not value:
        raise SteerInputError("Invalid 'input': expected a non-empty array of user messages.")
    for index, item in enumerate(value):
        _check_message(item, f"input[{index}]")
    return normalize_input(value)


def _check_message(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise SteerInputError(f"Invalid '{where}': expected a user message object.")
    if item.get("type", "message") != "message":
        raise SteerInputError(
            f"Invalid '{where}.type': steering accepts only user messages (type 'message'), "
            f"not {item.get('type')!r}."
        )
    if item.get("role") != "user":
        raise SteerInputError(
            f"Invalid '{where}.role': steering accepts only messages with the 'user' role, "
            f"not {item.get('role')!r}."
        )
    extra = sorted(set(item) - _MESSAGE_FIELDS)
    if extra:
        raise SteerInputError(
            f"Unknown parameter: '{where}.{extra[0]}'. A steering message may contain only "
            "'type', 'role' and 'content'."
        )
    content = item.get("content")
    if isinstance(content, str):
        if not content:
            raise SteerInputError(f"Invalid '{where}.content': expected a non-empty string.")
        return
    if not isinstance(content, list) or not content:
        raise SteerInputError(
            f"Invalid '{where}.content': expected a string or a non-empty array of "
            "input_text, input_image and input_file parts."
        )
    for index, part in enumerate(content):
        _check_part(part, f"{where}.content[{index}]")


def _check_part(part: Any, where: str) -> None:
    kind = part.get("type") if isinstance(part, dict) else None
    allowed = _PART_FIELDS.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict) or not isinstance(kind, str) or allowed is None:
        raise SteerInputError(
            f"Invalid '{where}': expected an input_text, input_image or input_file part."
        )
    extra = sorted(set(part) - allowed)
    if extra:
        raise SteerInputError(f"Unknown parameter: '{where}.{extra[0]}'.")
    sources = _PART_SOURCES[kind]
    if not any(isinstance(part.get(name), str) for name in sources):
        names = " or ".join(f"'{name}'" for name in sources)
        raise SteerInputError(f"Invalid '{where}': an {kind} part needs {names} (a string).")


# ---------------------------------------------------------------------- events


def client_calls(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The client-owned tool calls of a response's output (the client must answer them)."""
    return [item for item in output if item.get("type") in CALL_OUTPUTS]


def required_input(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``required_input`` stubs: identifying fields of each output the client owes."""
    stubs = []
    for call in client_calls(output):
        kind = _STUBS.get(call["type"])
        if kind is None:
            continue
        stub = {"type": kind, "call_id": call["call_id"]}
        if kind == "function_call_output":
            stub["name"] = call["name"]
        stubs.append(stub)
    return stubs


def pending_event(target_id: str, steer_id: str, stubs: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``response.steer.pending`` event (numbered by the caller)."""
    return {
        "type": "response.steer.pending",
        "steer": {"id": steer_id, "previous_response_id": target_id},
        "reason": "waiting_for_required_input",
        "required_input": stubs,
    }


def failed_event(
    target_id: str, raw_input: Any, code: str, message: str, steer_id: str | None = None
) -> dict[str, Any]:
    """A ``response.steer.failed`` event returning the input as sent (numbered by the caller);
    ``steer.id`` only when one was allocated (a failure after acceptance)."""
    steer: dict[str, Any] = {"previous_response_id": target_id, "input": raw_input}
    if steer_id is not None:
        steer["id"] = steer_id
    return {
        "type": "response.steer.failed",
        "steer": steer,
        "error": {"type": "invalid_request_error", "code": code, "message": message},
    }
