"""Git safety for agent turns: a checkpoint before the first write, exact undo/redo, diffs.

``GitWorkspace`` is the one object the agent talks to. Per turn it calls ``before_write(turn_id)``
before anything that may change files (the first call snapshots the whole working tree, tracked
and untracked-not-ignored, into a checkpoint commit under ``refs/codeagent/<session>/``) and
``after_turn(turn_id)`` when the turn ends (a second snapshot; the difference is what the turn
changed). ``undo``/``redo`` move exactly those files between the two snapshots and refuse, changing
nothing, if the user edited any of them since. HEAD, branches, the user's index and stash are never
touched, except that the opt-in auto-commit advances HEAD by one commit holding the turn's files.

All methods block on git subprocesses; async callers should run them in a thread. A lock makes
one workspace safe to share between threads.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import git

from codeagent.workspace.git_autocommit import commit_files, commit_message
from codeagent.workspace.git_checkpoints import CheckpointStore, History, TurnRecord, ref_safe
from codeagent.workspace.git_errors import (
    GitCommandError,
    NotAGitRepository,
    RepositoryBusy,
    WorkspaceError,
)
from codeagent.workspace.git_plumbing import GITLINK_MODE, Entry, GitPlumbing
from codeagent.workspace.git_restore import Conflict, apply_state, find_conflicts
from codeagent.workspace.git_state import check_not_busy

__all__ = [
    "GitCommandError",
    "GitWorkspace",
    "NoCheckpoints",
    "NotAGitRepository",
    "RepositoryBusy",
    "TurnRecord",
    "UndoResult",
    "UnknownCheckpoint",
    "WorkspaceError",
    "open_workspace",
]

_LISTED_CONFLICTS = 10


class UnknownCheckpoint(WorkspaceError):
    """``diff`` was asked for a checkpoint this session does not have."""


@dataclass(frozen=True)
class UndoResult:
    """Outcome of undo/redo: whether it happened, a message for the user, and the paths involved.

    On success ``files`` are the paths rewritten; on a refusal, the paths that blocked it.
    """

    ok: bool
    message: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pending:
    turn_id: str
    commit: str
    tree: str
    seq: int


class GitWorkspace:
    """Checkpoints, undo/redo, diffs and optional auto-commit for one session in one repository."""

    enabled = True

    def __init__(self, repo: git.Repo, session_id: str, *, auto_commit: bool = False) -> None:
        self._plumbing = GitPlumbing(repo, snapshot_index=ref_safe(session_id))
        self._plumbing.remove_stale_temp_indexes()
        self._store = CheckpointStore(self._plumbing, session_id)
        self._history: History = self._store.load()
        self._pending: _Pending | None = None
        if self._history.pending:
            # A previous run took a checkpoint and stopped before the turn ended.
            try:
                self._pending = _Pending(**self._history.pending)
            except TypeError:
                self._history.pending = None
        self._lock = threading.RLock()
        self.session_id = session_id
        self.auto_commit = auto_commit

    @classmethod
    def open(cls, path: Path, session_id: str, *, auto_commit: bool = False) -> GitWorkspace:
        """Open the git working tree containing ``path``; raise ``NotAGitRepository`` if none."""
        path = Path(path)
        hint = (
            "Run codeagent inside a git repository (or `git init` one) so every change can be "
            "undone, or pass --no-git to work without checkpoints (undo will be unavailable)."
        )
        if not path.exists():
            raise NotAGitRepository(f"{path} does not exist. {hint}")
        try:
            repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise NotAGitRepository(f"{path} is not inside a git repository. {hint}") from exc
        if repo.bare or not repo.working_tree_dir:
            raise NotAGitRepository(f"{path} is a bare git repository with no files. {hint}")
        return cls(repo, session_id, auto_commit=auto_commit)

    @property
    def root(self) -> Path:
        """Top folder of the working tree."""
        return self._plumbing.root

    @property
    def warning(self) -> str:
        """Non-fatal problem found when opening (e.g. unreadable saved history), or ''."""
        return self._store.damaged

    @property
    def history(self) -> tuple[TurnRecord, ...]:
        """Turns that can be undone, oldest first."""
        return tuple(self._history.undo)

    @property
    def redoable(self) -> tuple[TurnRecord, ...]:
        """Undone turns that can be redone, the next one to redo last."""
        return tuple(self._history.redo)

    def close(self) -> None:
        """Release gitpython's helper processes and the snapshot cache file."""
        self._plumbing.drop_snapshot_index()
        self._plumbing.repo.close()

    # -- turns ----------------------------------------------------------------------------------

    def ensure_writable(self) -> None:
        """Raise ``RepositoryBusy`` when a merge, rebase, cherry-pick or revert is in progress."""
        check_not_busy(self._plumbing.git_dir, self.root)

    def before_write(self, turn_id: str) -> None:
        """Take the turn's checkpoint on its first call; later calls for the same turn do nothing.

        A call for a new turn while an earlier one was never closed with ``after_turn`` (e.g. the
        agent crashed or was interrupted) first records that earlier turn, so it stays undoable.
        """
        with self._lock:
            self.ensure_writable()
            if self._pending and self._pending.turn_id == turn_id:
                return
            if self._pending:
                self._finish("")
            tree = self._plumbing.snapshot_tree()
            seq = self._history.seq + 1
            commit = self._store.save(
                tree, f"{seq:04d}-before", f"codeagent checkpoint before turn {turn_id}", self._tip
            )
            self._pending = _Pending(turn_id, commit, tree, seq)
            self._history.seq = seq
            self._history.base = self._history.base or commit
            self._history.pending = asdict(self._pending)
            self._store.store(self._history)

    def after_turn(self, turn_id: str, summary: str = "") -> TurnRecord | None:
        """Record what the turn changed (None if it wrote nothing); auto-commit it when enabled."""
        with self._lock:
            if self._pending is None or self._pending.turn_id != turn_id:
                return None
            return self._finish(summary)

    def _finish(self, summary: str) -> TurnRecord | None:
        pending = self._pending
        assert pending is not None
        # If git fails here the turn stays pending, so a later call can still record it.
        after_tree = self._plumbing.snapshot_tree()
        changes = [
            c
            for c in self._plumbing.diff_trees(pending.tree, after_tree)
            if not _is_gitlink(c.old) and not _is_gitlink(c.new)
        ]
        if not changes:
            self._pending = self._history.pending = None
            self._store.store(self._history)
            if pending.commit != self._history.base:
                self._store.drop(f"{pending.seq:04d}-before")
            return None
        after = self._store.save(
            after_tree,
            f"{pending.seq:04d}-after",
            f"codeagent: after turn {pending.turn_id}",
            pending.commit,
        )
        record = TurnRecord(
            turn_id=pending.turn_id,
            checkpoint=pending.commit,
            after=after,
            files=tuple(sorted(c.path for c in changes)),
            created=tuple(sorted(c.path for c in changes if c.old is None)),
            deleted=tuple(sorted(c.path for c in changes if c.new is None)),
            summary=summary,
        )
        if self.auto_commit:
            record = self._auto_commit(record, {c.path: c.new for c in changes})
        self._pending = self._history.pending = None
        self._history.undo.append(record)
        self._history.redo.clear()
        self._store.store(self._history)
        return record

    def _auto_commit(self, record: TurnRecord, entries: dict[str, Entry | None]) -> TurnRecord:
        try:
            self.ensure_writable()
            commit = commit_files(
                self._plumbing, entries, commit_message(record.summary, record.files)
            )
        except WorkspaceError as exc:
            # The turn's changes are safe on disk and in the checkpoint; only the commit is missing.
            return replace(record, commit_error=str(exc))
        return replace(record, commit=commit)

    @property
    def _tip(self) -> str | None:
        """Latest checkpoint commit, so the session's checkpoints form one readable chain."""
        if self._history.undo:
            return self._history.undo[-1].after
        return self._history.base

    # -- undo / redo ----------------------------------------------------------------------------

    def undo(self) -> UndoResult:
        """Put back the files the most recent turn changed, as they were before it."""
        with self._lock:
            if self._pending:
                self._finish("")
            if not self._history.undo:
                return UndoResult(False, "Nothing to undo in this session.")
            record = self._history.undo[-1]
            result = self._guarded_move(record, record.after, record.checkpoint, "undo")
            if result.ok:
                self._history.undo.pop()
                self._history.redo.append(record)
                self._store.store(self._history)
            return result

    def redo(self) -> UndoResult:
        """Re-apply the most recently undone turn."""
        with self._lock:
            if self._pending:
                self._finish("")
            if not self._history.redo:
                return UndoResult(
                    False, "Nothing to redo: no turn has been undone since the last change."
                )
            record = self._history.redo[-1]
            result = self._guarded_move(record, record.checkpoint, record.after, "redo")
            if result.ok:
                self._history.redo.pop()
                self._history.undo.append(record)
                self._store.store(self._history)
            return result

    def _guarded_move(self, record: TurnRecord, source: str, target: str, verb: str) -> UndoResult:
        try:
            return self._move(record, source, target, verb)
        except WorkspaceError as exc:
            # e.g. the checkpoint objects were deleted by hand; nothing has been written yet
            # (write failures are caught and rolled back inside _move).
            return UndoResult(False, f"Cannot {verb}: {exc}. Nothing was changed.")

    def _move(self, record: TurnRecord, source: str, target: str, verb: str) -> UndoResult:
        try:
            self.ensure_writable()
        except RepositoryBusy as exc:
            return UndoResult(False, f"Cannot {verb}: {exc}")
        # Diffs instead of full listings: cost grows with the files changed, not the repo size.
        turn = {c.path: c for c in self._plumbing.diff_trees(source, target)}
        files = tuple(p for p in record.files if p in turn)
        expected = {p: turn[p].old for p in files}
        wanted = {p: turn[p].new for p in files}
        drift = {
            c.path: c.new for c in self._plumbing.diff_trees(source, self._plumbing.snapshot_tree())
        }
        current = {p: drift.get(p, expected[p]) for p in files}
        conflicts = find_conflicts(self.root, current, expected, wanted)
        if conflicts:
            return UndoResult(
                False,
                _conflict_message(verb, conflicts),
                tuple(dict.fromkeys(c.path for c in conflicts)),
            )
        try:
            apply_state(self._plumbing, expected, wanted)
        except (OSError, WorkspaceError) as exc:
            return UndoResult(
                False, f"Could not {verb} (the files were left as they were): {exc}", files
            )
        label = (
            record.summary.splitlines()[0] if record.summary.strip() else f"turn {record.turn_id}"
        )
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        done = "Undid" if verb == "undo" else "Redid"
        message = f"{done} {label}: {len(files)} file{'s' if len(files) != 1 else ''} ({shown})."
        if record.commit and verb == "undo":
            message += (
                f" Its auto-commit {record.commit[:8]} stays in history; the undo shows up as an "
                f"uncommitted change."
            )
        return UndoResult(True, message, files)

    # -- diffs ----------------------------------------------------------------------------------

    def diff(self, scope: str = "session") -> str:
        """Unified diff for ``session`` (start of session -> now), ``turn`` (the current or last
        turn), or one checkpoint (a turn id or a checkpoint commit id prefix: that turn's changes).
        """
        with self._lock:
            if scope == "session":
                if self._history.base is None:
                    return ""
                return self._plumbing.unified_diff(
                    self._store.tree_of(self._history.base), self._plumbing.snapshot_tree()
                )
            if scope == "turn":
                if self._pending:
                    return self._plumbing.unified_diff(
                        self._pending.tree, self._plumbing.snapshot_tree()
                    )
                if not self._history.undo:
                    return ""
                record = self._history.undo[-1]
                return self._plumbing.unified_diff(record.checkpoint, record.after)
            record = self._find(scope)
            return self._plumbing.unified_diff(record.checkpoint, record.after)

    def _find(self, key: str) -> TurnRecord:
        records = [*self._history.undo, *self._history.redo]
        for record in records:
            if record.turn_id == key:
                return record
        if len(key) >= 4:
            for record in records:
                if record.checkpoint.startswith(key) or record.after.startswith(key):
                    return record
        raise UnknownCheckpoint(
            f"No checkpoint {key!r} in this session. Use 'session', 'turn', a turn id, or a "
            f"checkpoint id."
        )


