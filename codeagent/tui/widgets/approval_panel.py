"""``ApprovalPanel``: one tool call waiting for a decision, answered with single keys.

A patch is shown as a ``DiffView`` (``j``/``k`` move between hunks, ``space`` leaves a hunk
out); a command is shown with where it runs and whether a sandbox contains it. ``y`` approves,
``n`` rejects and asks for an optional reason for the model (Enter sends, even empty), ``a``
approves for the rest of the session after a choice that spells the scope out.

The panel holds the Future the agent awaits and resolves it itself, exactly once, then posts
``ApprovalPanel.Decided`` so the host can record the decision and close the panel. It never takes
focus on its own: keys typed for the prompt must never answer an approval (see ``app.py``), so
the user moves focus here deliberately (a key, Tab on an empty prompt, or a click).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from codeagent.agent.approvals import ApprovalRequest, Decision, Scope
from codeagent.agent.policy import first_word as command_prefix
from codeagent.tui.widgets.diff_rows import sanitize
from codeagent.tui.widgets.diff_view import DiffView


def scope_phrase(decision: Decision) -> str:
    """How far a session-wide approval reaches, in words ("all patches", ...); "" if once."""
    if decision.scope == Scope.ALL_PATCHES:
        return "all patches"
    if decision.scope == Scope.EXACT_COMMAND:
        return "this exact command"
    if decision.scope == Scope.COMMAND_PREFIX:
        return f"commands starting with `{sanitize(decision.prefix or '')}`"
    return ""


def scope_choices(request: ApprovalRequest) -> list[tuple[str, Decision]]:
    """The session-wide approvals on offer for ``request``, each with its spelled-out label."""
    if request.kind == "patch":
        return [("Approve all patches this session", Decision(True, scope=Scope.ALL_PATCHES))]
    command = request.command.strip()
    # Labels are drawn on the terminal: never let control characters through.
    exact = f"Approve exactly `{sanitize(command)}` this session"
    choices = [(exact, Decision(True, Scope.EXACT_COMMAND))]
    prefix = command_prefix(command)
    if prefix and prefix != command:
        choices.append(
            (
                f"Approve commands starting with `{sanitize(prefix)}` this session",
                Decision(True, Scope.COMMAND_PREFIX, prefix=prefix),
            )
        )
    return choices


_HINTS = {
    "keys": "y approve · n reject · a for session · Esc back",
    "waiting": "F2 or click to answer",
    "rejecting": "Enter rejects · Esc back",
    "choosing-scope": "Enter approves · Esc back",
}


class ApprovalPanel(Vertical, can_focus=True):
    """Shows an ``ApprovalRequest`` and turns key presses into one ``Decision``."""

    BINDINGS = [
        Binding("y", "approve", "Approve", id="approval.approve"),
        Binding("n", "reject", "Reject", id="approval.reject"),
        Binding(
            "a",
            "approve_session",
            "Session",
            id="approval.session",
            tooltip="approve for the session",
        ),
        Binding("escape", "cancel", "Back", id="approval.cancel"),
    ]

    class Decided(Message):
        """The user decided on ``request``."""

        def __init__(
            self,
            request: ApprovalRequest,
            decision: Decision,
            panel: ApprovalPanel | None = None,
        ):
            super().__init__()
            self.request = request
            self.decision = decision
            self.panel = panel

        @property
        def control(self) -> ApprovalPanel | None:
            return self.panel

    def __init__(
        self,
        request: ApprovalRequest,
        *,
        future: asyncio.Future[Decision] | None = None,
        cwd: Path | str | None = None,
        sandbox: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ):
        super().__init__(name=name, id=id, classes=classes)
        self.request = request
        #: what the agent awaits; resolved here, once, by ``_decide``
        self.future = future
        self.cwd = cwd
        self.sandbox = sandbox
        self.decided = False
        self._mode = "keys"  # "keys", "rejecting" or "choosing-scope"
        self._choices = scope_choices(request)

    def compose(self) -> ComposeResult:
        request = self.request
        if request.reason:
            yield Static(sanitize(request.reason), classes="approval-reason", markup=False)
        if request.kind == "patch" and not request.diff.strip():
            names = ", ".join(sanitize(f) for f in request.files) or "no files named"
            yield Static(
                f"No diff to show. Files: {names}", classes="approval-command", markup=False
            )
        elif request.kind == "patch":
            yield DiffView(request.diff, hunk_counts=request.hunks or None)
        else:
            lines = [sanitize(line) for line in request.command.split("\n")]
            yield Static("$ " + "\n  ".join(lines), classes="approval-command", markup=False)
            context = []
            if self.cwd is not None:
                context.append(f"in {self.cwd}")
            if self.sandbox:
                context.append(sanitize(self.sandbox))
            if context:
                yield Static("\n".join(context), classes="approval-context", markup=False)
        yield Input(
            placeholder="Reason for the model (optional). Enter sends, Esc goes back",
            id="approval-reject-reason",
        )
        yield OptionList(
            *(Option(label, id=str(n)) for n, (label, _) in enumerate(self._choices)),
            id="approval-scope",
            markup=False,  # labels quote the command, which may contain [brackets]
        )

    def on_mount(self) -> None:
        self._show_hint()
        kind = "Apply patch" if self.request.kind == "patch" else "Run command"
        title = sanitize(self.request.title) if self.request.title else ""
        # Content, not a str: a str title would be parsed as markup.
        self.border_title = Content(f"{kind}: {title}" if title else kind)

    def _show_hint(self) -> None:
        """The keys that act now: none until the panel (or its diff) has focus."""
        if self._mode == "keys" and not self.has_focus_within:
            self.border_subtitle = _HINTS["waiting"]
        else:
            self.border_subtitle = _HINTS[self._mode]

    def on_descendant_focus(self) -> None:
        self._show_hint()

    def on_descendant_blur(self) -> None:
        self._show_hint()

    def on_focus(self) -> None:
        self._show_hint()

    def on_blur(self) -> None:
        self._show_hint()

    def on_click(self) -> None:
        """A click on the panel is a deliberate move to it (keys act from then on)."""
        if not self.has_focus_within:
            self.focus_default()

    def focus_default(self) -> None:
        """Focus the diff (so hunk keys work) or the panel itself for a command."""
        diffs = self.query(DiffView)
        if diffs:
            diffs.first().focus()
        else:
            self.focus()

    @property
    def diff_view(self) -> DiffView | None:
        """The diff of a patch request."""
        diffs = self.query(DiffView)
        return diffs.first() if diffs else None

    # -- key handling ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.decided:
            return False
        if action == "cancel":
            return self._mode != "keys"
        if action in ("approve", "reject", "approve_session"):
            return self._mode == "keys"
        return True

    def _set_mode(self, mode: str) -> None:
        self.remove_class("-rejecting", "-choosing-scope")
        self._mode = mode
        if mode != "keys":
            self.add_class(f"-{mode}")
        self._show_hint()
        self.refresh_bindings()

    def _hunk_selection(self) -> dict[str, frozenset[int]] | None:
        view = self.diff_view
        if view is None or view.all_selected:
            return None
        return {path: frozenset(chosen) for path, chosen in view.selected_hunks.items()}

    def _decide(self, decision: Decision) -> None:
        if self.decided:
            return
        self.decided = True
        self.refresh_bindings()
        if self.future is not None and not self.future.done():
            self.future.set_result(decision)
        self.post_message(self.Decided(self.request, decision, self))

    def _approval(self, decision: Decision) -> Decision | None:
        """Add the hunk selection to an approval; ``None`` if no hunk at all is selected."""
        selection = self._hunk_selection()
        if selection is not None and not any(selection.values()):
            self.notify("No hunk selected: select one with space, or press n to reject.")
            self.app.bell()
            return None
        if selection is None:
            return decision
        return Decision(True, decision.scope, decision.prefix, selected_hunks=selection)

    def action_approve(self) -> None:
        """Approve this call once (only the selected hunks of a patch)."""
        decision = self._approval(Decision.approve())
        if decision is not None:
            self._decide(decision)

    def action_reject(self) -> None:
        """Ask for an optional reason, then reject."""
        self._set_mode("rejecting")
        self.query_one("#approval-reject-reason", Input).focus()

    def action_approve_session(self) -> None:
        """Offer the session-wide scopes, spelled out."""
        self._set_mode("choosing-scope")
        options = self.query_one("#approval-scope", OptionList)
        options.highlighted = 0
        options.focus()

    def action_cancel(self) -> None:
        """Leave the reason input or the scope choice without deciding."""
        self._set_mode("keys")
        self.focus_default()

    @on(Input.Submitted, "#approval-reject-reason")
    def _reason_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._decide(Decision.reject(event.value.strip()))

    @on(OptionList.OptionSelected, "#approval-scope")
    def _scope_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        _, choice = self._choices[int(event.option_id or 0)]
        decision = self._approval(choice)
        if decision is None:
            self.action_cancel()
            return
        self._decide(decision)


# Manual demo: python -m codeagent.tui.widgets.approval_panel [command]
if __name__ == "__main__":  # pragma: no cover
    import sys

    from textual.app import App
    from textual.widgets import Footer

    from codeagent.tui.themes import load_themes
    from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH

    _DEMO_DIFF = (
        "--- a/fizz.py\n+++ b/fizz.py\n@@ -1,3 +1,3 @@\n def fizz(n):\n"
        "-    if n % 3 == 0 and n % 5 == 0:\n+    if n % 15 == 0:\n         return 'FizzBuzz'\n"
    )
    if sys.argv[1:] == ["command"]:
        _request = ApprovalRequest("demo", "command", "run tests", command="pytest -x tests")
    else:
        _request = ApprovalRequest(
            "demo", "patch", "fix fizz", diff=_DEMO_DIFF, hunks={"fizz.py": 1}
        )

    class _Demo(App[Decision]):
        CSS_PATH = DIFF_CSS_PATH

        def compose(self) -> ComposeResult:
            yield ApprovalPanel(_request, cwd=Path.cwd())
            yield Footer()

        def on_mount(self) -> None:
            for theme in load_themes():
                self.register_theme(theme)
            self.theme = "dark"

        def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
            self.exit(message.decision)

    print(_Demo().run())
