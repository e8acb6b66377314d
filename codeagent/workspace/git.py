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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from codeagent.workspace.git_autocommit import commit_files, commit_message
from codeagent.workspace.git_checkpoints import CheckpointStore, History, TurnRecord, ref_safe
from codeagent.workspace.git_env import discover
from codeagent.workspace.git_errors import (
    GitCommandError,
    NotAGitRepository,
    RepositoryBusy,
    WorkspaceError,
)
from codeagent.workspace.git_messages import UndoResult
from codeagent.workspace.git_off import NoCheckpoints
from codeagent.workspace.git_plumbing import Entry, GitPlumbing
from codeagent.workspace.git_snapshot import FileState, Snapshot, Snapshotter
from codeagent.workspace.git_state import check_not_busy
from codeagent.workspace.git_tracking import TurnChanges, ancestors, folders_now
from codeagent.workspace.git_undo import move_turn

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


class UnknownCheckpoint(WorkspaceError):
    """``diff`` was asked for a checkpoint this session does not have."""


@dataclass
class _Pending:
    turn_id: str
    commit: str
    tree: str
    seq: int
    tracked: bool = False  # True once a tracked write ran: only tracked writes are recorded
    changes: dict[str, Any] = field(default_factory=dict)  # TurnChanges.to_dict()


