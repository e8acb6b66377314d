"""The approval panel with a real prepared patch: the hunks a user picks are the ones applied."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.worker import WorkerCancelled

from codeagent.agent.approvals import ApprovalRequest
from codeagent.agent.tools.patch import prepare_patch
from codeagent.agent.tools.patch_parser import parse_patch
from codeagent.tui.widgets.approval_panel import ApprovalPanel
from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH, DiffView

ORIGINAL = "def greet():\n    return 'hi'\n" + "".join(f"# filler {i}\n" for i in range(20))
ORIGINAL += "def part():\n    return 'bye'\n"
PATCH = """\
*** Begin Patch
*** Update File: greet.py
@@ def greet():
-    return 'hi'
+    return 'hello'
@@ def part():
-    return 'bye'
+    return 'farewell'
*** Add File: notes/todo.md
+# Todo
+- nothing
*** End Patch
"""


class Host(App[None]):
    CSS_PATH = DIFF_CSS_PATH

    def __init__(self, request: ApprovalRequest):
        super().__init__()
        self.request = request
        self.decided: list[ApprovalPanel.Decided] = []

    def compose(self) -> ComposeResult:
        yield ApprovalPanel(self.request)

    def on_mount(self) -> None:
        # the panel never focuses itself; focus it once its diff is mounted
        self.call_after_refresh(lambda: self.query_one(ApprovalPanel).focus_default())

    def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
        self.decided.append(message)


async def settle(pilot) -> None:
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


async def decide(tmp_path: Path, *keys: str):
    (tmp_path / "greet.py").write_text(ORIGINAL)
    prepared = prepare_patch(parse_patch(PATCH), tmp_path)
    request = ApprovalRequest(
        call_id="call_1",
        kind="patch",
        title=prepared.title(),
        diff=prepared.unified_diff(),
        files=tuple(prepared.files),
        hunks=prepared.hunk_counts(),
    )
    app = Host(request)
    async with app.run_test() as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.error is None and view.hunk_count == sum(request.hunks.values())
        await pilot.press(*keys)
        await pilot.pause()
    assert len(app.decided) == 1
    return prepared, app.decided[0].decision


async def test_leaving_out_the_second_hunk_applies_only_the_first(tmp_path: Path):
    prepared, decision = await decide(tmp_path, "j", "space", "y")
    assert decision.approved
    assert decision.selected_hunks == {"greet.py": {0}, "notes/todo.md": {0}}
    prepared.apply(decision.selected_hunks)
    text = (tmp_path / "greet.py").read_text()
    assert "return 'hello'" in text and "return 'bye'" in text
    assert (tmp_path / "notes" / "todo.md").read_text() == "# Todo\n- nothing\n"


async def test_leaving_out_the_new_file_does_not_create_it(tmp_path: Path):
    prepared, decision = await decide(tmp_path, "j", "j", "space", "y")
    prepared.apply(decision.selected_hunks)
    assert "return 'farewell'" in (tmp_path / "greet.py").read_text()
    assert not (tmp_path / "notes" / "todo.md").exists()


async def test_approving_everything_sends_no_selection(tmp_path: Path):
    prepared, decision = await decide(tmp_path, "y")
    assert decision.selected_hunks is None
    prepared.apply(decision.selected_hunks)
    text = (tmp_path / "greet.py").read_text()
    assert "return 'hello'" in text and "return 'farewell'" in text
