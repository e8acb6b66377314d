"""``codeagent`` start-up without a key and with bad settings (real subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_codeagent(args: list[str], cwd: Path, tmp_path: Path, **env: str):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEAGENT_"))}
    clean.update(
        CODEAGENT_CONFIG_DIR=str(tmp_path / "config"),
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "codeagent", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_api_key_explains_how_to_set_one_and_exits_2(tmp_path: Path) -> None:
    result = run_codeagent([], tmp_path, tmp_path)
    assert result.returncode == 2
    assert "export OPENAI_API_KEY=" in result.stderr
    assert "--base-url" in result.stderr and "codeagent serve" in result.stderr
    assert "codeagent --demo" in result.stderr
    assert result.stdout == ""


def test_bad_setting_is_named_and_exits_2(tmp_path: Path) -> None:
    result = run_codeagent([], tmp_path, tmp_path, CODEAGENT_TRANSPORT="pigeon")
    assert result.returncode == 2
    assert "transport" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_demo_and_config_flags(tmp_path: Path) -> None:
    result = run_codeagent(["--help"], tmp_path, tmp_path)
    assert result.returncode == 0
    assert "--demo" in result.stdout and "--base-url" in result.stdout
