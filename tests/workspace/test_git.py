"""Git safety on real repositories: checkpoints, undo/redo, diffs, busy states, --no-git."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from codeagent.workspace import git_restore
from codeagent.workspace.git import (
    GitWorkspace,
    NoCheckpoints,
    NotAGitRepository,
    RepositoryBusy,
    UnknownCheckpoint,
    WorkspaceError,
    open_workspace,
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No global/system git config from the machine leaks into these tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git the way a user would (identity set inline) and return stdout."""
    return subprocess.run(
        ["git", "-c", "user.name=User", "-c", "user.email=user@example.com", *args],
        cwd=root,
        check=check,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(root: Path, files: dict[str, bytes] | None = None) -> Path:
    """A repository with one commit holding ``files`` (default: a small project)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    files = files or {
        "README.md": b"# demo\n",
        "src/app.py": b"print('hi')\n",
        "data.bin": bytes(range(256)),
        ".gitignore": b"*.log\nbuild/\n",
    }
    for rel, data in files.items():
        write(root, rel, data)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def tree_state(root: Path) -> dict[str, tuple[str, bytes, bool]]:
    """Every file below root except .git: kind, bytes (or link target), exec bit."""
    state: dict[str, tuple[str, bytes, bool]] = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git" and not Path(dirpath, d).is_symlink()]
        names = files + [d for d in os.listdir(dirpath) if Path(dirpath, d).is_symlink()]
        for name in set(names):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            if rel.startswith(".git/"):
                continue
            if full.is_symlink():
                state[rel] = ("link", os.fsencode(os.readlink(full)), False)
            else:
                state[rel] = ("file", full.read_bytes(), os.access(full, os.X_OK))
    return state


def git_state(root: Path) -> tuple[str, str, str, str]:
    """HEAD, the branch it names, the index file bytes, and all refs outside refs/codeagent."""
    index = root / ".git" / "index"
    digest = hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else ""
    refs = "\n".join(
        line
        for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if not line.startswith("refs/codeagent/")
    )
    return (root / ".git" / "HEAD").read_text(), git(root, "rev-parse", "HEAD"), digest, refs


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def ws(repo: Path):
    workspace = GitWorkspace.open(repo, "session-1")
    yield workspace
    workspace.close()


# -- opening --------------------------------------------------------------------------------------


def test_open_outside_a_repository_says_how_to_proceed(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "keep.txt").write_text("mine")
    with pytest.raises(NotAGitRepository) as info:
        GitWorkspace.open(plain, "s")
    assert "not inside a git repository" in str(info.value)
    assert "--no-git" in str(info.value)
    assert isinstance(info.value, WorkspaceError)
    assert (plain / "keep.txt").read_text() == "mine"
    assert not (plain / ".git").exists()


def test_open_missing_path_and_bare_repository_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotAGitRepository, match="does not exist"):
        GitWorkspace.open(tmp_path / "nowhere", "s")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(NotAGitRepository, match="bare"):
        GitWorkspace.open(bare, "s")


def test_open_from_a_subfolder_uses_the_top_of_the_working_tree(repo: Path) -> None:
    workspace = GitWorkspace.open(repo / "src", "s")
    assert workspace.root.resolve() == repo.resolve()
    workspace.close()


def test_no_git_flag_gives_a_workspace_without_checkpoints(tmp_path: Path) -> None:
    workspace = open_workspace(tmp_path, "s", no_git=True)
    assert isinstance(workspace, NoCheckpoints)
    assert workspace.enabled is False
    workspace.ensure_writable()
    workspace.before_write("t1")
    (tmp_path / "f.txt").write_text("x")
    assert workspace.after_turn("t1") is None
    for result in (workspace.undo(), workspace.redo()):
        assert not result.ok
        assert "Checkpoints are off" in result.message
    assert workspace.diff("session") == ""
    assert (tmp_path / "f.txt").read_text() == "x"
    with pytest.raises(NotAGitRepository):
        open_workspace(tmp_path, "s", no_git=False)


# -- checkpoints ----------------------------------------------------------------------------------


def test_checkpoint_captures_uncommitted_untracked_and_small_ignored_files(
    repo: Path, ws: GitWorkspace
) -> None:
    write(repo, "README.md", b"# edited, not committed\n")
    write(repo, "notes new.txt", b"untracked\n")
    write(repo, "debug.log", b"ignored\n")
    git(repo, "add", "README.md")
    git(repo, "stash", "list")
    before = git_state(repo)

    ws.before_write("t1")

    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/codeagent/").split()
    assert refs == [
        "refs/codeagent/session-1/checkpoints/0001-before",
        "refs/codeagent/session-1/state",
    ]
    listing = git(repo, "ls-tree", "-r", "--name-only", refs[0]).splitlines()
    assert "notes new.txt" in listing
    assert "debug.log" in listing  # ignored, but a command may delete it: checkpointed too
    assert git(repo, "show", f"{refs[0]}:README.md") == "# edited, not committed\n"
    assert git_state(repo) == before  # HEAD, branch, index and other refs untouched
    assert git(repo, "status", "--porcelain") == 'M  README.md\n?? "notes new.txt"\n'

    # gc must keep the checkpoint: it is reachable from a ref.
    git(repo, "gc", "-q", "--prune=now")
    assert git(repo, "cat-file", "-t", refs[0]).strip() == "commit"


def test_before_write_is_idempotent_within_a_turn(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "a.txt", b"1")
    ws.before_write("t1")  # a second write in the same turn must not move the checkpoint
    record = ws.after_turn("t1")
    assert record is not None
    assert record.files == ("a.txt",)
    assert record.created == ("a.txt",)


def test_turn_that_changes_nothing_records_nothing(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    assert ws.after_turn("t1") is None
    assert ws.after_turn("never-started") is None
    assert ws.history == ()
    result = ws.undo()
    assert not result.ok
    assert "Nothing to undo" in result.message


# -- undo / redo ----------------------------------------------------------------------------------


def test_undo_restores_edits_creations_deletions_modes_and_odd_names(
    repo: Path, ws: GitWorkspace
) -> None:
    write(repo, "untracked keep.txt", b"user's untracked file\n")
    (repo / "link").symlink_to("README.md")
    original = tree_state(repo)
    head_before = git_state(repo)

    ws.before_write("t1")
    write(repo, "src/app.py", b"print('bye')\n")
    write(repo, "data.bin", bytes(reversed(range(256))) + b"\0\xff")
    write(repo, "dir with space/ünïcødé ✓.txt", b"new\n")
    (repo / "README.md").unlink()
    (repo / "untracked keep.txt").unlink()
    (repo / "src/app.py").chmod(0o755)
    (repo / "link").unlink()
    (repo / "link").symlink_to("src/app.py")
    record = ws.after_turn("t1", "Rework the app")
    assert record is not None
    assert set(record.files) == {
        "src/app.py",
        "data.bin",
        "dir with space/ünïcødé ✓.txt",
        "README.md",
        "untracked keep.txt",
        "link",
    }
    assert record.deleted == ("README.md", "untracked keep.txt")
    changed = tree_state(repo)

    result = ws.undo()
    assert result.ok, result.message
    assert "Rework the app" in result.message
    assert tree_state(repo) == original
    assert not (repo / "dir with space").exists()  # folder the turn created is gone too
    assert git_state(repo) == head_before

    result = ws.redo()
    assert result.ok, result.message
    assert tree_state(repo) == changed
    assert os.access(repo / "src/app.py", os.X_OK)
    assert os.readlink(repo / "link") == "src/app.py"
    assert git_state(repo) == head_before


def test_undo_leaves_files_the_turn_did_not_touch(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "src/app.py", b"agent\n")
    ws.after_turn("t1")
    write(repo, "README.md", b"user edit after the turn\n")
    write(repo, "user-new.txt", b"user file\n")
    assert ws.undo().ok
    assert (repo / "src/app.py").read_bytes() == b"print('hi')\n"
    assert (repo / "README.md").read_bytes() == b"user edit after the turn\n"
    assert (repo / "user-new.txt").read_bytes() == b"user file\n"


def test_undo_refuses_when_the_user_edited_a_file_of_the_turn(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "src/app.py", b"agent\n")
    write(repo, "created.txt", b"agent\n")
    ws.after_turn("t1")
    write(repo, "src/app.py", b"agent\nplus user work\n")
    (repo / "created.txt").unlink()
    snapshot, state = tree_state(repo), git_state(repo)

    result = ws.undo()

    assert not result.ok
    assert set(result.files) == {"src/app.py", "created.txt"}
    assert "src/app.py was edited since" in result.message
    assert "created.txt was deleted since" in result.message
    assert "Nothing was changed" in result.message
    assert tree_state(repo) == snapshot  # the user's work survives byte for byte
    assert git_state(repo) == state
    assert len(ws.history) == 1  # still undoable once the conflict is resolved

    write(repo, "src/app.py", b"agent\n")
    write(repo, "created.txt", b"agent\n")
    assert ws.undo().ok
    assert not (repo / "created.txt").exists()


def test_redo_refuses_when_the_user_changed_the_restored_files(
    repo: Path, ws: GitWorkspace
) -> None:
    ws.before_write("t1")
    write(repo, "src/app.py", b"agent\n")
    ws.after_turn("t1")
    assert ws.undo().ok
    write(repo, "src/app.py", b"user rewrote it\n")
    result = ws.redo()
    assert not result.ok
    assert "src/app.py was edited since" in result.message
    assert (repo / "src/app.py").read_bytes() == b"user rewrote it\n"


def test_several_undos_walk_back_and_a_new_turn_drops_redo(repo: Path, ws: GitWorkspace) -> None:
    states = [tree_state(repo)]
    for n in range(3):
        ws.before_write(f"t{n}")
        write(repo, "src/app.py", f"version {n}\n".encode())
        write(repo, f"file{n}.txt", b"x")
        ws.after_turn(f"t{n}", f"step {n}")
        states.append(tree_state(repo))

    for expected in reversed(states[:-1]):
        assert ws.undo().ok
        assert tree_state(repo) == expected
    assert not ws.undo().ok
    assert ws.redo().ok
    assert tree_state(repo) == states[1]

    ws.before_write("t-new")
    write(repo, "other.txt", b"new direction")
    ws.after_turn("t-new")
    result = ws.redo()
    assert not result.ok
    assert "Nothing to redo" in result.message
    assert [r.turn_id for r in ws.history] == ["t0", "t-new"]


def test_file_replaced_by_a_folder_and_back(repo: Path, ws: GitWorkspace) -> None:
    original = tree_state(repo)
    ws.before_write("t1")
    (repo / "README.md").unlink()
    write(repo, "README.md/index.md", b"now a folder\n")
    ws.after_turn("t1")
    changed = tree_state(repo)
    assert ws.undo().ok
    assert tree_state(repo) == original
    assert ws.redo().ok
    assert tree_state(repo) == changed


def test_undo_refuses_when_user_put_a_file_where_a_folder_must_return(
    repo: Path, ws: GitWorkspace
) -> None:
    ws.before_write("t1")
    (repo / "src/app.py").unlink()
    (repo / "src").rmdir()
    ws.after_turn("t1")
    write(repo, "src", b"user file named src\n")
    result = ws.undo()
    assert not result.ok
    assert "src is now a file" in result.message
    assert (repo / "src").read_bytes() == b"user file named src\n"


def test_ignored_files_the_turn_wrote_are_undone_too(repo: Path, ws: GitWorkspace) -> None:
    write(repo, "build/old.o", b"earlier artifact")
    ws.before_write("t1")
    write(repo, "build/out.o", b"artifact")
    (repo / "build/old.o").unlink()
    write(repo, "src/app.py", b"changed\n")
    record = ws.after_turn("t1")
    assert record is not None
    assert record.files == ("build/old.o", "build/out.o", "src/app.py")
    assert ws.undo().ok
    assert not (repo / "build/out.o").exists()
    assert (repo / "build/old.o").read_bytes() == b"earlier artifact"


def test_unfinished_turn_is_recorded_when_the_next_one_starts(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("crashed")
    write(repo, "half.txt", b"half")
    ws.before_write("next")  # after_turn("crashed") never came
    write(repo, "next.txt", b"next")
    ws.after_turn("next")
    assert [r.turn_id for r in ws.history] == ["crashed", "next"]
    assert ws.undo().ok and ws.undo().ok
    assert not (repo / "half.txt").exists() and not (repo / "next.txt").exists()


def test_undo_finishes_a_turn_in_progress_first(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "wip.txt", b"wip")
    assert ws.undo().ok
    assert not (repo / "wip.txt").exists()


def test_history_survives_reopening_the_session(repo: Path) -> None:
    first = GitWorkspace.open(repo, "resumable")
    first.before_write("t1")
    write(repo, "src/app.py", b"from the first run\n")
    first.after_turn("t1", "first run")
    first.close()

    other = GitWorkspace.open(repo, "another-session")
    assert other.history == ()
    assert not other.undo().ok
    other.close()

    resumed = GitWorkspace.open(repo, "resumable")
    assert [r.summary for r in resumed.history] == ["first run"]
    assert resumed.undo().ok
    assert (repo / "src/app.py").read_bytes() == b"print('hi')\n"
    resumed.close()
    again = GitWorkspace.open(repo, "resumable")
    assert again.redo().ok
    assert (repo / "src/app.py").read_bytes() == b"from the first run\n"
    again.close()


def test_session_ids_with_odd_characters_make_valid_refs(repo: Path) -> None:
    workspace = GitWorkspace.open(repo, "2026-01-01 12:00/..weird~^:?*[id].lock")
    workspace.before_write("t1")
    write(repo, "x.txt", b"x")
    assert workspace.after_turn("t1") is not None
    assert workspace.undo().ok
    workspace.close()


# -- diffs ----------------------------------------------------------------------------------------


def test_diff_for_session_turn_and_checkpoint(repo: Path, ws: GitWorkspace) -> None:
    assert ws.diff("session") == ""
    assert ws.diff("turn") == ""
    ws.before_write("t1")
    write(repo, "src/app.py", b"print('one')\n")
    assert "+print('one')" in ws.diff("turn")  # turn in progress: checkpoint -> now
    first = ws.after_turn("t1")
    ws.before_write("t2")
    write(repo, "ünï name.txt", b"two\n")
    ws.after_turn("t2")

    turn = ws.diff("turn")
    assert "ünï name.txt" in turn and "+two" in turn and "app.py" not in turn
    session = ws.diff("session")
    assert "-print('hi')" in session and "+print('one')" in session and "+two" in session
    assert first is not None
    by_id = ws.diff("t1")
    assert by_id == ws.diff(first.checkpoint[:10])
    assert "+print('one')" in by_id and "ünï" not in by_id
    with pytest.raises(UnknownCheckpoint, match="No checkpoint 'nope'"):
        ws.diff("nope")


# -- busy repositories ----------------------------------------------------------------------------


def _start_conflicting_merge(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "other")
    write(repo, "README.md", b"other side\n")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    write(repo, "README.md", b"main side\n")
    git(repo, "commit", "-q", "-am", "main")


def test_refuses_to_write_during_a_merge(repo: Path, ws: GitWorkspace) -> None:
    _start_conflicting_merge(repo)
    git(repo, "merge", "other", check=False)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    snapshot = tree_state(repo)
    with pytest.raises(RepositoryBusy) as info:
        ws.before_write("t1")
    assert "middle of a merge" in str(info.value)
    assert "git merge --abort" in str(info.value)
    assert git(repo, "for-each-ref", "refs/codeagent/") == ""
    assert tree_state(repo) == snapshot


def test_refuses_during_rebase_and_cherry_pick(repo: Path, ws: GitWorkspace) -> None:
    _start_conflicting_merge(repo)
    git(repo, "rebase", "other", check=False)
    with pytest.raises(RepositoryBusy, match="rebase"):
        ws.ensure_writable()
    git(repo, "rebase", "--abort")
    ws.ensure_writable()
    git(repo, "cherry-pick", "other", check=False)
    with pytest.raises(RepositoryBusy, match="cherry-pick --abort"):
        ws.ensure_writable()


def test_undo_is_refused_while_a_merge_is_in_progress(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "agent.txt", b"agent")
    ws.after_turn("t1")
    _start_conflicting_merge(repo)
    git(repo, "merge", "other", check=False)
    result = ws.undo()
    assert not result.ok
    assert "Cannot undo" in result.message and "merge" in result.message
    assert (repo / "agent.txt").exists()


# -- damaged or unusual repositories --------------------------------------------------------------


def test_undo_reports_missing_checkpoints_and_changes_nothing(repo: Path, ws: GitWorkspace) -> None:
    write(repo, "notes.txt", b"only in the checkpoint\n")  # untracked: no other copy in git
    ws.before_write("t1")
    write(repo, "notes.txt", b"agent\n")
    ws.after_turn("t1")
    for ref in git(repo, "for-each-ref", "--format=%(refname)", "refs/codeagent/").split():
        git(repo, "update-ref", "-d", ref)
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    snapshot = tree_state(repo)
    result = ws.undo()
    assert not result.ok
    assert result.message.startswith("Cannot undo:") and "Nothing was changed" in result.message
    assert tree_state(repo) == snapshot


def test_damaged_saved_history_starts_afresh_without_losing_checkpoints(repo: Path) -> None:
    first = GitWorkspace.open(repo, "s")
    first.before_write("t1")
    write(repo, "a.txt", b"a")
    first.after_turn("t1")
    first.close()
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=repo,
            input=b"{not json",
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    git(repo, "update-ref", "refs/codeagent/s/state", blob)

    again = GitWorkspace.open(repo, "s")
    assert "could not be read" in again.warning
    assert again.history == ()
    assert not again.undo().ok
    again.before_write("t2")
    write(repo, "b.txt", b"b")
    assert again.after_turn("t2") is not None
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/codeagent/s/checkpoints/").split()
    assert len(refs) == 4  # the two old checkpoints are kept, the new ones numbered after them
    assert again.undo().ok
    assert (repo / "a.txt").exists() and not (repo / "b.txt").exists()
    again.close()


def test_newline_and_leading_dash_names_round_trip(repo: Path, ws: GitWorkspace) -> None:
    original = tree_state(repo)
    ws.before_write("t1")
    write(repo, "line\nbreak.txt", b"odd\n")
    write(repo, "-rf", b"not an option\n")
    write(repo, "*.py", b"not a glob\n")
    record = ws.after_turn("t1")
    assert record is not None and set(record.files) == {"line\nbreak.txt", "-rf", "*.py"}
    assert ws.undo().ok
    assert tree_state(repo) == original
    assert (repo / "src/app.py").exists()


def test_linked_worktree_is_checkpointed_on_its_own(repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(linked))
    main_before = tree_state(repo), git_state(repo)
    ws = GitWorkspace.open(linked, "wt")
    assert ws.root.resolve() == linked.resolve()
    ws.before_write("t1")
    write(linked, "src/app.py", b"in the linked worktree\n")
    assert ws.after_turn("t1") is not None
    assert ws.undo().ok
    assert (linked / "src/app.py").read_bytes() == b"print('hi')\n"
    assert (tree_state(repo), git_state(repo)) == main_before
    ws.close()


def test_no_checkpoints_needs_no_arguments() -> None:
    workspace = NoCheckpoints()
    assert workspace.root == Path.cwd()
    assert not workspace.undo().ok


def test_turn_cut_short_by_a_crash_is_undoable_after_restart(repo: Path) -> None:
    crashed = GitWorkspace.open(repo, "s")
    crashed.before_write("t1")
    write(repo, "src/app.py", b"half-written by a run that died\n")
    write(repo, "partial.txt", b"partial")
    del crashed  # no after_turn, no close: the process died mid-turn

    restarted = GitWorkspace.open(repo, "s")
    result = restarted.undo()
    assert result.ok, result.message
    assert set(result.files) == {"src/app.py", "partial.txt"}
    assert (repo / "src/app.py").read_bytes() == b"print('hi')\n"
    assert not (repo / "partial.txt").exists()
    restarted.close()
    assert GitWorkspace.open(repo, "s").redoable[0].turn_id == "t1"


def test_force_added_ignored_files_count_once_the_user_tracks_them(
    repo: Path, ws: GitWorkspace
) -> None:
    ws.before_write("t1")
    write(repo, "src/app.py", b"one\n")
    ws.after_turn("t1")
    write(repo, "keep.log", b"tracked despite *.log\n")
    git(repo, "add", "-f", "keep.log")  # the user's index changes between turns
    git(repo, "commit", "-q", "-m", "track a log")

    ws.before_write("t2")
    write(repo, "keep.log", b"agent rewrote it\n")
    record = ws.after_turn("t2")
    assert record is not None and record.files == ("keep.log",)
    assert ws.undo().ok
    assert (repo / "keep.log").read_bytes() == b"tracked despite *.log\n"


def test_undo_refuses_when_a_file_of_the_turn_became_a_folder(repo: Path, ws: GitWorkspace) -> None:
    ws.before_write("t1")
    write(repo, "README.md", b"agent\n")
    ws.after_turn("t1")
    (repo / "README.md").unlink()
    write(repo, "README.md/user.md", b"user folder\n")
    result = ws.undo()
    assert not result.ok
    assert "README.md was replaced by a folder since" in result.message
    assert result.files == ("README.md",)
    assert (repo / "README.md/user.md").read_bytes() == b"user folder\n"


def test_a_write_failing_half_way_puts_everything_back(
    repo: Path, ws: GitWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.before_write("t1")
    write(repo, "created.txt", b"agent\n")
    write(repo, "src/app.py", b"agent\n")
    ws.after_turn("t1")
    snapshot = tree_state(repo)

    # Inject one failure after the removals already happened (e.g. a full disk).
    real_replace = os.replace
    failures = []

    def failing_replace(src: object, dst: object) -> None:
        if not failures:
            failures.append(dst)
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(git_restore.os, "replace", failing_replace)
    result = ws.undo()
    assert failures
    assert not result.ok
    assert "left as they were" in result.message and "No space left" in result.message
    assert tree_state(repo) == snapshot
    assert len(ws.history) == 1
    assert not list(repo.rglob(".codeagent-restore-*"))

    monkeypatch.setattr(git_restore.os, "replace", real_replace)
    assert ws.undo().ok
    assert not (repo / "created.txt").exists()


def test_opening_cleans_up_old_temporary_indexes_only(repo: Path) -> None:
    old = repo / ".git" / "codeagent-deadbeef.index"
    fresh = repo / ".git" / "codeagent-cafe.index"
    old.write_bytes(b"left by a killed process")
    fresh.write_bytes(b"in use by another process right now")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    GitWorkspace.open(repo, "s").close()
    assert not old.exists()
    assert fresh.exists()
    assert (repo / ".git" / "index").exists()
