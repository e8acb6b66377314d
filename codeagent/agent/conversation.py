"""Conversation state: the item history, the chain to the last completed response, and one model
call at a time with the chaining rule and recovery.

The chaining rule: a call sends only the items added since the last completed response, with
``previous_response_id``, when every non-input field of the request is unchanged and the server
still holds that response -- with ``store=true`` because it is persisted, with ``store=false``
only while the WebSocket it was made on is still the live one. Otherwise the call sends the whole
history without ``previous_response_id`` (always so over HTTP with ``store=false``).

Recovery: ``previous_response_not_found`` resends the call once with the full input; a dropped,
expired or corrupt connection, an idle stream, a rate limit or a server error is retried with
backoff on a fresh connection (``recovery.RetryPolicy``); the transport may continue over HTTP
meanwhile. A partially streamed response is never recorded: the caller gets a
``ConversationNotice(restart=True)`` and the call starts again. Event types the client does not
know are logged and not passed on.

Context overflow: a call refused with ``context_length_exceeded`` compacts the history with the
standalone endpoint and is made once more; a second overflow is reported with what was tried.
What is sent never holds a tool call without its output or an output without its call
(``requests.paired_input``). Steered calls (``steering``): ``_successor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from codeagent.agent._call_attempt import Attempt
from codeagent.agent._chain import Chain
from codeagent.agent._prewarm import prewarm
from codeagent.agent._recovery import (
    RetryPolicy,
    notice_category,
    recovery_name,
    retry_text,
    silent_retry,
)
from codeagent.agent._resend_size import ResendSize
from codeagent.agent._saved_state import restore, saved_state
from codeagent.agent._successor import SteerHooks, continue_with_successor
from codeagent.agent.events import CallMetrics
from codeagent.agent.tool_calls import unanswered_outputs
from codeagent.responses.errors import PreviousResponseNotFound, RequestRejected, ResponsesError
from codeagent.responses.events import ResponseCreated, ServerEvent, UnknownEvent
from codeagent.responses.requests import (
    build_body,
    paired_input,
    replay_item,
    settings_signature,
)
from codeagent.responses.transport import Transport

#: The settings ``update_settings`` accepts (each is a non-input request field).
SETTINGS_FIELDS = (
    "model",
    "instructions",
    "tools",
    "store",
    "reasoning",
    "include",
    "context_management",
    "extra",
)

ENCRYPTED_REASONING = "reasoning.encrypted_content"
CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"
#: The output given to a tool call that reaches a model call without one (never sent unpaired).
NO_OUTPUT_NOTE = "not run: no result was recorded for this call"
LOG = logging.getLogger("codeagent.agent")


@dataclass(frozen=True)
class ConversationNotice:
    """Something the user should hear about while a call runs (a reconnect, a fallback, a resend).

    ``restart=True`` means: discard anything streamed so far for this call; it starts again.
    ``category`` is one of ``reconnect``, ``fallback``, ``restored``, ``recovery``, ``warning``.
    ``silent=True``: not worth telling the user (the first quick retry of a dropped socket);
    a UI acts on ``restart`` but shows no message.
    """

    category: str
    text: str
    restart: bool = False
    silent: bool = False


@dataclass
class _Plan:
    body: dict[str, Any]
    chained: bool
    full_size: int


class Conversation:
    """The model-visible conversation and its calls (see the module docstring)."""

    def __init__(
        self,
        transport: Transport,
        *,
        model: str,
        instructions: str,
        tools: list[dict[str, Any]],
        store: bool = False,
        reasoning: dict[str, Any] | None = None,
        include: list[str] | None = None,
        context_management: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        max_retries: int = 4,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 8.0,
    ):
        self.transport = transport
        self.model = model
        self.instructions = instructions
        self.tools = list(tools)
        self.store = store
        self.reasoning = reasoning
        self.include = include
        self.context_management = context_management
        self.extra = dict(extra or {})
        self.retry = RetryPolicy(max_retries, retry_base_delay, retry_max_delay)
        #: The model-visible history: our input items and the model's output items, in order.
        self.items: list[dict[str, Any]] = []
        self.last_metrics: CallMetrics | None = None
        self.last_output: list[dict[str, Any]] = []
        self._chain: Chain | None = None
        self._resend_size = ResendSize()
        self._running = False
        #: The turn's steering (``Agent.steer``); None: no steer can reach a call.
        self.steering: SteerHooks | None = None
        # Messages a steer left queued on the server for the next chained request: in
        # ``items`` (the server prepends them), left out of that request's input.
        self._queued: list[dict[str, Any]] = []
        # Held while a prewarm is in flight; a model call waits for it (bounded) to chain on it.
        self._warming = asyncio.Lock()

    # ------------------------------------------------------------------ history

    def add_user_message(self, text: str) -> None:
        """Append a user message."""
        self.items.append(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )

    def add_items(self, items: list[dict[str, Any]]) -> None:
        """Append input items (tool outputs and the like), copied."""
        self.items.extend(copy.deepcopy(list(items)))

    def add_queued_steers(self, items: list[dict[str, Any]]) -> None:
        """Put user messages a steer left queued on the server (``response.steer.pending``)
        where the server prepends them to the next request chained on the last response:
        before the items added since. That request does not send them; a full one does."""
        at = self._chain.length if self._chain is not None else len(self.items)
        queued = copy.deepcopy(list(items))
        self.items[at:at] = queued
        self._queued.extend(queued)

    def reset(self) -> None:
        """Forget the history and the chain (a new session on the same transport)."""
        self.items = []
        self._queued = []
        self.last_output = []
        self.last_metrics = None
        self._chain = None
        self._resend_size.clear()

    @property
    def last_response_id(self) -> str | None:
        """The id of the last completed response, if any."""
        return self._chain.response_id if self._chain else None

    # ------------------------------------------------------------------ settings

    def settings(self) -> dict[str, Any]:
        """The non-input request fields of the next call."""
        fields: dict[str, Any] = {
            "model": self.model,
            "instructions": self.instructions or None,
            "tools": self.tools,
            "store": self.store,
            "reasoning": self.reasoning,
            "include": self._include(),
            "context_management": self.context_management,
        }
        fields.update(self.extra)
        return {k: v for k, v in fields.items() if v is not None}

    def _include(self) -> list[str] | None:
        """``include`` as given; by default, with ``store=false``, ask for encrypted reasoning,
        without which a full resend (after a reconnect, or over HTTP) loses the reasoning."""
        if self.include is not None:
            return self.include
        return None if self.store else [ENCRYPTED_REASONING]

    def update_settings(self, **fields: Any) -> None:
        """Change request fields (``model``, ``instructions``, ``tools``, ``store``, ...). The
        next call then no longer matches the chain and sends the full input."""
        unknown = set(fields) - set(SETTINGS_FIELDS)
        if unknown:
            raise ValueError(f"unknown conversation setting(s): {', '.join(sorted(unknown))}")
        for name, value in fields.items():
            setattr(self, name, dict(value or {}) if name == "extra" else value)
        self._resend_size.clear()  # ``store`` changes how items are replayed

    # ------------------------------------------------------------------ one model call

    async def run(self) -> AsyncIterator[ServerEvent | ConversationNotice]:
        """Make one model call: yield its server events (up to the terminal one) and notices.

        On success the response's output items are appended to ``items``, ``last_output`` and
        ``last_metrics`` are set. Raises the typed error when recovery is exhausted; nothing of
        the failed call is recorded then.
        """
        if self._running:
            raise RuntimeError("a model call is already running on this conversation")
        if not self.items:
            raise ValueError("the conversation has no input to send")
        self._running = True
        try:
            async with self._warming:  # a prewarm in flight ends first (PREWARM_TIMEOUT at most)
                pass
            self.add_items(unanswered_outputs(self.items, NO_OUTPUT_NOTE))
            try:
                async for out in self._run():
                    yield out
            except ResponsesError as exc:
                if exc.code != CONTEXT_LENGTH_EXCEEDED:
                    raise
                async for out in self._compact_and_retry():
                    yield out
        finally:
            self._running = False

    async def prewarm(self) -> bool:
        """Open the WebSocket and send the next call's instructions, tools and history with
        ``generate: false``, so the next call chains from that empty response and carries only
        what is added meanwhile (the user's message). Nothing to do (False) over HTTP, while a
        call or another prewarm runs, or when the next call can chain already. Raises the
        typed errors; a failure leaves the conversation as it was."""
        return await prewarm(self)

    async def _compact_and_retry(self) -> AsyncIterator[ServerEvent | ConversationNotice]:
        """After ``context_length_exceeded``: compact (standalone endpoint), call once more."""
        before = len(self.items)
        yield ConversationNotice(
            "recovery",
            f"The conversation no longer fits {self.model}'s context window; compacting it "
            "and trying again.",
            restart=True,
        )
        await self.compact()
        after = len(self.items)
        try:
            async for out in self._run():
                yield out
        except ResponsesError as exc:
            if exc.code != CONTEXT_LENGTH_EXCEEDED:
                raise
            raise RequestRejected(
                f"The conversation is too long for {self.model} even after compacting it "
                f"({before} items to {after}): {exc.message} Start a new session, or use a "
                "model with a larger context window.",
                code=CONTEXT_LENGTH_EXCEEDED,
                status=exc.status,
            ) from None
        yield ConversationNotice(
            "recovery",
            f"Compacted the conversation ({before} items to {after}) and tried again: it fits.",
        )

    async def _run(self) -> AsyncIterator[ServerEvent | ConversationNotice]:
        started = time.monotonic()
        recoveries: list[str] = []
        bytes_sent = 0
        retries = 0
        force_full = False
        while True:
            await self.transport.ensure_fresh()
            for notice in self._transport_notices():
                recoveries.append(notice.category)
                yield notice
            plan = self._plan(force_full)
            attempt = Attempt()
            try:
                hold = self.steering.hold if self.steering is not None else None
                events = self.transport.stream(plan.body, hold=hold)
                async with contextlib.aclosing(events):
                    async for event in events:
                        if isinstance(event, UnknownEvent):
                            LOG.info("skipped a server event of unknown type %r", event.type)
                            continue
                        if isinstance(event, ResponseCreated) and attempt.terminal is not None:
                            attempt = continue_with_successor(self.items, attempt, self.steering)
                        attempt.observe(event)
                        yield event
                bytes_sent += self.transport.last_bytes_sent
                attempt.check_finished()
            except PreviousResponseNotFound:
                bytes_sent += self.transport.last_bytes_sent
                if not plan.chained or "previous_response_not_found" in recoveries:
                    raise
                recoveries.append("previous_response_not_found")
                force_full = True
                yield ConversationNotice(
                    "recovery",
                    "The server no longer held the previous response; resending the full "
                    "conversation.",
                    restart=attempt.streamed,
                )
                continue
            except ResponsesError as exc:
                bytes_sent += self.transport.last_bytes_sent
                delay = self.retry.delay(exc, retries)
                if delay is None:
                    raise
                if self.transport.fell_back and self.transport.last_transport == "websocket":
                    delay = 0.0  # it just switched to HTTP: nothing to wait out
                retries += 1
                recoveries.append(recovery_name(exc))
                yield ConversationNotice(
                    notice_category(exc),
                    retry_text(exc, delay, retries + 1),
                    restart=attempt.streamed,
                    silent=silent_retry(exc, retries - 1),
                )
                if delay:
                    await asyncio.sleep(delay)
                # A failed continuation evicts the cached parent; without store it must go full.
                force_full = not self.store
                continue
            for notice in self._transport_notices():  # e.g. WebSocket is back
                yield notice
            self._record(attempt, plan, started, bytes_sent, recoveries)
            return

    def _plan(self, force_full: bool) -> _Plan:
        settings = self.settings()
        signature = settings_signature(settings)
        full_size = self._resend_size.measure(
            settings, signature, self.items, self.transport, store=self.store
        )
        chain = self._chain
        if (
            not force_full
            and chain is not None
            and chain.usable(self.items, signature, store=self.store, transport=self.transport)
        ):
            # What a steer queued on this socket the server prepends itself; another forgot it.
            same = chain.connection_id == self.transport.connection_id
            queued = self._queued if same else []
            new = [i for i in self.items[chain.length :] if all(i is not q for q in queued)]
            suffix = [replay_item(item, store=self.store) for item in new]
            suffix = paired_input(suffix, earlier=self.items[: chain.length])
            return _Plan(build_body(settings, suffix, chain.response_id), True, full_size)
        full_items = paired_input([replay_item(item, store=self.store) for item in self.items])
        return _Plan(build_body(settings, full_items), False, full_size)

    def _transport_notices(self) -> list[ConversationNotice]:
        """The transport's changes (fallback to HTTP, WebSocket back) as notices."""
        return [ConversationNotice(n.kind, n.text) for n in self.transport.take_notices()]

    def _record(
        self,
        attempt: Attempt,
        plan: _Plan,
        started: float,
        bytes_sent: int,
        recoveries: list[str],
    ) -> None:
        response = attempt.terminal.response  # type: ignore[union-attr]
        output = [copy.deepcopy(item) for item in (response.output or attempt.items_done())]
        self.items.extend(output)
        self.last_output = output
        self._queued = []  # the server has them now, or the full input carried them
        self._chain = Chain(
            response_id=response.id,
            length=len(self.items),
            signature=settings_signature(self.settings()),
            held=tuple(self.items),
            transport=self.transport.active,
            connection_id=self.transport.connection_id
            if self.transport.active == "websocket"
            else None,
        )
        usage = attempt.usage()  # every response of a steered call counts
        self.last_metrics = CallMetrics(
            transport=self.transport.last_transport,
            chained=plan.chained,
            bytes_sent=bytes_sent,
            bytes_full_resend=plan.full_size,
            time_to_created=attempt.time_to_created,
            time_to_first_delta=attempt.time_to_first_delta,
            total_time=time.monotonic() - started,
            input_tokens=sum(u.input_tokens for u in usage),
            cached_tokens=sum(u.input_tokens_details.cached_tokens for u in usage),
            output_tokens=sum(u.output_tokens for u in usage),
            reasoning_tokens=sum(u.output_tokens_details.reasoning_tokens for u in usage),
            response_id=response.id,
            recoveries=tuple(recoveries),
        )

    # ------------------------------------------------------------------ compaction

    async def compact(self) -> dict[str, Any]:
        """Compact the history with ``POST /responses/compact``. The returned window replaces
        ``items`` as is, and the next call starts a new chain from it (full input)."""
        body: dict[str, Any] = {
            "model": self.model,
            "input": paired_input([replay_item(item, store=self.store) for item in self.items]),
        }
        if self.instructions:
            body["instructions"] = self.instructions
        if "prompt_cache_key" in self.extra:
            body["prompt_cache_key"] = self.extra["prompt_cache_key"]
        result = await self.transport.compact(body)
        self.items = [copy.deepcopy(item) for item in result["output"]]
        self._chain, self._queued = None, []
        self._resend_size.clear()
        return result

    # ------------------------------------------------------------------ persistence

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready snapshot (history, settings, and the chain when it is persisted)."""
        return saved_state(self)

    @classmethod
    def from_state(cls, state: dict[str, Any], transport: Transport) -> Conversation:
        """Rebuild a conversation saved with ``to_state`` on a new transport. With
        ``store=false`` the first call sends the full history (no connection holds it)."""
        return restore(cls, state, transport)


__all__ = ["Conversation", "ConversationNotice"]
