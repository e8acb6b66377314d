"""``codeagent exec`` loads only what a headless run uses: no terminal UI or CLI libraries.

Run as a real subprocess against the local server with Python's import log on
(``PYTHONPROFILEIMPORTTIME``), so every module the process imported, in any thread, is listed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.exec_support import make_repo

KEY = "sk-exec-startup-test-0123456789"
#: Textual and rich draw the TUI; pygments colours code in it; click is httpx's own CLI.
UI_PACKAGES = ("textual", "rich", "pygments", "click")


def imported_modules(stderr: str) -> set[str]:
    """The module names in ``-X importtime`` lines (``import time: self | total | name``)."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name)
    return names


def test_exec_answers_without_importing_ui_libraries(make_server, tmp_path: Path) -> None:
    server = make_server(api_key=KEY)
    repo = make_repo(tmp_path / "repo")
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=KEY,
        PYTHONPROFILEIMPORTTIME="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", "--base-url", server.base_url, "hello"],
        cwd=repo,
        input="",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "You said: hello"
    modules = imported_modules(result.stderr)
    assert {"codeagent.agent.loop", "websockets"} <= modules  # the log is complete
    loaded = sorted(m for m in modules if m.split(".")[0] in UI_PACKAGES)
    assert loaded == []
