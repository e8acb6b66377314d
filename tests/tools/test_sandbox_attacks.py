"""The attacks of issue 11 (hole 4), each run through the real sandbox (as root where the test
runs as root, as CI does): every one fails and leaves the host as it was."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeagent.agent.tools import sandbox as sandbox_module
from codeagent.agent.tools.process_limit import MAX_PROCESSES
from codeagent.agent.tools.sandbox import Sandbox, detect_sandbox
from codeagent.agent.tools.shell import run_commands

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIA-sandbox-secret",
    "DATABASE_URL": "postgres://user:pw-sandbox-secret@db/x",
    "GITHUB_PAT": "ghp-sandbox-secret",
    "GH_AUTH": "gh-sandbox-secret",
    "SSH_AUTH_SOCK": "/tmp/ssh-sandbox-secret/agent.1",
    "SENTRY_DSN": "https://sandbox-secret@sentry.example/1",
    "NPM_CONFIG__AUTH": "npm-sandbox-secret",
    "OPENAI_API_KEY": "sk-sandbox-secret",
    "CODEAGENT_API_KEY": "sk-codeagent-sandbox-secret",
}


@pytest.fixture
def bwrap() -> Sandbox:
    sandbox = detect_sandbox("bwrap")
    if not sandbox.available:  # e.g. a CI container without user namespaces
        pytest.skip(sandbox.describe())
    return sandbox


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "a.txt").write_text("a\n")
    return root


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside /tmp and the usual homes (so no blanket tmpfs hides it by luck)."""
    name = f"codeagent-attack-{secrets.token_hex(4)}"
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


async def _run(command: str, repo: Path, sandbox: Sandbox, **kwargs):
    (result,) = await run_commands([command], cwd=repo, sandbox=sandbox, **kwargs)
    return result


async def test_remounting_root_read_write_does_not_reach_host_files(bwrap, git_repo, outside):
    target = outside / "written-by-sandbox"
    result = await _run(
        f"mount -o remount,bind,rw / ; mount -o remount,rw / ; echo pwned > {target}",
        git_repo,
        bwrap,
    )
    assert result.exit_code != 0
    assert not target.exists()


async def test_unmounting_git_does_not_make_it_writable(bwrap, git_repo):
    config = (git_repo / ".git" / "config").read_text()
    result = await _run(
        "umount .git ; umount -l .git ; echo '[core] fsmonitor = evil' >> .git/config",
        git_repo,
        bwrap,
    )
    assert result.exit_code != 0
    assert (git_repo / ".git" / "config").read_text() == config


async def test_hostname_of_the_host_is_unchanged(bwrap, git_repo):
    before = socket.gethostname()
    try:
        result = await _run("hostname codeagent-pwned ; hostname", git_repo, bwrap)
        assert "codeagent-pwned" not in result.stdout
        assert socket.gethostname() == before
    finally:
        if socket.gethostname() != before:  # the attack worked: give the host its name back
            subprocess.run(["hostname", before], check=False)


