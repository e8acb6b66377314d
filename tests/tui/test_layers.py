"""The one-way layers: the agent never loads Textual, the TUI never opens sockets or runs git."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "codeagent" / "tui"
FORBIDDEN_IN_TUI = {"websockets", "httpx", "httpx_sse", "git", "socket"}


def test_the_agent_imports_no_textual() -> None:
    code = (
        "import sys, codeagent.agent.loop, codeagent.responses.transport; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_tui_modules_do_not_touch_the_network_or_git_directly() -> None:
    offenders = []
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN_IN_TUI]
    assert offenders == []
