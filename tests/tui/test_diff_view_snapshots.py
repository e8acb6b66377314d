"""SVG snapshots of the diff view and approval panel under different themes.

Regenerate after an intended visual change with
``pytest tests/tui/test_diff_view_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from textual.worker import WorkerCancelled

from codeagent.agent.approvals import ApprovalRequest
from codeagent.tui.themes import load_themes
from codeagent.tui.widgets.approval_panel import ApprovalPanel
from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH

DIFF = '''\
diff --git a/src/fizz.py b/src/fizz.py
--- a/src/fizz.py
+++ b/src/fizz.py
@@ -1,7 +1,7 @@
 def fizz_buzz(n: int) -> str:
     """Return Fizz, Buzz, FizzBuzz or the number."""
-    if n % 3 == 0 and n % 5 == 0:
+    if n % 15 == 0:
         return "FizzBuzz"
     if n % 3 == 0:
         return "Fizz"  # three
     return str(n)
@@ -20,3 +20,4 @@ def main() -> int:
     for i in range(1, 16):
         print(fizz_buzz(i))
+    return 0

diff --git a/README.md b/README.md
new file mode 100644
--- /dev/null
+++ b/README.md
@@ -0,0 +1,3 @@
+# Fizz
+
+Prints *FizzBuzz* up to `15`.
diff --git a/logo.png b/logo.png
Binary files a/logo.png and b/logo.png differ
'''

REQUEST = ApprovalRequest(
    call_id="call_snap",
    kind="patch",
    title="fix fizz_buzz and add a README",
    diff=DIFF,
    files=("src/fizz.py", "README.md", "logo.png"),
    hunks={"src/fizz.py": 2, "README.md": 1},
)


class Host(App[None]):
    CSS_PATH = DIFF_CSS_PATH

    def __init__(self, request: ApprovalRequest, theme: str, **options):
        super().__init__()
        self.request = request
        self.start_theme = theme
        self.options = options

    def compose(self) -> ComposeResult:
        yield ApprovalPanel(self.request, **self.options)
        yield Footer()

    def on_mount(self) -> None:
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = self.start_theme
        # The panel never focuses itself (input safety); the host does, as the app on F2.
        self.call_after_refresh(lambda: self.query_one(ApprovalPanel).focus_default())


async def _settle(pilot, footer_shows: str = "Approve") -> None:
    """Wait for highlighting, then for the footer to show a key (it recomposes later)."""
    # A theme change cancels and restarts the highlighting worker; wait for the one that runs.
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()
    for _ in range(100):
        if any(key.description == footer_shows for key in pilot.app.query(FooterKey)):
            break
        await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_patch_awaiting_approval(snap_compare, theme: str):
    """A patch over two files and a binary: file headers with +/- counts, the first hunk
    marked current in the gutter, Python and Markdown coloured by the theme's pygments style,
    and y/n/a plus j/k/space in the footer."""
    assert snap_compare(Host(REQUEST, theme), terminal_size=(100, 32), run_before=_settle)


def test_partial_selection_high_contrast(snap_compare):
    """The second hunk is current and left out: its header reads "[ ] skipped" and its lines
    are struck through; the file header says "1/2 hunks selected"."""

    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("j", "space")
        await pilot.pause()

    app = Host(REQUEST, "high-contrast")
    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


def test_command_scope_choice(snap_compare):
    """A command awaiting approval, with its folder and sandbox note, after pressing "a":
    the two session scopes are spelled out, the first highlighted."""
    request = ApprovalRequest(
        call_id="call_cmd",
        kind="command",
        title="run the tests",
        command="python3 -m unittest discover -s tests",
        reason="Commands that may write need approval under the 'ask' policy.",
    )

    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("a")
        await _settle(pilot, footer_shows="Back")

    app = Host(request, "solarized", cwd="/home/user/project", sandbox="sandbox: bubblewrap")
    assert snap_compare(app, terminal_size=(90, 20), run_before=run_before)
