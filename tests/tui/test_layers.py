"""The one-way layers: the agent never loads Textual, the TUI never opens sockets or runs git."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "codeagent" / "tui"
FORBIDDEN_IN_TUI = {"websockets", "httpx", "httpx_sse", "git", "socket", "subprocess"}
#: ways to start a process without importing subprocess (git would be the usual reason)
PROCESS_CALLS = {"create_subprocess_exec", "create_subprocess_shell", "system", "popen"}
PROCESS_CALLS |= {"spawnl", "spawnlp", "spawnv", "spawnvp", "execv", "execvp", "execl", "execlp"}


def test_the_agent_imports_no_textual() -> None:
    code = (
        "import sys, codeagent.agent.loop, codeagent.responses.transport; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def layer_offenses(name: str, source: str) -> list[str]:
    """Imports of socket/git libraries and process-starting calls in one module's ``source``."""
    offenders = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in PROCESS_CALLS:
                offenders.append(f"{name}:{node.lineno}: {called}()")
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        else:
            continue
        offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN_IN_TUI]
    return offenders


def test_tui_modules_do_not_touch_the_network_or_git_directly() -> None:
    """No socket or git libraries, and no child processes (so no ``git`` command either)."""
    offenders = []
    for path in TUI.rglob("*.py"):
        offenders += layer_offenses(path.name, path.read_text(encoding="utf-8"))
    assert offenders == []


def test_the_layer_check_catches_git_run_from_the_tui() -> None:
    source = (
        "import asyncio\nfrom subprocess import run\n"
        "async def f():\n    await asyncio.create_subprocess_exec('git', 'status')\n"
    )
    assert layer_offenses("bad.py", source) == [
        "bad.py: subprocess",
        "bad.py:4: create_subprocess_exec()",
    ]
