"""Steering: a message typed while a turn runs, applied to that turn (``Agent.steer``).

Two ways, chosen when the message comes (``SteerSubmitted.via``):

- ``steer``: while a response of the turn streams over WebSocket, on a model the catalog marks
  as steerable (and without server-side compaction, which the API does not steer), the message
  goes out at once as ``response.steer`` on the same socket. ``response.steer.accepted`` is its
  receipt; the commit point is the ``response.created`` of the response that carries it: an
  automatic successor (the conversation keeps streaming it as the same call), or, when the
  response stopped for our tool outputs (``response.steer.pending``), the next request, to
  which the server prepends it. ``response.steer.failed``, or a connection lost before the
  commit, sends it the other way instead (``rescheduled``).
- ``next_call``: otherwise the message waits, and goes as a user message with the next model
  call, after the tool outputs.

A message that never reached the model when the turn ends (no further call, an interrupt, a
failure) is reported ``unapplied``: the UI sends it as the next message, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from codeagent.agent.events import AgentEvent, SteerSubmitted, SteerUpdate
from codeagent.responses.errors import ResponsesError
from codeagent.responses.events import (
    ResponseCreated,
    ResponseLifecycleEvent,
    SteerAccepted,
    SteerFailed,
    SteerPending,
)

if TYPE_CHECKING:
    from codeagent.agent.conversation import Conversation, ConversationNotice
    from codeagent.agent.loop import Agent
    from codeagent.responses.events import ServerEvent

LOG = logging.getLogger("codeagent.agent")

#: Where one message is: ``held`` (waits for the next call), ``sending``/``sent`` (a steer
#: without answer), ``accepted`` (the server holds it), ``pending`` (queued on the server for
#: our next request), ``committing`` (in that request), ``applied``.
State = Literal["held", "sending", "sent", "accepted", "pending", "committing", "applied"]
_AWAITING_ANSWER = ("sending", "sent")
_ON_THE_SERVER = ("sending", "sent", "accepted")

#: What a refusal's code means, for the user.
_REFUSALS = {
    "steering_not_supported": "this model or mode does not take steering",
    "too_many_pending_steers": "too many steers are waiting already",
    "response_already_completed": "the response had finished",
    "response_not_active": "the response no longer took steering",
    "response_not_found": "the server no longer had the response",
    "successor_creation_failed": "the server could not continue the response with it",
    "invalid_input": "the server refused its input",
}


def can_steer(agent: Agent) -> bool:
    """Whether a message typed now may go as ``response.steer``: a model the catalog marks as
    steerable, no server-side compaction (the API does not steer such responses), and the
    call streaming over WebSocket."""
    entry = agent.settings.catalog().get(agent.conversation.model)
    transport = agent.transport
    return (
        entry is not None
        and entry.steering
        and not agent.conversation.context_management
        and transport.active == transport.last_transport == "websocket"
    )


def user_message(text: str) -> dict[str, Any]:
    """The user message item a steer becomes in the history."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def refusal_text(event: SteerFailed) -> str:
    """Why the server refused a steer, in words, ending in where the message goes now."""
    code = event.error.code or ""
    why = _REFUSALS.get(code) or event.error.message.rstrip(".") or "no reason given"
    return f"The steer was not applied ({why}); it goes with the next model call."


@dataclass
class _Steer:
    id: str
    text: str
    state: State
    target: str | None = None  # the response it steers (path A)
    server_id: str | None = None


