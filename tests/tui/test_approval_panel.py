"""ApprovalPanel in a tiny host app: every key path ends in exactly one right Decision."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer, Input
from textual.worker import WorkerCancelled

from codeagent.agent.approvals import ApprovalRequest, Decision, Scope
from codeagent.agent.policy import SessionGrants
from codeagent.tui.themes import load_themes
from codeagent.tui.widgets.approval_panel import ApprovalPanel, command_prefix, scope_choices
from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH, DiffView

PATCH_DIFF = """\
--- a/app.py
+++ b/app.py
@@ -1,2 +1,2 @@
 import os
-x = 1
+x = 2
@@ -30,2 +30,2 @@
 a = 1
-b = 2
+b = 3
--- a/lib.py
+++ b/lib.py
@@ -5,1 +5,1 @@
-old()
+new()
"""

PATCH = ApprovalRequest(
    call_id="call_1",
    kind="patch",
    title="update app.py, lib.py",
    diff=PATCH_DIFF,
    files=("app.py", "lib.py"),
    hunks={"app.py": 2, "lib.py": 1},
)
COMMAND = ApprovalRequest(
    call_id="call_2",
    kind="command",
    title="run the tests",
    command="pytest -x tests/unit",
    reason="may write files",
)


class Host(App[None]):
    """One ApprovalPanel plus a Footer, recording every Decided message."""

    CSS_PATH = DIFF_CSS_PATH

    def __init__(self, request: ApprovalRequest, **panel_options):
        super().__init__()
        self.request = request
        self.panel_options = panel_options
        self.decided: list[ApprovalPanel.Decided] = []

    def compose(self) -> ComposeResult:
        yield ApprovalPanel(self.request, **self.panel_options)
        yield Footer()

    def on_mount(self) -> None:
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = "dark"
        # The panel never focuses itself (input safety); the host moves focus to it, as the
        # app does on F2.
        self.call_after_refresh(lambda: self.query_one(ApprovalPanel).focus_default())

    def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
        self.decided.append(message)


async def settle(pilot) -> None:
    # A theme change cancels and restarts the highlighting worker; wait for the one that runs.
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


def only_decision(app: Host) -> Decision:
    assert len(app.decided) == 1, app.decided
    message = app.decided[0]
    assert message.request is app.request
    return message.decision


async def test_y_approves_once_and_further_keys_do_nothing():
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("y", "y", "n", "a")
        await pilot.pause()
        assert only_decision(app) == Decision(True)  # all hunks: selected_hunks is None
        assert app.query_one(ApprovalPanel).decided


async def test_partial_hunks_are_reported_per_file():
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.focused, DiffView)
        await pilot.press("j", "space", "y")  # leave out app.py's second hunk
        await pilot.pause()
        decision = only_decision(app)
        assert decision.approved and decision.scope is None
        assert decision.selected_hunks == {"app.py": frozenset({0}), "lib.py": frozenset({0})}


async def test_no_hunk_selected_refuses_to_approve_and_keeps_waiting():
    app = Host(PATCH)
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("space", "j", "space", "j", "space", "y")
        await pilot.pause()
        assert app.decided == []
        assert any("No hunk selected" in n.message for n in app._notifications)
        await pilot.press("space", "y")  # select lib.py's hunk again, then approve
        await pilot.pause()
        assert only_decision(app).selected_hunks == {
            "app.py": frozenset(),
            "lib.py": frozenset({0}),
        }


@pytest.mark.parametrize("reason", ["use a helper instead", ""])
async def test_n_asks_for_a_reason_then_rejects(reason: str):
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        field = app.query_one("#approval-reject-reason", Input)
        assert app.focused is field and field.display
        # A "y" typed here is text for the reason, not an approval (then erased again).
        await pilot.press(*reason, "y", "backspace")
        await pilot.press("enter")
        await pilot.pause()
        assert only_decision(app) == Decision.reject(reason)


async def test_escape_leaves_the_reason_without_deciding():
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("n", "x", "escape")
        await pilot.pause()
        assert app.decided == [] and isinstance(app.focused, DiffView)
        assert not app.query_one("#approval-reject-reason", Input).display
        await pilot.press("y")
        await pilot.pause()
        assert only_decision(app).approved


async def test_a_on_a_patch_offers_all_patches_this_session():
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        options = app.query_one("#approval-scope")
        assert [str(o.prompt) for o in options.options] == ["Approve all patches this session"]
        await pilot.press("enter")
        await pilot.pause()
        assert only_decision(app) == Decision(True, scope=Scope.ALL_PATCHES)


async def test_command_scope_exact_or_prefix_spelled_out():
    for presses, expected in [
        (("a", "enter"), Decision(True, scope=Scope.EXACT_COMMAND)),
        (("a", "down", "enter"), Decision(True, scope=Scope.COMMAND_PREFIX, prefix="pytest")),
    ]:
        app = Host(COMMAND, cwd="/work/repo", sandbox="bubblewrap: no network, .git read-only")
        async with app.run_test() as pilot:
            await settle(pilot)
            await pilot.press(presses[0])
            await pilot.pause()
            labels = [str(o.prompt) for o in app.query_one("#approval-scope").options]
            assert labels == [
                "Approve exactly `pytest -x tests/unit` this session",
                "Approve commands starting with `pytest` this session",
            ]
            await pilot.press(*presses[1:])
            await pilot.pause()
            assert only_decision(app) == expected


async def test_command_panel_shows_command_cwd_sandbox_and_footer_keys():
    app = Host(COMMAND, cwd="/work/repo", sandbox="bubblewrap: no network")
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        panel = app.query_one(ApprovalPanel)
        assert app.focused is panel
        parts = panel.query(".approval-command, .approval-context")
        shown = "\n".join(str(part.render()) for part in parts)
        assert "$ pytest -x tests/unit" in shown
        assert "in /work/repo" in shown and "bubblewrap: no network" in shown
        keys = {k for k, b in app.active_bindings.items() if b.binding.show and b.enabled}
        assert {"y", "n", "a"} <= keys and "j" not in keys
        assert "escape" not in {k for k, b in app.active_bindings.items() if b.enabled}


async def test_patch_footer_shows_hunk_keys_too():
    app = Host(PATCH)
    async with app.run_test() as pilot:
        await settle(pilot)
        keys = {k for k, b in app.active_bindings.items() if b.binding.show and b.enabled}
        assert {"y", "n", "a", "j", "k", "space"} <= keys


def test_scope_choices_and_prefix_edge_cases():
    assert command_prefix("git status --short") == "git"
    # The word as written, quotes included: that is what a prefix grant matches.
    assert command_prefix("  'my tool' --x") == "'my tool'"
    assert command_prefix("echo 'unbalanced") == "echo"
    assert command_prefix("") == ""
    # A one-word command has nothing broader than itself to offer.
    one_word = ApprovalRequest("c", "command", "t", command="ls")
    assert [d.scope for _, d in scope_choices(one_word)] == [Scope.EXACT_COMMAND]


@pytest.mark.parametrize(
    "command", ["git status --short", "'my tool' --x", "echo 'unbalanced", '"./run tests" -v']
)
def test_the_offered_prefix_grant_covers_the_command_it_was_offered_for(command):
    request = ApprovalRequest("c", "command", "t", command=command)
    [(_, decision)] = [c for c in scope_choices(request) if c[1].scope is Scope.COMMAND_PREFIX]
    grants = SessionGrants(prefixes={decision.prefix or ""})
    assert grants.covers_command(command)


async def test_markup_and_control_characters_in_requests_are_shown_literally():
    request = ApprovalRequest(
        call_id="c",
        kind="command",
        title="[b]title[/b]",
        command="echo '[red]hi[/red]' \x1b[2J\ncat <<EOF",
        reason="[link=x]why[/link]",
    )
    app = Host(request)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        panel = app.query_one(ApprovalPanel)
        assert panel.border_title == "Run command: \\[b]title\\[/b]"  # escaped markup
        text = "\n".join(
            str(s.render()) for s in panel.query(".approval-command, .approval-reason")
        )
        assert "echo '[red]hi[/red]' ␛[2J\n  cat <<EOF" in text
        assert "[link=x]why[/link]" in text
        await pilot.press("a")
        await pilot.pause()
        labels = [str(o.prompt) for o in app.query_one("#approval-scope").options]
        assert "[red]hi[/red]" in labels[0]
        svg = app.export_screenshot()
        assert "[red]hi[/red]" in svg.replace("&#160;", " ") and "\x1b" not in svg


async def test_patch_without_a_diff_names_its_files_and_can_still_be_decided():
    request = ApprovalRequest("c", "patch", "empty files", files=("a.txt", "b/[c].txt"))
    app = Host(request)
    async with app.run_test() as pilot:
        await settle(pilot)
        panel = app.query_one(ApprovalPanel)
        assert panel.diff_view is None and app.focused is panel
        shown = str(panel.query_one(".approval-command").render())
        assert shown == "No diff to show. Files: a.txt, b/[c].txt"
        await pilot.press("y")
        await pilot.pause()
        assert only_decision(app) == Decision(True)


async def test_the_panel_resolves_the_future_it_holds_exactly_once():
    """The agent awaits the Future; the panel (not the app) resolves it from the key press."""
    import asyncio

    class FutureHost(Host):
        def compose(self) -> ComposeResult:
            self.future = asyncio.get_running_loop().create_future()
            yield ApprovalPanel(self.request, future=self.future)
            yield Footer()

    app = FutureHost(COMMAND)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert not app.future.done()
        await pilot.press("y", "n")
        await pilot.pause()
        assert app.future.result() == Decision(True)
        assert only_decision(app) == Decision(True)


async def test_the_panel_does_not_take_focus_when_it_appears():
    class TypingElsewhere(App[None]):
        """The user types into a field when the panel arrives (as into the app's prompt).
        Not a ``Host``: Textual would run Host.on_mount too, which focuses the panel."""

        CSS_PATH = DIFF_CSS_PATH

        def __init__(self) -> None:
            super().__init__()
            self.decided: list[ApprovalPanel.Decided] = []

        def compose(self) -> ComposeResult:
            yield Input(id="typing")
            yield ApprovalPanel(PATCH)
            yield Footer()

        def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
            self.decided.append(message)

    app = TypingElsewhere()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("y", "a", "n")
        await pilot.pause()
        assert app.decided == []
        assert app.query_one("#typing", Input).value == "yan"
        assert "F2" in str(app.query_one(ApprovalPanel).border_subtitle)
