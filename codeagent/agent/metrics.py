"""Summing the metrics of the model calls of one user turn, and a session's running totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codeagent.agent.events import CallMetrics, TurnMetrics
from codeagent.responses.catalog import ModelInfo


def sum_metrics(calls: list[CallMetrics], wall_time: float) -> TurnMetrics:
    """One ``TurnMetrics`` for a turn: bytes and tokens summed over ``calls``; transport,
    chaining, response id and time to first token of the last call; ``wall_time`` as total."""
    if not calls:
        return TurnMetrics(total_time=wall_time)
    last = calls[-1]
    recoveries: list[str] = []
    for call in calls:
        recoveries.extend(call.recoveries)
    return TurnMetrics(
        transport=last.transport,
        chained=last.chained,
        bytes_sent=sum(c.bytes_sent for c in calls),
        bytes_full_resend=sum(c.bytes_full_resend for c in calls),
        time_to_created=last.time_to_created,
        time_to_first_delta=last.time_to_first_delta,
        total_time=wall_time,
        input_tokens=sum(c.input_tokens for c in calls),
        cached_tokens=sum(c.cached_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        reasoning_tokens=sum(c.reasoning_tokens for c in calls),
        response_id=last.response_id,
        recoveries=tuple(recoveries),
    )


@dataclass
class UsageTotals:
    """Every figure of the session so far: tokens, bytes, cost, turns and the last turn.

    The agent owns the one instance; the UI only reads it (through ``AgentStatus``), so nothing
    is counted twice and ``/new`` (a new instance) resets every figure at once.
    """

    model_calls: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    bytes_sent: int = 0
    bytes_full_resend: int = 0
    context_tokens: int = 0
    #: Model calls per transport that carried them (``websocket``, ``http``).
    calls_by_transport: dict[str, int] = field(default_factory=dict)
    #: USD so far, from the catalog's prices; ``cost_known`` False once a call had no price.
    cost: float = 0.0
    cost_known: bool = True
    #: USD of the turn running now (or of the last one, once it ended)
    turn_cost: float = 0.0
    turns: int = 0
    #: the finished turn's summed metrics (None before the first turn ends)
    last_turn: TurnMetrics | None = None

    def add(self, metrics: CallMetrics, model: ModelInfo | None = None) -> None:
        """Count one model call; ``model`` prices it (None: a model the catalog lacks)."""
        self.model_calls += 1
        by = self.calls_by_transport
        by[metrics.transport] = by.get(metrics.transport, 0) + 1
        self.input_tokens += metrics.input_tokens
        self.cached_tokens += metrics.cached_tokens
        self.output_tokens += metrics.output_tokens
        self.bytes_sent += metrics.bytes_sent
        self.bytes_full_resend += metrics.bytes_full_resend
        # What the next call will carry: this call's input plus what it produced.
        self.context_tokens = metrics.input_tokens + metrics.output_tokens
        price = None
        if model is not None:
            price = model.cost(metrics.input_tokens, metrics.cached_tokens, metrics.output_tokens)
        if price is None:
            self.cost_known = False
        else:
            self.cost += price
            self.turn_cost += price

    def start_turn(self) -> None:
        """A user turn begins: its cost counts from zero."""
        self.turn_cost = 0.0

    def finish_turn(self, metrics: TurnMetrics) -> None:
        """A user turn ended (completed, interrupted or failed) with ``metrics``."""
        self.turns += 1
        self.last_turn = metrics

    @classmethod
    def from_transcript(
        cls, transcript: list[dict[str, Any]], model: ModelInfo | None
    ) -> UsageTotals:
        """The totals of a resumed session, from its recorded ``model_call`` and turn-end
        events. The transcript does not say which model made each call, so every call is
        priced as ``model`` (the session's model now)."""
        from codeagent.agent.events import ModelCallCompleted, TurnCompleted, event_from_dict

        totals = cls()
        for data in transcript:
            kind = data.get("kind")
            if kind not in ("model_call", "turn_completed", "turn_interrupted"):
                continue
            event = event_from_dict(data)
            if isinstance(event, ModelCallCompleted):
                totals.add(event.metrics, model)
            elif isinstance(event, TurnCompleted):
                totals.finish_turn(event.metrics)
            elif event is not None:  # interrupted: counted, its times are not recorded
                totals.turns += 1
        return totals


__all__ = ["UsageTotals", "sum_metrics"]
