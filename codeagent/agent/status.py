"""``AgentStatus``: a snapshot of the agent for status bars and ``/status``, and ``Activity``:
what the agent is doing right now (waiting for the model, streaming, running a command, waiting
for the user's approval, reconnecting), followed from the events it emits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codeagent.agent import events as ev
from codeagent.agent.approvals import ApprovalRequest, Approver, Decision
from codeagent.agent.events import CallMetrics, TurnMetrics
from codeagent.agent.metrics import UsageTotals
from codeagent.workspace.repo_info import current_branch

if TYPE_CHECKING:
    from codeagent.agent.loop import Agent


@dataclass(frozen=True)
class AgentStatus:
    """What ``Agent.status()`` reports.

    ``transport`` is a ``TransportState`` value: ``connecting`` before the first call, then
    ``connected``, ``http`` (configured) or ``http-fallback`` (WebSocket refused).
    """

    model: str
    policy: str
    transport: str
    session_id: str
    sandbox: str
    busy: bool
    model_calls: int
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    context_tokens: int
    last_metrics: CallMetrics | None
    grants: tuple[str, ...] = ()
    #: (transport, model calls it carried) so far, e.g. (("websocket", 12), ("http", 3)).
    calls_by_transport: tuple[tuple[str, int], ...] = ()
    #: Seconds until a fallen-back session tries WebSocket again (None: not fallen back).
    websocket_retry_in: float | None = None
    bytes_sent: int = 0
    bytes_full_resend: int = 0
    #: user turns ended so far (completed, interrupted or failed)
    turns: int = 0
    #: USD so far and for the running (else the last) turn; None when a price is unknown
    cost: float | None = 0.0
    turn_cost: float | None = 0.0
    #: the last finished turn's summed metrics
    last_turn: TurnMetrics | None = None
    #: the model's context window in tokens (None: a model the catalog does not know)
    context_window: int | None = None
    #: what the agent does now ("" when idle) and since when (``time.monotonic()``)
    activity: str = ""
    activity_since: float | None = None
    #: when the running turn started (``time.monotonic()``; None when idle)
    turn_started: float | None = None
    #: the repository's current branch (None: detached HEAD or not found)
    branch: str | None = None

    @property
    def context_left(self) -> float | None:
        """The share of the context window still free, 0..1 (None: window unknown)."""
        if not self.context_window:
            return None
        return max(0.0, 1.0 - self.context_tokens / self.context_window)


def transport_state(agent: Agent) -> str:
    """The connection state as a ``TransportState`` value."""
    if agent.transport.fell_back:
        return "http-fallback"
    if agent.last_metrics is None:
        return "http" if agent.settings.transport == "http" else "connecting"
    return "connected" if agent.transport.active == "websocket" else "http"


def status_of(agent: Agent) -> AgentStatus:
    """The ``AgentStatus`` of ``agent`` right now."""
    usage = agent.usage
    model = agent.settings.catalog().get(agent.conversation.model)
    activity = agent.activity
    return AgentStatus(
        model=agent.conversation.model,
        policy=agent.rules.policy.value,
        transport=transport_state(agent),
        session_id=agent.session.id,
        sandbox=agent.sandbox.describe(),
        busy=agent.busy,
        model_calls=usage.model_calls,
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        context_tokens=usage.context_tokens,
        last_metrics=agent.last_metrics,
        grants=tuple(agent.rules.grants.describe()),
        calls_by_transport=tuple(sorted(usage.calls_by_transport.items(), reverse=True)),
        websocket_retry_in=_retry_in(agent),
        bytes_sent=usage.bytes_sent,
        bytes_full_resend=usage.bytes_full_resend,
        turns=usage.turns,
        cost=usage.cost if usage.cost_known else None,
        turn_cost=usage.turn_cost if usage.cost_known else None,
        last_turn=usage.last_turn,
        context_window=model.context_window if model else None,
        activity=activity.label,
        activity_since=activity.since,
        turn_started=activity.turn_started,
        branch=current_branch(agent.root),
    )


def _retry_in(agent: Agent) -> float | None:
    at = agent.transport.websocket_retry_at
    return None if at is None else max(0.0, at - agent.transport.clock())


def transport_line(status: AgentStatus) -> str:
    """How the calls travelled, for ``/status``: e.g. 12 over WebSocket, 3 over HTTP."""
    names = {"websocket": "WebSocket", "http": "HTTP"}
    parts = [f"{n} over {names.get(t, t)}" for t, n in status.calls_by_transport]
    text = ", ".join(parts) if parts else "no model calls yet"
    if status.websocket_retry_in is not None:
        text += f"; WebSocket is tried again in {status.websocket_retry_in / 60:.0f} min"
    return text


class Activity:
    """What the agent does now, followed from the events it emits (``observe``) and from the
    approvals it waits for (``watching``). It also opens and closes each turn in ``usage``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.label = ""
        self.since: float | None = None
        self.turn_started: float | None = None

    def _set(self, label: str) -> None:
        if label != self.label:
            self.label, self.since = label, self.clock()

    def observe(self, event: ev.AgentEvent, usage: UsageTotals) -> None:
        """Follow ``event`` (called for every event the agent emits)."""
        match event:
            case ev.TurnStarted():
                usage.start_turn()
                self.turn_started = self.clock()
                self._set("waiting for the model")
            case ev.TextDelta():
                self._set("streaming")
            case ev.ReasoningDelta():
                self._set("thinking")
            case ev.ToolCallProposed(tool="update_plan"):
                pass
            case ev.ToolCallProposed(tool="shell", title=title):
                self._set(f"running {title}")
            case ev.ToolCallProposed(tool="apply_patch"):
                self._set("applying the patch")
            case ev.ToolCallProposed(tool=tool):
                self._set(f"running {tool}")
            case (
                ev.Notice(category="reconnect" | "recovery")
                | ev.TransportState(state="reconnecting")
            ):
                self._set("reconnecting")
            case ev.Notice(category="fallback"):
                self._set("HTTP fallback: waiting for the model")
            case ev.TextDone() | ev.ReasoningDone() | ev.ToolOutput() | ev.ModelCallCompleted():
                if self.turn_started is not None:
                    self._set("waiting for the model")
            case ev.TurnCompleted(metrics=metrics):
                self._end(usage, metrics)
            case ev.TurnInterrupted():
                self._end(usage, None)
            case ev.AgentError(fatal=True):
                self._end(usage, None)

    def _end(self, usage: UsageTotals, metrics: TurnMetrics | None) -> None:
        if self.turn_started is None:
            return  # no turn was running (an error before it started)
        if metrics is None:  # interrupted or failed: its wall time is all there is
            metrics = TurnMetrics(total_time=self.clock() - self.turn_started)
        usage.finish_turn(metrics)
        self.turn_started = None
        self.label, self.since = "", None

    def watching(self, approver: Approver) -> Approver:
        """``approver``, with "waiting for your approval" shown while it decides."""
        return _WatchedApprover(approver, self)


class _WatchedApprover:
    """An ``Approver`` that tells ``Activity`` while it waits for the user."""

    def __init__(self, inner: Approver, activity: Activity) -> None:
        self.inner = inner
        self.activity = activity

    async def decide(self, request: ApprovalRequest) -> Decision:
        before = self.activity.label
        self.activity._set("waiting for your approval")
        try:
            return await self.inner.decide(request)
        finally:
            if self.activity.turn_started is not None:
                self.activity._set(before)

    def __getattr__(self, name: str) -> Any:  # attach/reject_all of the TUI's approver, and so on
        return getattr(self.inner, name)


__all__ = ["Activity", "AgentStatus", "status_of", "transport_line", "transport_state"]
