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


def test_resume_without_sessions_says_so(tmp_path: Path) -> None:
    result = run_codeagent(["resume"], tmp_path, tmp_path, OPENAI_API_KEY="sk-secret-value")
    assert result.returncode == 2
    assert "no session to resume" in result.stderr
    assert "sk-secret-value" not in result.stderr + result.stdout


def test_demo_environment_copies_the_sample_and_cleans_up(tmp_path, monkeypatch) -> None:
    from codeagent.cli import build_parser
    from codeagent.tui.launch import demo_environment

    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    args = build_parser().parse_args(["--demo"])
    with demo_environment(args) as (settings, root):
        assert (root / ".git").is_dir()
        assert settings.base_url.startswith("http://127.0.0.1:")
        assert settings.api_key is not None
    assert not root.exists()


def test_flags_given_with_demo_apply(tmp_path, monkeypatch) -> None:
    """`--demo --full-auto` ran with the ask policy: the demo's own default overrode the flag."""
    from codeagent.cli import build_parser
    from codeagent.tui.launch import demo_environment

    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    parser = build_parser()
    with demo_environment(parser.parse_args(["--demo", "--full-auto"])) as (settings, _):
        assert settings.approval_policy == "full-auto"
    with demo_environment(parser.parse_args(["--demo", "--sandbox", "none"])) as (settings, _):
        assert settings.approval_policy == "ask" and settings.sandbox == "none"


def test_demo_with_a_base_url_is_refused_clearly(tmp_path: Path) -> None:
    result = run_codeagent(["--demo", "--base-url", "http://x/v1"], tmp_path, tmp_path)
    assert result.returncode == 2
    assert "--demo runs its own local server" in result.stderr
    assert "Traceback" not in result.stderr
