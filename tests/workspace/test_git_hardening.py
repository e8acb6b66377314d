"""A hostile repository cannot make codeagent's own git calls run anything, or see its secrets.

The repository's config names a program for every hook git has: ``core.fsmonitor``, hooks
(``reference-transaction`` runs on every ref update), ``diff.external``, a textconv and an external
diff driver, clean/smudge/process filter drivers chosen by ``.gitattributes`` and by
``.git/info/attributes``, and ``gpg.program`` with ``commit.gpgSign``. The program records that it
ran (and the environment it saw) in a folder outside the repository. A whole session of
checkpoint, undo, redo, diffs, auto-commit and the file listing must leave that folder empty and
still produce the right bytes.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codeagent.workspace.git import GitWorkspace
from codeagent.workspace.git_env import git_environment
from codeagent.workspace.listing import list_files

SECRET = "sk-proj-hardening-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


def git(root: Path, *args: str) -> str:
    """The user's own git, before the repository turns hostile."""
    return subprocess.run(
        ["git", "-c", "user.name=U", "-c", "user.email=u@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A committed repository whose config and attributes run ``evil.sh`` everywhere."""
    root, marks = tmp_path / "repo", tmp_path / "marks"
    root.mkdir()
    marks.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_bytes(b"alpha\r\nline two\r\n")
    (root / "b.dat").write_bytes(b"bravo\n")
    (root / ".gitignore").write_text("*.log\n")
    (root / ".gitattributes").write_text("*.txt text=auto diff=evil filter=evil\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    evil = tmp_path / "evil.sh"
    # Records that it ran and what it saw; as a filter it passes the content through changed.
    evil.write_text(
        f"#!/bin/sh\necho \"$0 $*\" >> {marks}/ran\nenv >> {marks}/env\nsed 's/a/EVIL/g'\n"
    )
    evil.chmod(0o755)
    config = {
        "core.fsmonitor": str(evil),
        "diff.external": str(evil),
        "diff.evil.textconv": str(evil),
        "diff.evil.command": str(evil),
        "filter.evil.clean": f"{evil} clean",
        "filter.evil.smudge": f"{evil} smudge",
        "filter.evil.required": "true",
        "filter.info.process": f"{evil} process",
        "filter.info.clean": f"{evil} clean",
        "filter.dotted.name.clean": f"{evil} clean",
        "commit.gpgSign": "true",
        "gpg.program": str(evil),
        "core.pager": str(evil),
    }
    for key, value in config.items():
        git(root, "config", key, value)
    (root / ".git/info").mkdir(exist_ok=True)
    (root / ".git/info/attributes").write_text("*.dat filter=info\n*.log filter=dotted.name\n")
    hooks = root / ".git/hooks"
    for hook in ("reference-transaction", "pre-commit", "post-commit", "post-index-change"):
        (hooks / hook).write_text(
            f"#!/bin/sh\necho hook {hook} >> {marks}/ran\nenv >> {marks}/env\n"
        )
        (hooks / hook).chmod(0o755)
    return root, marks


def test_a_whole_session_in_a_hostile_repository_runs_nothing_and_keeps_the_bytes(
    tmp_path: Path,
) -> None:
    root, marks = hostile_repo(tmp_path)
    (root / "debug.log").write_bytes(b"a log\n")
    ws = GitWorkspace.open(root, "hostile", auto_commit=True)

    ws.before_write("t1")
    (root / "a.txt").write_bytes(b"alpha\r\nchanged by the agent\r\n")
    (root / "b.dat").unlink()
    (root / "new.txt").write_bytes(b"a new file\n")
    record = ws.after_turn("t1", "agent turn")
    assert record is not None and record.commit_error == ""
    assert set(record.files) == {"a.txt", "b.dat", "new.txt"}

    # The auto-commit holds the bytes exactly as they were on disk: no clean filter ran.
    assert git(root, "cat-file", "blob", "HEAD:new.txt") == "a new file\n"
    diff = ws.diff("session")
    assert "+changed by the agent" in diff and "-bravo" in diff and "EVIL" not in diff
    assert "+changed by the agent" in ws.diff("turn")
    assert sorted(list_files(root)) == [".gitattributes", ".gitignore", "a.txt", "new.txt"]

    undone = ws.undo()
    assert undone.ok, undone.message
    assert (root / "a.txt").read_bytes() == b"alpha\r\nline two\r\n"  # CRLF kept, no smudge
    assert (root / "b.dat").read_bytes() == b"bravo\n"
    assert not (root / "new.txt").exists()
    redone = ws.redo()
    assert redone.ok, redone.message
    assert (root / "a.txt").read_bytes() == b"alpha\r\nchanged by the agent\r\n"
    assert ws.diff(record.turn_id)
    ws.close()

    ran = marks / "ran"
    assert not ran.exists(), ran.read_text()
    assert list(marks.iterdir()) == []


def test_git_sees_only_allow_listed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_PAT", SECRET)
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "/bin/evil")  # a git variable that runs a program
    monkeypatch.setenv("GIT_SSH_COMMAND", "/bin/evil")
    monkeypatch.setenv("LC_ALL", "C")
    env = git_environment({"GIT_INDEX_FILE": "/tmp/x.index"})
    assert SECRET not in "".join(env.values())
    assert "GIT_EXTERNAL_DIFF" not in env and "GIT_SSH_COMMAND" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_INDEX_FILE"] == "/tmp/x.index"
    assert env["PATH"] == os.environ["PATH"] and env["LC_ALL"] == "C"
    with pytest.raises(ValueError):
        git_environment({"GIT_EXTERNAL_DIFF": "/bin/evil"})


def test_a_filter_added_later_through_an_included_config_file_is_switched_off_too(
    tmp_path: Path,
) -> None:
    root, marks = tmp_path / "repo", tmp_path / "marks"
    root.mkdir()
    marks.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "project.gitconfig").write_text("")
    git(root, "config", "include.path", "../project.gitconfig")  # a file in the working tree
    (root / "a.txt").write_text("alpha\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    ws = GitWorkspace.open(root, "inc")
    ws.before_write("t1")  # codeagent has read the config once already
    # A command of the turn defines a filter in the included file and selects it.
    evil = tmp_path / "late.sh"
    evil.write_text(f"#!/bin/sh\ntouch {marks}/ran\ncat\n")
    evil.chmod(0o755)
    (root / "project.gitconfig").write_text(f'[filter "late"]\n\tclean = {evil}\n')
    (root / ".gitattributes").write_text("* filter=late\n")
    (root / "a.txt").write_text("changed\n")
    record = ws.after_turn("t1")
    assert record is not None and "a.txt" in record.files
    assert ws.undo().ok
    assert (root / "a.txt").read_text() == "alpha\n"
    ws.close()
    assert list(marks.iterdir()) == []
