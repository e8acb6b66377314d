"""Fixtures for agent tests: a real git repository, settings pointing at a local server and an
isolated state directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from agent_support import API_KEY, git

from codeagent.config import Settings


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions and user config of each test live in its own tmp directory."""
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "userconf"))
    return tmp_path / "state"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit: ``app.py`` and ``notes.txt``."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "Test")
    (root / "app.py").write_text('def greet():\n    print("Hi")\n')
    (root / "notes.txt").write_text("one\ntwo\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """Settings for a server: ``settings_for(server, approval_policy="ask", ...)``."""

    def make(server: Any, **fields: Any) -> Settings:
        fields.setdefault("api_key", API_KEY)
        fields.setdefault("transport", "websocket")
        return Settings(base_url=server.base_url, **fields)

    return make