class Steering:
    """The messages typed during one turn and what became of each (module docstring).

    ``emit`` is the turn's event sink; ``send(response_id, text)`` sends a ``response.steer``
    (``Transport.steer``); ``steerable()`` says whether path A is open right now.
    """

    def __init__(
        self,
        emit: Callable[[AgentEvent], None],
        send: Callable[[str, str], Any],
        steerable: Callable[[], bool],
    ):
        self._emit = emit
        self._send = send
        self._steerable = steerable
        self._steers: list[_Steer] = []
        self._tasks: set[asyncio.Task[None]] = set()
        #: the response streaming now (created seen, not ended); None between calls
        self.active: str | None = None

    # ------------------------------------------------------------------ the UI's side

    def submit(self, text: str) -> str:
        """Take a message for the running turn; returns its steer id (see ``Agent.steer``)."""
        steer = _Steer(f"steer_{uuid.uuid4().hex[:12]}", text, "held")
        self._steers.append(steer)
        if self.active is not None and self._steerable():
            steer.state, steer.target = "sending", self.active
            self._emit(SteerSubmitted(steer.id, text, "steer"))
            task = asyncio.get_running_loop().create_task(self._deliver(steer, self.active))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._emit(SteerSubmitted(steer.id, text, "next_call"))
        return steer.id

    async def _deliver(self, steer: _Steer, target: str) -> None:
        try:
            await self._send(target, steer.text)
        except ResponsesError as exc:
            if steer.state in _AWAITING_ANSWER:
                self._reschedule(steer, f"The steer could not be sent ({exc.message.rstrip('.')})"
                                 "; it goes with the next model call.")  # fmt: skip
            return
        if steer.state == "sending":
            steer.state = "sent"

    # ------------------------------------------------------------------ the turn's side

    def hold(self) -> bool:
        """Whether a steer is sent and neither refused, queued for our request, nor committed:
        the stream then waits for its word after the response ended."""
        return any(s.state in _ON_THE_SERVER for s in self._steers)

    def observe(self, event: ServerEvent | ConversationNotice) -> None:
        """Follow one event of the streaming call."""
        if isinstance(event, ResponseCreated):
            self.active = event.response.id
            for steer in self._in("committing"):  # the request that carried it started
                self._applied(steer)
        elif isinstance(event, ResponseLifecycleEvent) and event.is_terminal:
            self.active = None
        elif isinstance(event, SteerAccepted):
            answered = self._answered(event.steer.id)
            if answered is not None:
                answered.state, answered.server_id = "accepted", event.steer.id
                self._emit(SteerUpdate(answered.id, "accepted"))
        elif isinstance(event, SteerPending):
            queued = next((s for s in self._in("accepted") if s.server_id == event.steer.id), None)
            if queued is not None:
                queued.state = "pending"
                queued.target = event.steer.previous_response_id or queued.target
        elif isinstance(event, SteerFailed):
            refused = self._answered(event.steer.id)
            if refused is not None:
                self._reschedule(refused, refusal_text(event))
        elif getattr(event, "restart", False):
            # The call starts over on a new socket: what the old one queued is gone with it.
            for steer in self._in(*_ON_THE_SERVER, "pending"):
                self._reschedule(steer, "The connection was lost before the steer was applied; "
                                        "it goes with the next model call.")  # fmt: skip

    def successor(self, ended_id: str) -> list[dict[str, Any]]:
        """The messages the automatic successor of ``ended_id`` commits: the accepted steers."""
        committed = self._in("accepted")
        for steer in committed:
            self._applied(steer)
        return [user_message(s.text) for s in committed]

    def before_call(self, conversation: Conversation) -> None:
        """Put what waits into the next call: steers the server queued for it (``pending``:
        where it prepends them, not resent) and held messages (after the tool outputs)."""
        self.active = None
        conversation.steering = self  # (its stream asks ``hold`` and ``successor``)
        parent = conversation.last_response_id
        for steer in self._in("pending"):
            if steer.target == parent:
                conversation.add_queued_steers([user_message(steer.text)])
                steer.state = "committing"
            else:  # (not the request the server waits for: send it ourselves)
                steer.state = "held"
        for steer in self._in("held"):
            conversation.add_user_message(steer.text)
            self._applied(steer)

    def after_call(self) -> None:
        """After a call returned: a steer still without word was given up on (the stream
        stopped waiting and dropped the socket, and with it what the server queued)."""
        self.active = None
        for steer in self._in("committing"):
            self._applied(steer)  # in the history and sent, even without a created seen
        for steer in self._in(*_ON_THE_SERVER):
            self._reschedule(steer, "The server did not confirm the steer in time; "
                                    "it goes with the next model call.")  # fmt: skip

    def end_turn(self) -> None:
        """The turn is over: every message not applied is ``unapplied`` (the UI resends it)."""
        for task in self._tasks:
            task.cancel()
        for steer in self._steers:
            if steer.state == "committing":
                self._applied(steer)  # in the history: the next request carries it
            elif steer.state != "applied":
                self._emit(SteerUpdate(steer.id, "unapplied"))
        self._steers, self._tasks, self.active = [], set(), None

    # ------------------------------------------------------------------ helpers

    def _in(self, *states: str) -> list[_Steer]:
        return [s for s in self._steers if s.state in states]

    def _answered(self, server_id: str | None) -> _Steer | None:
        """The steer an accepted/failed event answers: by the server's id when known, else the
        oldest one still awaiting its answer (the server answers in order)."""
        live = self._in(*_ON_THE_SERVER, "pending")
        known = next((s for s in live if server_id and s.server_id == server_id), None)
        return known or next(iter(self._in(*_AWAITING_ANSWER)), None)

    def _applied(self, steer: _Steer) -> None:
        steer.state = "applied"
        self._emit(SteerUpdate(steer.id, "applied"))

    def _reschedule(self, steer: _Steer, detail: str) -> None:
        LOG.info("steer %s rescheduled: %s", steer.id, detail)
        steer.state, steer.target = "held", None
        self._emit(SteerUpdate(steer.id, "rescheduled", detail))


__all__ = ["Steering", "can_steer", "refusal_text", "user_message"]
