"""Issue 12: a patch a crash left half applied is recovered when the TUI starts, and the chat
says so at once (before the user types anything)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import until

from codeagent.tui.widgets.chat import NoticeLine

CHILD = """
import sys
from pathlib import Path
from codeagent.workspace.files import FileChange, apply_changes
root = Path(sys.argv[1])
apply_changes(root, [FileChange("greet.py", "print('new')\\n"), FileChange("README.md", None),
                     FileChange("docs/new.md", "# new\\n")])
"""


async def test_the_tui_start_finishes_an_interrupted_patch_and_says_so(repo: Path, make_app):
    # Journal, 1 new directory, 2 staged files, commit mark, then 3 steps into the swap.
    env = {**os.environ, "CODEAGENT_TEST_CRASH_AT_STEP": str(1 + 1 + 2 + 1 + 3)}
    killed = subprocess.run([sys.executable, "-c", CHILD, str(repo)], env=env, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert [p for p in repo.rglob("*") if ".codeagent-" in p.name], "a half-applied patch"

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.query(NoticeLine).filter(".recovery"), "recovery notice")
        text = " ".join(str(n.render()) for n in app.query(NoticeLine).filter(".recovery"))
        assert "interrupted by a crash" in text and "new content" in text
    assert (repo / "greet.py").read_text() == "print('new')\n"
    assert not (repo / "README.md").exists()
    assert (repo / "docs" / "new.md").read_text() == "# new\n"
    assert not [p for p in repo.rglob("*") if ".codeagent-" in p.name]
