"""Undo puts back exactly what the agent changed: byte for byte, mode for mode, nothing else.

Each case is one of the ways an earlier undo lost work (issue 12). The agent's tool calls go
through the real ``ToolRunner`` (real shell subprocesses, real patches, real git); the "user" edits
files between and after them, as someone saving in their editor while a turn runs would.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path

import pytest

from codeagent.agent.approvals import ApprovalRequest, Decision, Policy
from codeagent.agent.policy import ApprovalRules
from codeagent.agent.tool_calls import ToolCall
from codeagent.agent.tool_runner import ToolRunner
from codeagent.agent.tools.commands import is_read_only
from codeagent.workspace.git import GitWorkspace


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=U", "-c", "user.email=u@example.com",
         "-c", "protocol.file.allow=always", *args],
        cwd=root, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every file and folder below root except .git: kind, bytes or link target, mode bits."""
    found: dict[str, tuple[str, bytes, int]] = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files + dirs:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            st = full.lstat()
            if full.is_symlink():
                found[rel] = ("link", os.fsencode(os.readlink(full)), 0)
            elif full.is_dir():
                found[rel] = ("dir", b"", stat.S_IMODE(st.st_mode))
            else:
                found[rel] = ("file", full.read_bytes(), stat.S_IMODE(st.st_mode))
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "w.txt").write_text("original w\n")
    (root / "other.txt").write_text("original other\n")
    (root / ".gitignore").write_text(".env\nbuild/\n*.bin\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


class Yes:
    async def decide(self, request: ApprovalRequest) -> Decision:
        return Decision.approve()


def runner(root: Path, ws: GitWorkspace, read_only=is_read_only) -> ToolRunner:  # type: ignore[no-untyped-def]
    rules = ApprovalRules(Policy.FULL_AUTO, sandboxed=False, is_read_only=read_only)
    return ToolRunner(
        root, rules=rules, approver=Yes(), workspace=ws, sandbox=None, emit=lambda e: None
    )


def shell(tools: ToolRunner, command: str, turn: str = "t1") -> None:
    call = ToolCall(f"c-{abs(hash(command))}", "function_call", "shell", commands=[command])
    result = asyncio.run(tools.run(call, turn))
    assert result.event.success, result.event.text


def patch(tools: ToolRunner, text: str, turn: str = "t1") -> None:
    call = ToolCall("p1", "function_call", "apply_patch", patch_text=text)
    result = asyncio.run(tools.run(call, turn))
    assert result.event.success, result.event.text


OTHER_PATCH = """*** Begin Patch
*** Update File: other.txt
@@
-original other
+patched by the agent
*** End Patch
"""


def test_a_file_the_user_saves_during_a_turn_is_not_reverted_by_undo(repo: Path) -> None:
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    start = snapshot(repo)
    shell(tools, "printf 'agent wrote w\\n' > w.txt")
    (repo / "mine.txt").write_text("the user's own text\n")  # saved while the model thinks
    (repo / "w2.txt").write_text("user file\n")
    patch(tools, OTHER_PATCH)
    record = ws.after_turn("t1", "go")
    assert record is not None and record.files == ("other.txt", "w.txt")

    result = ws.undo()
    assert result.ok, result.message
    assert result.message == "Undid go: 2 files (other.txt, w.txt)."
    after = snapshot(repo)
    assert after.pop("mine.txt") == ("file", b"the user's own text\n", 0o644)
    assert after.pop("w2.txt")[1] == b"user file\n"
    assert after == start
    assert ws.redo().ok
    assert (repo / "w.txt").read_text() == "agent wrote w\n"
    assert (repo / "mine.txt").read_text() == "the user's own text\n"


def test_a_file_the_user_edits_after_the_agent_wrote_it_blocks_undo(repo: Path) -> None:
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "printf 'agent wrote w\\n' > w.txt")
    (repo / "w.txt").write_text("the user fixed the agent's text\n")  # during the same turn
    assert ws.after_turn("t1", "go") is not None
    before = snapshot(repo)

    result = ws.undo()
    assert not result.ok
    assert "w.txt was edited since" in result.message and "Nothing was changed" in result.message
    assert snapshot(repo) == before


def test_rm_rf_of_ignored_env_and_build_is_undone_exactly(repo: Path) -> None:
    (repo / ".env").write_text("SECRET=1\n")
    (repo / ".env").chmod(0o600)
    (repo / "build/sub").mkdir(parents=True)
    (repo / "build/out.o").write_bytes(b"\0\1\2")
    (repo / "build/run.sh").write_bytes(b"#!/bin/sh\r\n")
    (repo / "build/run.sh").chmod(0o750)
    (repo / "build/link").symlink_to("out.o")
    start = snapshot(repo)
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "rm -rf .env build/")
    record = ws.after_turn("t1", "clean")
    assert record is not None
    assert set(record.files) == {".env", "build/out.o", "build/run.sh", "build/link"}

    result = ws.undo()
    assert result.ok and result.incomplete == (), result.message
    assert snapshot(repo) == start  # bytes, 0600 / 0750, the symlink and the empty build/sub


