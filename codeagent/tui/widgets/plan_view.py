"""The live plan from ``update_plan``: one line per step with its status."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from codeagent.agent.events import PlanStep
from codeagent.sanitize import display_text

MARKS = {"completed": ("✔", "plan-done"), "in_progress": ("▶", "plan-active"), "pending": ("○", "")}


class PlanView(Static):
    """Shows the latest plan; hidden while there is none."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.steps: tuple[PlanStep, ...] = ()

    def on_mount(self) -> None:
        self.display = False

    def show_plan(self, steps: tuple[PlanStep, ...], explanation: str = "") -> None:
        """Replace the plan with ``steps``."""
        self.steps = tuple(steps)
        done = sum(step.status == "completed" for step in self.steps)
        text = Text(f"Plan {done}/{len(self.steps)}", style="bold")
        if explanation:
            text.append(f"  {display_text(explanation)}", style="italic")
        for step in self.steps:
            mark, style = MARKS.get(step.status, ("○", ""))
            line = f"\n {mark} {display_text(step.step)}"
            text.append(line, style="strike" if style == "plan-done" else "")
        self.update(text)
        self.display = bool(self.steps)

    def clear(self) -> None:
        """Forget the plan (new session)."""
        self.steps = ()
        self.update("")
        self.display = False
