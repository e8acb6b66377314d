"""One response from request to record, shared by the WebSocket and HTTP transports.

``prepare`` does everything that can fail before the first event (validation, injected errors,
``previous_response_id`` resolution, input expansion, choosing the step); ``stream`` yields the
paced events and applies the streaming faults; the finished response is available as a
:class:`ResponseRecord` for the caches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from codeagent.server.backends.base import ModelRequest
from codeagent.server.compact import expand_input
from codeagent.server.faults import StreamFaults
from codeagent.server.generator import EventBuilder, new_id, response_object
from codeagent.server.items import context_tokens, normalize_input
from codeagent.server.records import ResponseRecord
from codeagent.server.requests import RequestError, validate_create
from codeagent.server.script import Step, StepFault
from codeagent.server.state import ServerState
from codeagent.server.strict import (
    Transport,
    check_model,
    check_pairing,
    check_params,
    check_reasoning,
)

Lookup = Callable[[str], ResponseRecord | None]


class DropConnection(Exception):
    """A fault asks to cut the connection abruptly now."""


@dataclass
class Prepared:
    """A validated request, ready to stream."""

    response_id: str
    body: dict[str, Any]
    context: list[dict[str, Any]]
    builder: EventBuilder
    generate: bool
    step_fault: StepFault | None = None
    item_tokens: int | None = None  # of ``context``, see ``ResponseRecord.item_tokens``

    def stream_faults(self, armed: StreamFaults) -> StreamFaults:
        """The server's armed streaming faults, with this step's own fault (if any) added."""
        fault = self.step_fault
        if fault is None:
            return armed
        if fault.drop_after_events is not None and armed.drop_after is None:
            armed.drop_after = fault.drop_after_events
        if fault.stall_after_events is not None and armed.stall_after is None:
            armed.stall_after, armed.stall_seconds = fault.stall_after_events, fault.stall_seconds
        if fault.raw is not None:
            armed.raw_frames = (*armed.raw_frames, fault.raw)
        if fault.malformed_at_event is not None and armed.malformed_at is None:
            armed.malformed_at = fault.malformed_at_event
        return armed

    def record(self, lane: str | None) -> ResponseRecord:
        """The record of the finished response (its context now includes its output)."""
        return ResponseRecord(
            id=self.response_id,
            instructions=self.body.get("instructions"),
            context=[*self.context, *self.builder.output],
            store=bool(self.body.get("store", False)),
            lane=lane,
            item_tokens=None
            if self.item_tokens is None
            else self.item_tokens + context_tokens(None, self.builder.output),
        )


def not_found(response_id: str) -> RequestError:
    return RequestError(
        400,
        "previous_response_not_found",
        f"Previous response with id '{response_id}' not found.",
        param="previous_response_id",
    )


async def prepare(
    state: ServerState,
    body: Any,
    lookup: Lookup,
    prefix_candidates: Sequence[ResponseRecord] = (),
    conn_id: int | None = None,
    transport: Transport = "ws",
    response_id: str | None = None,
    first_sequence: int = 0,
) -> Prepared:
    """Validate and resolve a create request; raise ``RequestError`` for anything wrong."""
    body = validate_create(body)
    check_params(body, transport)
    info = check_model(body["model"], state.catalog, state.any_model)
    check_reasoning(body, info)
    fault = state.faults.take_error(conn_id)
    if fault is not None:
        raise RequestError(fault.status, fault.code, fault.message, retry_after=fault.retry_after)
    previous_id = body.get("previous_response_id")
    parent = None
    if previous_id:
        parent = None if state.faults.take_forget(conn_id) else lookup(previous_id)
        if parent is None:
            raise not_found(previous_id)
    new_items = expand_input(normalize_input(body.get("input")))
    context = [*(parent.context if parent else []), *new_items]
    item_tokens = _item_tokens(parent) + context_tokens(None, new_items)
    check_pairing(context)
    instructions = body.get("instructions")
    cached = _cached_tokens(instructions, context, [parent] if parent else list(prefix_candidates))
    generate = body.get("generate", True) is not False
    step = None
    if generate:
        request = ModelRequest(
            model=body["model"],
            instructions=instructions,
            items=context,
            tools=body.get("tools") or [],
            body=body,
        )
        step = await state.backend.respond(request)
    step_fault = step.fault if step is not None and step.fault else None
    if step_fault is not None and not state.use_step_fault(step_fault):
        step_fault = None
    if step_fault is not None and step_fault.error:
        message = step_fault.message or f"Injected error: {step_fault.error}"
        raise RequestError(step_fault.status, step_fault.error, message)
    response_id = response_id or new_id("resp")
    builder = EventBuilder(
        response_object(response_id, body, previous_response_id=previous_id),
        step if step is not None else _EMPTY_STEP,
        encrypt_reasoning="reasoning.encrypted_content" in (body.get("include") or []),
        input_tokens=context_tokens(instructions, []) + item_tokens,
        cached_tokens=cached,
        tools=body.get("tools") or [],
        first_sequence=first_sequence,
    )
    return Prepared(response_id, body, context, builder, generate, step_fault, item_tokens)


def _item_tokens(record: ResponseRecord | None) -> int:
    """Estimated tokens of a record's context: counted once per record, not per request."""
    if record is None:
        return 0
    if record.item_tokens is None:
        record.item_tokens = context_tokens(None, record.context)
    return record.item_tokens


async def stream(
    prepared: Prepared,
    faults: StreamFaults,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[dict[str, Any] | str, None]:
    """The response's events, paced (``pause`` waits before each; steering cuts it short), with
    streaming faults applied: a ``str`` is a malformed frame to send as it is. Raises
    ``DropConnection``.

    Every event yields to the loop, even unpaced: a huge response streamed without a pause
    would keep every other connection (and the notice that its own client left) waiting.
    """
    builder = prepared.builder
    emissions = builder.events() if prepared.generate else builder.empty()
    for sent, emission in enumerate(emissions):
        if faults.drop_after is not None and sent >= faults.drop_after:
            raise DropConnection()
        if faults.stall_after is not None and sent == faults.stall_after:
            await asyncio.sleep(faults.stall_seconds)
        await pause(emission.delay if emission.delay > 0 else 0)
        if faults.malformed_at == sent:
            yield faults.malformed_text
            continue
        yield emission.event


def _cached_tokens(
    instructions: str | None, context: list[dict[str, Any]], candidates: Sequence[ResponseRecord]
) -> int:
    """Tokens of the longest earlier context this one starts with (what a prompt cache saves)."""
    best = 0
    for record in candidates:
        prefix = record.context
        if len(prefix) <= len(context) and context[: len(prefix)] == prefix:
            same_instructions = record.instructions == instructions
            tokens = context_tokens(instructions if same_instructions else None, [])
            tokens += _item_tokens(record)
            best = max(best, tokens)
    return best


_EMPTY_STEP = Step([])
