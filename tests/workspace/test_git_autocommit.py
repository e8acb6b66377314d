"""Opt-in auto-commit: exactly the turn's files are committed, everything else stays as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codeagent.workspace.git import GitWorkspace
from codeagent.workspace.git_autocommit import TRAILER, commit_message


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global/system git config (and so no identity) from the machine leaks into these tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_repo(root: Path, *, identity: bool = True, commit: bool = True) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    if identity:
        git(root, "config", "user.name", "Dana Developer")
        git(root, "config", "user.email", "dana@example.com")
    write(root, "README.md", b"# demo\n")
    write(root, "src/app.py", b"print('hi')\n")
    write(root, "old.txt", b"to be deleted\n")
    if commit:
        git(root, "add", "-A")
        git(
            root,
            "-c",
            "user.name=Setup",
            "-c",
            "user.email=setup@example.com",
            "commit",
            "-q",
            "-m",
            "initial",
        )
    return root


def test_commits_exactly_the_turns_files_and_keeps_user_changes_uncommitted(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo")
    head_before = git(repo, "rev-parse", "HEAD").strip()
    write(repo, "README.md", b"# user staged edit\n")
    git(repo, "add", "README.md")
    write(repo, "notes.txt", b"user untracked\n")
    ws = GitWorkspace.open(repo, "s", auto_commit=True)

    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    write(repo, "new module.py", b"x = 1\n")
    (repo / "old.txt").unlink()
    record = ws.after_turn("t1", "Fix the greeting\n\nlonger explanation")

    assert record is not None and record.commit
    assert (repo / ".git/HEAD").read_text() == "ref: refs/heads/main\n"  # still on the branch
    assert git(repo, "rev-parse", "main").strip() == record.commit
    assert git(repo, "rev-parse", "HEAD~1").strip() == head_before
    changed = git(repo, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert sorted(changed) == ["A\tnew module.py", "D\told.txt", "M\tsrc/app.py"]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "Fix the greeting"
    assert TRAILER in message
    assert (
        git(repo, "log", "-1", "--format=%an <%ae>").strip() == "Dana Developer <dana@example.com>"
    )
    # The user's staged edit is still staged (not committed), the untracked file untracked,
    # and the turn's files are clean.
    assert git(repo, "status", "--porcelain") == "M  README.md\n?? notes.txt\n"
    assert git(repo, "show", "HEAD:README.md") == "# demo\n"
    ws.close()


def test_undo_after_auto_commit_restores_files_without_moving_the_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    ws = GitWorkspace.open(repo, "s", auto_commit=True)
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    record = ws.after_turn("t1")
    assert record is not None and record.commit
    assert record.commit.startswith(git(repo, "log", "-1", "--format=%h").strip())

    result = ws.undo()
    assert result.ok
    assert record.commit[:8] in result.message
    assert (repo / "src/app.py").read_bytes() == b"print('hi')\n"
    assert git(repo, "rev-parse", "HEAD").strip() == record.commit
    assert git(repo, "status", "--porcelain") == " M src/app.py\n"
    ws.close()


def test_without_a_configured_identity_codeagent_signs_the_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", identity=False)
    ws = GitWorkspace.open(repo, "s", auto_commit=True)
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    record = ws.after_turn("t1")
    assert record is not None and record.commit
    assert git(repo, "log", "-1", "--format=%an <%ae>").strip() == "codeagent <codeagent@localhost>"
    assert git(repo, "log", "-1", "--format=%s").strip() == "Update src/app.py"
    ws.close()


def test_first_commit_in_an_empty_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commit=False)
    ws = GitWorkspace.open(repo, "s", auto_commit=True)
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    write(repo, "src/extra.py", b"pass\n")
    record = ws.after_turn("t1")
    assert record is not None and record.commit
    assert git(repo, "rev-parse", "main").strip() == record.commit
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").split() == [
        "src/app.py",
        "src/extra.py",
    ]
    assert git(repo, "status", "--porcelain") == "?? README.md\n?? old.txt\n"
    ws.close()


def test_auto_commit_is_skipped_with_a_reason_when_a_merge_started_meanwhile(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    ws = GitWorkspace.open(repo, "s", auto_commit=True)
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    (repo / ".git/MERGE_HEAD").write_text(head + "\n")  # the user started a merge mid-turn
    record = ws.after_turn("t1")
    assert record is not None
    assert record.commit is None
    assert "middle of a merge" in record.commit_error
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert (repo / "src/app.py").read_bytes() == b"print('fixed')\n"
    ws.close()


def test_auto_commit_off_never_moves_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    ws = GitWorkspace.open(repo, "s")
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('fixed')\n")
    record = ws.after_turn("t1", "Fix")
    assert record is not None and record.commit is None and record.commit_error == ""
    assert git(repo, "rev-parse", "HEAD").strip() == head
    ws.close()


def test_commit_message_shape() -> None:
    long = "A" * 100
    subject = commit_message(long, ("a.py",)).splitlines()[0]
    assert len(subject) <= 72 and subject.endswith("…")
    assert commit_message("", ("a.py", "b.py")).startswith("Update 2 files\n")
    many = tuple(f"f{i}.py" for i in range(25))
    body = commit_message("Refactor", many)
    assert "- f19.py" in body and "- f20.py" not in body and "and 5 more" in body
    assert body.rstrip().endswith(TRAILER)
