"""``AgentStatus``: a snapshot of the agent for status bars and ``/status``."""

from __future__ import annotations

from dataclasses import dataclass

from codeagent.agent.events import TurnMetrics


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


__all__ = ["AgentStatus"]
