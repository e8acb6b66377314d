"""Fault tests keep sessions and user config in their own temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "userconf"))
    return tmp_path / "state"