def test_what_is_too_big_to_checkpoint_is_named_by_undo(repo: Path) -> None:
    (repo / "big.bin").write_bytes(os.urandom(2 << 20))  # ignored, over the 1 MB bound
    sub_origin = repo.parent / "lib-origin"
    sub_origin.mkdir()
    git(sub_origin, "init", "-q", "-b", "main")
    (sub_origin / "lib.py").write_text("v1\n")
    git(sub_origin, "add", "-A")
    git(sub_origin, "commit", "-q", "-m", "lib")
    git(repo, "submodule", "add", "-q", str(sub_origin), "lib")
    git(repo, "commit", "-q", "-m", "add submodule")
    (repo / "lib/lib.py").write_text("uncommitted work in the submodule\n")
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "rm -rf big.bin lib && printf 'x\\n' > w.txt")
    assert ws.after_turn("t1", "wipe") is not None

    result = ws.undo()
    assert result.ok
    assert set(result.incomplete) == {"big.bin", "lib/"}
    assert result.message.startswith("Undid wipe only in part: 1 file restored (w.txt).")
    assert "big.bin is ignored and bigger than the 1 MB checkpoint limit" in result.message
    assert "lib/ is a submodule" in result.message
    assert (repo / "w.txt").read_text() == "original w\n"


def test_a_checkpoint_precedes_every_command_not_proven_read_only(repo: Path) -> None:
    (repo / "list.txt").write_text("b\na\n")

    def unsure(command: str) -> bool:
        # Truthy is enough for the approval policy, but only a definite True proves read-only.
        return "maybe"  # type: ignore[return-value]

    ws = GitWorkspace.open(repo, "s")
    shell(runner(repo, ws, unsure), "sort -o list.txt list.txt")
    shell(runner(repo, ws), "sort -o w.txt w.txt")
    assert ws.after_turn("t1", "sort") is not None
    assert ws.undo().ok
    assert (repo / "list.txt").read_text() == "b\na\n"


def test_crlf_file_under_text_auto_comes_back_with_its_crlf(repo: Path) -> None:
    (repo / ".gitattributes").write_text("* text=auto\n")
    (repo / "dos.txt").write_bytes(b"one\r\ntwo\r\n")
    (repo / "w.txt").write_bytes(b"tracked, now crlf\r\n")
    start = snapshot(repo)
    ws = GitWorkspace.open(repo, "s")
    ws.before_write("t1")
    (repo / "dos.txt").write_bytes(b"rewritten\n")
    (repo / "w.txt").unlink()
    assert ws.after_turn("t1") is not None
    assert ws.undo().ok
    assert snapshot(repo) == start


def test_permission_bits_come_back_exactly(repo: Path) -> None:
    (repo / "key.pem").write_text("private\n")
    (repo / "key.pem").chmod(0o600)
    (repo / "w.txt").chmod(0o640)
    start = snapshot(repo)
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "rm key.pem && chmod 644 w.txt")
    record = ws.after_turn("t1")
    assert record is not None and record.files == ("key.pem", "w.txt")
    assert ws.undo().ok
    assert snapshot(repo) == start
    assert ws.redo().ok
    assert not (repo / "key.pem").exists()
    assert stat.S_IMODE((repo / "w.txt").stat().st_mode) == 0o644


def test_empty_folders_removed_or_filled_by_a_turn_come_back(repo: Path) -> None:
    (repo / "empty/deep").mkdir(parents=True)
    (repo / "holder").mkdir()
    start = snapshot(repo)
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "rm -r empty && printf 'x' > holder/new.txt && mkdir made")
    assert ws.after_turn("t1") is not None
    assert ws.undo().ok
    assert snapshot(repo) == start  # empty/deep and holder/ back, made/ gone
    assert ws.redo().ok
    assert not (repo / "empty").exists() and (repo / "made").is_dir()


def test_a_file_the_turn_adds_to_gitignore_and_overwrites_can_be_undone(repo: Path) -> None:
    (repo / "notes.md").write_text("my notes\n")  # untracked, not ignored
    start = snapshot(repo)
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    shell(tools, "echo notes.md >> .gitignore && printf 'overwritten\\n' > notes.md")
    assert ws.after_turn("t1") is not None
    (repo / "other.txt").write_text("staged by the user\n")
    git(repo, "add", "other.txt")  # the user's index changes: tracked files are re-read from it
    start["other.txt"] = ("file", b"staged by the user\n", 0o644)
    result = ws.undo()
    assert result.ok, result.message
    assert snapshot(repo) == start
