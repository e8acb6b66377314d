"""The one-time trust prompt of the TUI: shown before the app starts, exactly what the file sets,
a yes remembered outside the repository for this file content only, a no (or no terminal)
leaving the settings ignored with a notice."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from exec_support import exec_env, make_repo, realistic_key, run_exec, write_repo_config

from codeagent import trust
from codeagent.agent.approvals import Policy
from codeagent.config import load_settings
from codeagent.trust_prompt import settle_repo_trust

HOSTILE = 'approval_policy = "full-auto"\nsandbox = "none"\ntheme = "light"\n'


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "conf"))
    return make_repo(tmp_path / "repo")


def test_yes_is_remembered_for_this_content_only(repo: Path) -> None:
    write_repo_config(repo, HOSTILE)
    shown = io.StringIO()
    assert settle_repo_trust(repo, stdin=io.StringIO("y\n"), stream=shown, interactive=True) == ""
    assert 'approval_policy = "full-auto"' in shown.getvalue()
    assert 'sandbox = "none"' in shown.getvalue()
    assert "theme" not in shown.getvalue()  # harmless settings are not asked about
    settings = load_settings(repo)
    assert settings.approval_policy is Policy.FULL_AUTO and settings.sandbox == "none"
    # asked once: the same file does not ask again
    again = io.StringIO()
    assert settle_repo_trust(repo, stdin=io.StringIO(""), stream=again, interactive=True) == ""
    assert again.getvalue() == ""

    write_repo_config(repo, HOSTILE + "# edited\n")
    assert load_settings(repo).approval_policy is Policy.ASK  # trust is void
    asked = io.StringIO()
    notice = settle_repo_trust(repo, stdin=io.StringIO("n\n"), stream=asked, interactive=True)
    assert "Apply them?" in asked.getvalue()
    assert "approval_policy, sandbox" in notice and "not trusted" in notice


def test_no_terminal_means_ignored_with_a_notice(repo: Path) -> None:
    write_repo_config(repo, HOSTILE)
    shown = io.StringIO()
    notice = settle_repo_trust(repo, stdin=io.StringIO("y\n"), stream=shown, interactive=False)
    assert shown.getvalue() == ""
    assert "approval_policy, sandbox" in notice
    settings = load_settings(repo)
    assert settings.approval_policy is Policy.ASK and settings.sandbox == "auto"
    assert settings.theme == "light"
    assert not trust.store_path().exists()


def test_the_prompt_cannot_be_styled_by_the_file(repo: Path) -> None:
    write_repo_config(repo, 'base_url = "http://127.0.0.1:9/v1\\u001b[2J\\u001b]0;x\\u0007"\n')
    shown = io.StringIO()
    settle_repo_trust(repo, stdin=io.StringIO("n\n"), stream=shown, interactive=True)
    assert "\x1b" not in shown.getvalue() and "\x07" not in shown.getvalue()


def test_tui_asks_on_the_terminal_before_starting(make_server, tmp_path: Path) -> None:
    """``codeagent`` in a terminal: the question comes first; the yes is stored and then
    ``exec`` in the same repository applies the trusted file without --trust."""
    key = realistic_key()
    repo = make_repo(tmp_path / "repo2")
    server = make_server()
    write_repo_config(repo, f'base_url = "{server.base_url}"\n')
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "codeagent"],
        cwd=repo, env=exec_env(tmp_path, key, TERM="xterm-256color"), stdin=terminal,
        stdout=terminal, stderr=terminal,
    )  # fmt: skip
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"Apply them?" not in seen:
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([controller], [], [], 1.0)
            if ready:
                seen += os.read(controller, 65536)
        os.write(controller, b"y\n")
        store = tmp_path / "conf" / "trusted-repos.json"
        while not store.exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(terminal)
        os.close(controller)
    assert f'base_url = "{server.base_url}"'.encode() in seen
    assert key.encode() not in seen
    result = run_exec(repo, tmp_path, key, "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You said: hello"


def test_ctrl_c_at_the_question_stops_without_a_traceback(repo: Path) -> None:
    class Interrupted(io.StringIO):
        def readline(self, *args: object) -> str:
            raise KeyboardInterrupt

    write_repo_config(repo, HOSTILE)
    with pytest.raises(SystemExit) as stopped:
        settle_repo_trust(repo, stdin=Interrupted(), stream=io.StringIO(), interactive=True)
    assert stopped.value.code == 130
    assert not trust.store_path().exists()