def _is_gitlink(entry: Entry | None) -> bool:
    # Submodules are separate repositories; their contents are not ours to checkpoint.
    return entry is not None and entry.mode == GITLINK_MODE


def _conflict_message(verb: str, conflicts: list[Conflict]) -> str:
    lines = [f"  {c.path} {c.reason}" for c in conflicts[:_LISTED_CONFLICTS]]
    if len(conflicts) > _LISTED_CONFLICTS:
        lines.append(f"  … and {len(conflicts) - _LISTED_CONFLICTS} more")
    return (
        f"Cannot {verb}: these files changed after the turn and would be overwritten:\n"
        + "\n".join(lines)
        + f"\nNothing was changed. Save or revert those edits, then {verb} again."
    )


class NoCheckpoints:
    """Stand-in for ``GitWorkspace`` in ``--no-git`` runs: writes allowed, nothing undoable."""

    enabled = False
    _OFF = "Checkpoints are off (--no-git), so there is nothing to {verb}."

    def __init__(self, root: Path | None = None, session_id: str = "") -> None:
        self.root = Path(root) if root is not None else Path.cwd()
        self.session_id = session_id
        self.auto_commit = False

    history: tuple[TurnRecord, ...] = ()
    redoable: tuple[TurnRecord, ...] = ()

    def ensure_writable(self) -> None:
        """Always writable: there is no git state to protect."""

    def before_write(self, turn_id: str) -> None:
        """No checkpoint is taken."""

    def after_turn(self, turn_id: str, summary: str = "") -> TurnRecord | None:
        """Nothing is recorded."""
        return None

    def undo(self) -> UndoResult:
        """Always refuses, saying why."""
        return UndoResult(False, self._OFF.format(verb="undo"))

    def redo(self) -> UndoResult:
        """Always refuses, saying why."""
        return UndoResult(False, self._OFF.format(verb="redo"))

    def diff(self, scope: str = "session") -> str:
        """No checkpoints, so no diffs."""
        return ""

    def close(self) -> None:
        """Nothing to release."""


def open_workspace(
    path: Path, session_id: str, *, no_git: bool = False, auto_commit: bool = False
) -> GitWorkspace | NoCheckpoints:
    """``NoCheckpoints`` when the user passed --no-git, else ``GitWorkspace.open`` (which raises
    ``NotAGitRepository`` outside a repository, so running unprotected is always a choice)."""
    if no_git:
        return NoCheckpoints(Path(path), session_id)
    return GitWorkspace.open(Path(path), session_id, auto_commit=auto_commit)
