"""Fixtures for TUI tests: a real git repository, the local Responses server and a real Agent.

Every app test drives the real ``Agent`` over a loopback socket to ``EmbeddedServer`` playing a
small, unpaced script, so the tests exercise the same code a user runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.server import script as s

# Two functions far apart so that one patch can have two hunks.
GREET = "def greet():\n    return 'hi'\n" + "".join(f"\n# filler {i}\n" for i in range(12))
GREET += "\ndef part():\n    return 'bye'\n"

PATCH_BOTH = (
    "@@ def greet():\n-    return 'hi'\n+    return 'hello'\n"
    "@@ def part():\n-    return 'bye'\n+    return 'farewell'\n"
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed git repository with ``greet.py``; user config and state kept in tmp_path."""
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEAGENT_API_KEY", "CODEAGENT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "greet.py").write_text(GREET)
    (root / "README.md").write_text("# demo\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    return root


def tui_script() -> s.Script:
    """Episodes selected by the user's words; nothing is paced (tests never depend on timing)."""
    return s.Script(
        [
            s.Episode([s.Step([s.reasoning("Look at the greeting."), s.text(ANSWER)])], "hello"),
            s.Episode([s.Step([s.apply_patch("update_file", "greet.py", PATCH_BOTH)])], "patch"),
            s.Episode([s.Step([s.shell(["echo from-shell"])])], "shell"),
            s.Episode(
                [s.Step([s.shell(["for i in 1 2 3 4 5 6 7; do echo $i > f$i.txt; done"])])],
                "seven files",
            ),
            s.Episode(
                [s.Step([s.update_plan([("Read", "completed"), ("Fix", "in_progress")], "go")])],
                "plan",
            ),
            s.Episode([s.Step([s.text("slow " * 400)], tokens_per_second=40.0)], "slow"),
            s.Episode([s.Step([s.reasoning(LONG_REASONING), s.text(LONG_ANSWER)])], "long"),
        ],
        default_reply="Okay.",
    )


#: numbered lines, so a lost or reordered delta shows up in the streamed text
LONG_ANSWER = "".join(f"- line {i:04d} of the long answer\n" for i in range(600))
LONG_REASONING = " ".join(f"step{i}" for i in range(300))
ANSWER = "Hello **world**, here is code:\n\n```python\nprint('hi')\n```\n"


@pytest.fixture
def server() -> Iterator:
    from codeagent.server.embedded import EmbeddedServer

    srv = EmbeddedServer(tui_script())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def make_app(repo: Path, server) -> Iterator[Callable]:
    """Build a ``CodeAgentApp`` on a real Agent talking to ``server``; agents closed at teardown."""
    from codeagent.agent.loop import Agent
    from codeagent.config import load_settings
    from codeagent.tui.app import CodeAgentApp
    from codeagent.tui.approver import TuiApprover

    def make(**overrides) -> CodeAgentApp:
        values = {
            "base_url": server.base_url,
            "api_key": "sk-test-secret",
            "approval_policy": "ask",
            "sandbox": "none",
            "model": DEFAULT_MODEL,  # the strict local server knows only catalog models
            **overrides,
        }
        settings = load_settings(repo, values)
        approver = TuiApprover()
        agent = Agent(settings, repo, approver)
        return CodeAgentApp(agent, approver, settings=settings, root=repo)

    yield make


async def until(pilot, predicate: Callable[[], object], what: str, limit: int = 500):
    """Let the app run until ``predicate()`` holds (fails after ``limit`` idle rounds)."""
    for _ in range(limit):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")
