"""bubblewrap confines commands: repository writable, everything else (and .git) read-only,
no network. Every test runs real commands under a real bwrap."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from codeagent.agent.tools.sandbox import (
    BwrapSandbox,
    Sandbox,
    detect_sandbox,
    find_repository_root,
)
from codeagent.agent.tools.shell import run_commands


@pytest.fixture
def bwrap() -> Sandbox:
    sandbox = detect_sandbox("bwrap")
    if not sandbox.available:  # e.g. a CI container without user namespaces
        pytest.skip(sandbox.describe())
    return sandbox


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "src" / "a.txt").write_text("a\n")
    return root


async def test_repository_is_writable_from_a_subdirectory(bwrap: Sandbox, git_repo: Path):
    results = await run_commands(
        ["echo made > ../top.txt && echo ok > here.txt && cat ../top.txt"],
        cwd=git_repo / "src",
        sandbox=bwrap,
    )
    assert results[0].exit_code == 0, results[0].stderr
    assert results[0].stdout == "made\n"
    assert (git_repo / "top.txt").read_text() == "made\n"
    assert (git_repo / "src" / "here.txt").read_text() == "ok\n"


async def test_writing_outside_the_repository_fails(bwrap: Sandbox, git_repo: Path, tmp_path):
    probe = f"/usr/codeagent-sandbox-probe-{secrets.token_hex(4)}"
    (outside,) = await run_commands([f"touch {probe}"], cwd=git_repo, sandbox=bwrap)
    assert outside.exit_code != 0 and "Read-only file system" in outside.stderr
    assert not Path(probe).exists()
    # /tmp is private to the sandbox: a write there never reaches the real /tmp.
    await run_commands([f"echo x > {tmp_path}/leak.txt"], cwd=git_repo, sandbox=bwrap)
    assert not (tmp_path / "leak.txt").exists()


async def test_git_directory_is_read_only_unless_allowed(bwrap: Sandbox, git_repo: Path):
    config = (git_repo / ".git" / "config").read_text()
    results = await run_commands(
        ["echo '[evil]' >> .git/config", "touch .git/hooks/pre-commit"],
        cwd=git_repo,
        sandbox=bwrap,
    )
    for result in results:
        assert result.exit_code != 0 and "Read-only file system" in result.stderr
    assert (git_repo / ".git" / "config").read_text() == config
    assert not (git_repo / ".git" / "hooks" / "pre-commit").exists()
    argv = bwrap.wrap(["touch", ".git/allowed"], git_repo, writable_git=True)
    assert subprocess.run(argv, cwd=git_repo).returncode == 0
    assert (git_repo / ".git" / "allowed").exists()


def _listener() -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(20)
    threading.Thread(target=lambda: _accept_once(server), daemon=True).start()
    return server, server.getsockname()[1]


def _accept_once(server: socket.socket) -> None:
    try:
        conn, _ = server.accept()
        conn.sendall(b"hello\n")
        conn.close()
    except OSError:
        pass


async def test_network_is_unreachable_unless_allowed(bwrap: Sandbox, git_repo: Path):
    server, port = _listener()
    connect = (
        "python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', "
        f'{port}), timeout=5); print(s.recv(10).decode().strip())"'
    )
    try:
        (blocked,) = await run_commands([connect], cwd=git_repo, sandbox=bwrap)
        assert blocked.exit_code != 0
        assert "Connection refused" in blocked.stderr or "unreachable" in blocked.stderr
        (allowed,) = await run_commands([connect], cwd=git_repo, sandbox=bwrap, network=True)
        assert allowed.exit_code == 0, allowed.stderr
        assert allowed.stdout == "hello\n"
    finally:
        server.close()


async def test_timeout_and_cancel_kill_everything_inside_the_sandbox(
    bwrap, git_repo: Path, live_processes
):
    token = f"{700 + secrets.randbelow(10_000)}.{secrets.randbelow(10_000):04d}"
    (result,) = await run_commands(
        [f"sleep {token} & sleep {token}"], cwd=git_repo, sandbox=bwrap, timeout_ms=500
    )
    assert result.timed_out
    assert live_processes(f"sleep {token}") == []
    task = asyncio.create_task(
        run_commands([f"sleep {token} & touch go; sleep {token}"], cwd=git_repo, sandbox=bwrap)
    )
    while not (git_repo / "go").exists():
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live_processes(f"sleep {token}") == []


def test_wrap_arguments(git_repo: Path):
    argv = BwrapSandbox("/usr/bin/bwrap").wrap(["ls"], git_repo / "src")
    joined = " ".join(argv)
    root = os.path.realpath(git_repo)
    assert argv[:3] == ["/usr/bin/bwrap", "--unshare-all", "--unshare-user"]
    assert "--cap-drop ALL" in joined and "--new-session" in argv
    assert f"--bind {root} {root}" in joined
    assert f"--ro-bind {root}/.git {root}/.git" in joined
    assert "--share-net" not in argv and "--die-with-parent" in argv and "--tmpfs" in argv
    assert argv[-2:] == ["sh", "ls"]
    assert "--share-net" in BwrapSandbox("bwrap").wrap(["ls"], git_repo, network=True)


def test_repository_root_is_found_from_a_subdirectory(git_repo: Path, tmp_path: Path):
    assert find_repository_root(git_repo / "src") == Path(os.path.realpath(git_repo))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_repository_root(plain) == Path(os.path.realpath(plain))


def test_none_mode_reports_no_sandbox():
    sandbox = detect_sandbox("none")
    assert not sandbox.available and sandbox.name == "none"
    assert "No sandbox" in sandbox.describe() and "approval" in sandbox.describe()
    assert sandbox.wrap(["ls", "-l"], Path("/")) == ["ls", "-l"]


def test_missing_bwrap_is_reported_clearly(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap anywhere on PATH
    sandbox = detect_sandbox("auto")
    assert not sandbox.available
    assert "bubblewrap (bwrap) is not installed" in sandbox.describe()
    requested = detect_sandbox("bwrap")
    assert not requested.available
    assert "sandbox = bwrap was requested but bubblewrap" in requested.describe()
    assert "apt-get install bubblewrap" in requested.describe()
    with pytest.raises(ValueError, match="unknown sandbox mode"):
        detect_sandbox("docker")  # type: ignore[arg-type]