def _unix_server(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(5)
    server.settimeout(15)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"host secret over the socket\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server


_CONNECT = (
    'python3 -c "import socket,sys; s = socket.socket(socket.AF_UNIX); '
    's.connect(sys.argv[1]); print(s.recv(100).decode())" {path}'
)


async def test_host_unix_sockets_are_unreachable(bwrap, git_repo, outside, tmp_path):
    # One where a daemon would put it, one in /tmp (ssh-agent style), one in the repository.
    places = [outside / "docker.sock", tmp_path / "agent.sock", git_repo / "db.sock"]
    servers = [_unix_server(path) for path in places]
    try:
        # Reachable without the sandbox: the test itself can fail.
        (plain,) = await run_commands([_CONNECT.format(path=places[0])], cwd=git_repo,
                                      sandbox=None)  # fmt: skip
        assert "host secret" in plain.stdout
        for path in places:
            result = await _run(_CONNECT.format(path=path), git_repo, bwrap)
            assert result.exit_code != 0, path
            assert "host secret" not in result.stdout
    finally:
        for server in servers:
            server.close()


async def test_home_and_user_config_are_not_visible(bwrap, git_repo, outside, monkeypatch):
    home = outside / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN FAKE PRIVATE KEY-----\n")
    config = outside / "conf"
    config.mkdir()
    (config / "config.toml").write_text('api_key = "sk-user-config-secret"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(config))
    result = await _run(
        f"cat ~/.ssh/id_rsa {home}/.ssh/id_rsa {config}/config.toml; ls -a ~; echo HOME=$HOME",
        git_repo,
        bwrap,
    )
    assert "FAKE PRIVATE KEY" not in result.stdout
    assert "sk-user-config-secret" not in result.stdout
    assert "HOME=/tmp/home" in result.stdout and ".ssh" not in result.stdout


async def test_shadow_is_not_readable(bwrap, git_repo):
    if os.geteuid() == 0:  # the file exists and the host can read it: the check is real
        assert Path("/etc/shadow").read_text().strip()
    result = await _run("cat /etc/shadow; cat /etc/gshadow", git_repo, bwrap)
    assert "root:" not in result.stdout


async def test_secret_environment_variables_are_not_visible(bwrap, git_repo, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    result = await _run("env", git_repo, bwrap)
    assert result.exit_code == 0, result.stderr
    for name, value in SECRETS.items():
        assert name not in result.stdout and value not in result.stdout
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines()}
    assert {"PATH", "HOME"} <= names


async def test_sandbox_env_setting_passes_chosen_variables(git_repo, monkeypatch):
    monkeypatch.setenv("MY_BUILD_CACHE", "/cache/here")
    sandbox = detect_sandbox("bwrap", ["MY_BUILD_CACHE", "FIXED=set-by-user"])
    if not sandbox.available:
        pytest.skip(sandbox.describe())
    result = await _run("echo $MY_BUILD_CACHE $FIXED", git_repo, sandbox)
    assert result.stdout == "/cache/here set-by-user\n"


_FORK_BOMB = (
    'python3 -c "import os, time\n'
    "n = 0\n"
    "for _ in range(600):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(60); os._exit(0)\n"
    "    n += 1\n"
    'print(n)"'
)


async def test_a_fork_bomb_hits_the_process_limit(bwrap, git_repo, live_processes):
    result = await _run(_FORK_BOMB, git_repo, bwrap, timeout_ms=60_000)
    assert result.exit_code == 0, result.stderr
    started = int(result.stdout)
    assert started < MAX_PROCESSES <= 256 < 600
    assert live_processes("time.sleep(60)") == []


async def test_the_process_limit_is_set_inside_the_sandbox(bwrap, git_repo):
    # RLIMIT_NPROC is what holds the cap for a non-root user (the kernel exempts root, for
    # whom the pids cgroup of the test above holds it).
    result = await _run("grep 'Max processes' /proc/self/limits", git_repo, bwrap)
    assert result.stdout.split()[2:4] == [str(MAX_PROCESSES)] * 2, result.stdout


def test_a_missing_protection_makes_the_sandbox_unavailable(monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root needs the pids cgroup for its process limit")
    monkeypatch.setattr(sandbox_module, "cgroup_parent", lambda: None)
    sandbox_module._probe.cache_clear()
    try:
        sandbox = detect_sandbox("auto")
    finally:
        sandbox_module._probe.cache_clear()
    assert not sandbox.available
    assert "no process limit" in sandbox.describe()
    assert "needs approval" in sandbox.describe()


async def test_toolchains_in_the_home_still_run_but_the_rest_stays_hidden(
    bwrap, git_repo, outside, monkeypatch
):
    home = outside / "home"
    tool = home / ".cargo" / "bin" / "mytool"
    python_bin = home / ".pyenv" / "versions" / "3.99" / "bin"
    for script, says in ((tool, "tool-ok"), (python_bin / "python3", "venv-python-ok")):
        script.parent.mkdir(parents=True)
        script.write_text(f"#!/bin/sh\necho {says}\n")
        script.chmod(0o755)
    (home / ".cargo" / "credentials.toml").write_text('token = "cargo-secret-token"\n')
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("FAKE-KEY\n")
    (git_repo / ".venv" / "bin").mkdir(parents=True)
    (git_repo / ".venv" / "pyvenv.cfg").write_text(f"home = {python_bin}\n")
    (git_repo / ".venv" / "bin" / "python").symlink_to(python_bin / "python3")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{tool.parent}:{os.environ['PATH']}")
    result = await _run(
        f"mytool; .venv/bin/python; cat {home}/.cargo/credentials.toml {home}/.ssh/id_rsa",
        git_repo,
        bwrap,
    )
    assert result.stdout == "tool-ok\nvenv-python-ok\n", result.stderr
    assert "cargo-secret-token" not in result.stdout and "FAKE-KEY" not in result.stdout