class GitWorkspace:
    """Checkpoints, undo/redo, diffs and optional auto-commit for one session in one repository."""

    enabled = True

    def __init__(
        self, root: Path, git_dir: Path, session_id: str, *, auto_commit: bool = False
    ) -> None:
        self._plumbing = GitPlumbing(root, git_dir, snapshot_index=ref_safe(session_id))
        self._plumbing.remove_stale_temp_indexes()
        self._snap = Snapshotter(self._plumbing)
        self._store = CheckpointStore(self._plumbing, session_id)
        self._history: History = self._store.load()
        self._pending: _Pending | None = None
        self._changes = TurnChanges()
        self._base: Snapshot | None = None  # the pending checkpoint's snapshot, in memory
        self._fresh: Snapshot | None = None  # a snapshot taken just now, reusable once
        self._open: tuple[list[str] | None, Any] | None = None  # the write being tracked
        self._latest: str | None = None  # tree of the turn's latest full snapshot
        if self._history.pending:
            # A previous run took a checkpoint and stopped before the turn ended.
            try:
                self._pending = _Pending(**self._history.pending)
                self._changes = TurnChanges.from_dict(self._pending.changes)
            except (TypeError, ValueError):
                self._pending = None
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
        found = discover(path if path.is_dir() else path.parent)
        if found == "bare":
            raise NotAGitRepository(f"{path} is a bare git repository with no files. {hint}")
        if isinstance(found, str):
            why = f" (git says: {found})" if "dubious ownership" in found else ""
            raise NotAGitRepository(f"{path} is not inside a git repository{why}. {hint}")
        root, git_dir = found
        return cls(root, git_dir, session_id, auto_commit=auto_commit)

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
        """Release the snapshot cache file."""
        self._plumbing.drop_snapshot_index()

    # -- turns ----------------------------------------------------------------------------------

    def ensure_writable(self) -> None:
        """Raise ``RepositoryBusy`` when a merge, rebase, cherry-pick or revert is in progress."""
        check_not_busy(self._plumbing.git_dir, self.root)

    def before_write(self, turn_id: str) -> None:
        """Take the turn's checkpoint on its first call; later calls for the same turn do nothing.

        A call for a new turn while an earlier one was never closed with ``after_turn`` (e.g. the
        agent crashed or was interrupted) first records that earlier turn, so it stays undoable.
        Without ``begin_change``/``end_change`` everything between this call and ``after_turn``
        counts as the turn's change.
        """
        with self._lock:
            self.ensure_writable()
            if self._pending and self._pending.turn_id == turn_id:
                return
            if self._pending:
                self._finish("")
            snapshot = self._snap.take()
            seq = self._history.seq + 1
            commit = self._store.save(
                snapshot.tree,
                f"{seq:04d}-before",
                f"codeagent checkpoint before turn {turn_id}",
                self._tip,
            )
            self._pending = _Pending(turn_id, commit, snapshot.tree, seq)
            self._changes = TurnChanges()
            self._base = self._fresh = snapshot
            self._history.seq = seq
            self._history.base = self._history.base or commit
            self._history.pending = asdict(self._pending)
            self._store.store(self._history)

    def begin_change(self, turn_id: str, paths: Sequence[str] | None = None) -> None:
        """Before one agent write: checkpoint the turn if needed and look at what it may change.

        ``paths``: the files a patch will write (cheap: only those are read); None for a
        command, which may change anything (a full snapshot, incremental thanks to git's stat
        cache). From the first call on, only tracked writes count as the turn's changes.
        """
        with self._lock:
            self._fresh = None  # only a checkpoint taken by this very call is fresh enough
            self.before_write(turn_id)
            if paths is None:
                pre: Any = self._fresh or self._snap.take()
                self._open = (None, pre)
            else:
                listed = list(dict.fromkeys(paths))
                folders = folders_now(self.root, ancestors(listed))
                self._open = (listed, (self._snap.states(listed), folders))
            self._fresh = None

    def end_change(self, turn_id: str) -> None:
        """After the write ``begin_change`` announced: record what it changed."""
        with self._lock:
            opened, self._open = self._open, None
            pending = self._pending
            if opened is None or pending is None or pending.turn_id != turn_id:
                return
            paths, pre = opened
            if paths is None:
                post = self._snap.take()
                self._changes.absorb_snapshots(self._plumbing, pre, post)
                self._latest = post.tree
            else:
                before, folders = pre
                self._changes.absorb(before, self._snap.states(paths))
                after_folders = folders_now(self.root, ancestors(paths))
                self._changes.absorb_folders(folders, after_folders, paths)
            pending.tracked = True
            pending.changes = self._changes.to_dict()
            self._history.pending = asdict(pending)
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
        changes = self._changes
        # If git fails here the turn stays pending, so a later call can still record it.
        latest = self._latest
        if not pending.tracked:
            base = self._base if self._base and self._base.tree == pending.tree else None
            post = self._snap.take()
            latest = post.tree
            changes = TurnChanges()
            if base is None:
                # After a restart only the tree is known: no folder or permission baseline.
                known = Snapshot(post.tree, post.perms, post.dirs, post.empty_dirs)
                changes.absorb_snapshots(self._plumbing, Snapshot(pending.tree), known)
                changes.empty_before = changes.empty_after = set()
            else:
                changes.absorb_snapshots(self._plumbing, base, post)
        files = changes.changed()
        self._open = self._base = self._fresh = self._latest = None
        if not files and not changes.folders_changed() and not changes.unrestorable:
            self._pending = self._history.pending = None
            self._store.store(self._history)
            if pending.commit != self._history.base:
                self._store.drop(f"{pending.seq:04d}-before")
            return None
        first = {p: changes.first.get(p) for p in files}
        last = {p: changes.last[p] for p in files}
        before_tree = self._tree_for(pending.tree, _entries(first), pending.tree)
        checkpoint = pending.commit
        if before_tree != pending.tree:
            # The user changed some of these files during the turn before the agent did: the
            # checkpoint holds their version, not the one from the start of the turn.
            checkpoint = self._store.save(
                before_tree,
                f"{pending.seq:04d}-before",
                f"codeagent checkpoint before turn {pending.turn_id}",
                self._tip,
            )
        after = self._store.save(
            self._tree_for(pending.tree, _entries(last), latest),
            f"{pending.seq:04d}-after",
            f"codeagent: after turn {pending.turn_id}",
            checkpoint,
        )
        record = TurnRecord(
            turn_id=pending.turn_id,
            checkpoint=checkpoint,
            after=after,
            files=tuple(files),
            created=tuple(p for p in files if first[p] is None),
            deleted=tuple(p for p in files if last[p] is None),
            summary=summary,
            states={p: [_dump(first[p]), _dump(last[p])] for p in files},
            empty_before=tuple(sorted(changes.empty_before)),
            empty_after=tuple(sorted(changes.empty_after)),
            unrestorable=dict(sorted(changes.unrestorable.items())),
        )
        if self.auto_commit and files:
            record = self._auto_commit(record, _entries(last))
        self._pending = self._history.pending = None
        self._history.undo.append(record)
        self._history.redo.clear()
        self._store.store(self._history)
        return record

    def _tree_for(self, base: str, entries: dict[str, Entry | None], candidate: str | None) -> str:
        """``base`` with ``entries`` put in; ``candidate`` when it already is exactly that
        (usual: no one else changed anything), which spares building a tree of the whole repo."""
        if candidate:
            same = candidate == base
            diff = (
                {} if same else {c.path: c.new for c in self._plumbing.diff_trees(base, candidate)}
            )
            if set(diff) <= set(entries) and all(diff[p] == entries[p] for p in diff):
                rest = [p for p in entries if p not in diff]
                known = self._plumbing.tree_entries(base, rest) if rest else {}
                if all(known.get(p) == entries[p] for p in rest):
                    return candidate
        return self._plumbing.tree_with(base, entries)

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
            result = self._guarded_move(record, "undo")
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
            result = self._guarded_move(record, "redo")
            if result.ok:
                self._history.redo.pop()
                self._history.undo.append(record)
                self._store.store(self._history)
            return result

    def _guarded_move(self, record: TurnRecord, verb: str) -> UndoResult:
        try:
            return move_turn(
                self.root, self._plumbing, self._snap, record, verb, self.ensure_writable
            )
        except WorkspaceError as exc:
            # e.g. the checkpoint objects were deleted by hand; nothing has been written yet
            # (write failures are caught and rolled back inside move_turn).
            return UndoResult(False, f"Cannot {verb}: {exc}. Nothing was changed.")

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
                    self._store.tree_of(self._history.base), self._snap.take().tree
                )
            if scope == "turn":
                if self._pending:
                    return self._plumbing.unified_diff(self._pending.tree, self._snap.take().tree)
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


def _entries(states: dict[str, FileState | None]) -> dict[str, Entry | None]:
    return {p: (s.entry if s else None) for p, s in states.items()}


def _dump(state: FileState | None) -> list[object] | None:
    return None if state is None else state.to_list()


def open_workspace(
    path: Path, session_id: str, *, no_git: bool = False, auto_commit: bool = False
) -> GitWorkspace | NoCheckpoints:
    """``NoCheckpoints`` when the user passed --no-git, else ``GitWorkspace.open`` (which raises
    ``NotAGitRepository`` outside a repository, so running unprotected is always a choice)."""
    if no_git:
        return NoCheckpoints(Path(path), session_id)
    return GitWorkspace.open(Path(path), session_id, auto_commit=auto_commit)
