"""The ``update_plan`` function tool: the model publishes a short step list the UI shows."""

from __future__ import annotations

import json
from typing import Any

from codeagent.agent.events import PlanStep

MAX_STEPS = 50

UPDATE_PLAN_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "update_plan",
    "description": (
        "Publish or update your plan for the task as a short list of steps, each pending, "
        "in_progress or completed. Keep at most one step in_progress; send the whole list "
        "every time, with an optional explanation of what changed."
    ),
    "parameters": {
        "type": "object",
        "properties": {
            "explanation": {"type": ["string", "null"], "description": "Why the plan changed."},
            "plan": {
                "type": "array",
                "description": "Every step, in order.",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["pending", "in_progress", "completed"],
                        },
                    },
                    "required": ["step", "status"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["explanation", "plan"],
        "additionalProperties": False,
    },
    "strict": True,
}


class PlanError(ValueError):
    """Malformed ``update_plan`` arguments; the message says what to send instead."""


def _step(index: int, raw: Any) -> PlanStep:
    if not isinstance(raw, dict):
        raise PlanError(f"plan step {index} must be an object with 'step' and 'status'")
    text = raw.get("step")
    if not isinstance(text, str) or not text.strip():
        raise PlanError(f"plan step {index} needs a non-empty 'step' text")
    status = raw.get("status", "pending")
    if status not in ("pending", "in_progress", "completed"):
        raise PlanError(
            f"plan step {index} has status {status!r}; use pending, in_progress or completed"
        )
    return PlanStep(step=text.strip(), status=status)


def parse_plan(arguments: str) -> tuple[list[PlanStep], str]:
    """The steps and explanation of an ``update_plan`` call; raises ``PlanError``.

    Accepts ``steps`` as another name for ``plan`` since models trip over the two.
    """
    try:
        data = json.loads(arguments) if isinstance(arguments, str) else arguments
    except json.JSONDecodeError as exc:
        raise PlanError(f"update_plan arguments are not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PlanError('update_plan arguments must be an object: {"plan": [...]}')
    raw_steps = data.get("plan", data.get("steps"))
    if not isinstance(raw_steps, list):
        raise PlanError("update_plan needs 'plan': a list of {step, status} objects")
    if len(raw_steps) > MAX_STEPS:
        raise PlanError(f"the plan has {len(raw_steps)} steps; keep it to at most {MAX_STEPS}")
    steps = [_step(index, raw) for index, raw in enumerate(raw_steps, 1)]
    running = [step.step for step in steps if step.status == "in_progress"]
    if len(running) > 1:
        raise PlanError(
            f"{len(running)} steps are in_progress ({', '.join(running)}); at most one may be"
        )
    explanation = data.get("explanation") or ""
    if not isinstance(explanation, str):
        raise PlanError("'explanation' must be a text")
    return steps, explanation.strip()


__all__ = ["MAX_STEPS", "UPDATE_PLAN_TOOL", "PlanError", "parse_plan"]
