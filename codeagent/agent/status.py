"""``AgentStatus``: a snapshot of the agent for status bars and ``/status``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codeagent.agent.events import TurnMetrics

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
    last_metrics: TurnMetrics | None
    grants: tuple[str, ...] = ()
    #: (transport, model calls it carried) so far, e.g. (("websocket", 12), ("http", 3)).
    calls_by_transport: tuple[tuple[str, int], ...] = ()
    #: Seconds until a fallen-back session tries WebSocket again (None: not fallen back).
    websocket_retry_in: float | None = None


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


__all__ = ["AgentStatus", "status_of", "transport_line", "transport_state"]
