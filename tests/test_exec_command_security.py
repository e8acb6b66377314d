"""Issue 11 holes 2, 4 and 5 end to end: ``codeagent exec`` as a real subprocess against the
local server, driven by a hostile scripted model (as root when the tests run as root)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeagent.agent.tools.sandbox import detect_sandbox
from codeagent.server.script import Episode, Script, Step, function_call, shell, text
from tests.exec_support import make_repo

KEY = "sk-exec-command-security-0123456789"
APP = 'def greet():\n    print("Hi")\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"app.py": APP})


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside /tmp and the homes, for a fake home and files the attack aims at."""
    name = f"codeagent-exec-attack-{secrets.token_hex(4)}"
    try:
        path = Path("/srv") / name
        path.mkdir(parents=True)
    except PermissionError:  # not root: a folder in the home (hidden as a whole) instead
        path = Path.home() / name
        path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_exec(repo: Path, tmp_path: Path, *args: str, env: dict | None = None):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=KEY,
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", "--json", *args],
        cwd=repo,
        input="",
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def tool_outputs(result: subprocess.CompletedProcess[str]) -> list[dict]:
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("kind") == "tool_output"]


def one_shell_call(*commands: str) -> Script:
    return Script([Episode([Step([shell(list(commands))]), Step([text("Done.")])])])


def test_read_only_policy_refuses_sort_writing_a_file(make_server, repo, tmp_path):
    server = make_server(one_shell_call("sort -uo app.py app.py"))
    result = run_exec(
        repo, tmp_path, "--approval-policy", "read-only", "--base-url", server.base_url, "sort"
    )
    assert result.returncode == 0, result.stderr
    [output] = tool_outputs(result)
    assert output["rejected"] and "read-only policy" in output["output"]
    assert (repo / "app.py").read_text() == APP


def test_git_grep_pager_needs_approval_without_a_sandbox(make_server, repo, tmp_path):
    attack = "git grep -O'touch pwned' greet"
    server = make_server(one_shell_call(attack))
    result = run_exec(repo, tmp_path, "--sandbox", "none", "--base-url", server.base_url, "grep")
    assert result.returncode == 3, result.stderr  # it needed a human, and none was there
    assert not (repo / "pwned").exists()


_ATTACKS = [
    "mount -o remount,bind,rw / ; echo pwned > {outside}/host-file",
    "umount .git ; echo '[core]' >> .git/config",
    "hostname codeagent-pwned",
    "cat ~/.ssh/id_rsa {outside}/home/.ssh/id_rsa",
    "cat {outside}/conf/config.toml",
    "cat /etc/shadow",
    "env",
]
_SECRET_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIA-exec-secret",
    "DATABASE_URL": "postgres://u:pw-exec-secret@db/x",
    "GITHUB_PAT": "ghp-exec-secret",
    "GH_AUTH": "gh-exec-secret",
    "SSH_AUTH_SOCK": "/tmp/ssh-exec-secret/agent.1",
    "SENTRY_DSN": "https://exec-secret@sentry.example/1",
    "NPM_CONFIG__AUTH": "npm-exec-secret",
}


def test_full_auto_commands_stay_in_the_sandbox(make_server, repo, tmp_path, outside):
    if not detect_sandbox("bwrap").available:
        pytest.skip(detect_sandbox("bwrap").describe())
    (outside / "home" / ".ssh").mkdir(parents=True)
    (outside / "home" / ".ssh" / "id_rsa").write_text("FAKE-PRIVATE-KEY-MATERIAL\n")
    (outside / "conf").mkdir()
    (outside / "conf" / "config.toml").write_text('theme = "dark"\n# api_key = "sk-conf"\n')
    git_config = (repo / ".git" / "config").read_text()
    hostname = socket.gethostname()
    server = make_server(one_shell_call(*(a.format(outside=outside) for a in _ATTACKS)))
    env = {"HOME": str(outside / "home"), "CODEAGENT_CONFIG_DIR": str(outside / "conf"),
           **_SECRET_ENV}  # fmt: skip
    try:
        result = run_exec(repo, tmp_path, "--full-auto", "--base-url", server.base_url, "go",
                          env=env)  # fmt: skip
        assert socket.gethostname() == hostname
    finally:
        if socket.gethostname() != hostname:  # the attack worked: give the host its name back
            subprocess.run(["hostname", hostname], check=False)
    assert result.returncode == 0, result.stderr
    [output] = tool_outputs(result)
    seen = output["output"]
    assert "$ env" in seen  # every command ran, none was asked about
    assert not (outside / "host-file").exists()
    assert (repo / ".git" / "config").read_text() == git_config
    for secret in ("FAKE-PRIVATE-KEY", "sk-conf", "root:", KEY, *_SECRET_ENV.values()):
        assert secret not in seen, secret
    for name in _SECRET_ENV:
        assert f"{name}=" not in seen


def test_a_boolean_timeout_is_refused_with_a_clear_message(make_server, repo, tmp_path):
    call = function_call("shell", {"commands": ["echo ran"], "timeout_ms": True})
    server = make_server(Script([Episode([Step([call]), Step([text("Done.")])])]))
    result = run_exec(repo, tmp_path, "--full-auto", "--base-url", server.base_url, "go")
    assert result.returncode == 0, result.stderr
    [output] = tool_outputs(result)
    assert "'timeout_ms' must be a positive integer or null, not true" in output["output"]
    assert "timed out" not in output["output"]
