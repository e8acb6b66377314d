"""Move a set of files from one recorded state to another, refusing if anyone changed them.

Undo and redo are the same operation in opposite directions: every file a turn changed must
currently look exactly like one side of the turn (``expected``), and is then rewritten to the other
side (``target``). Files outside that set are never touched. All checks run before the first write,
so a refusal changes nothing; if a write fails half-way the files are put back as they were.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codeagent.workspace.git_plumbing import GITLINK_MODE, SYMLINK_MODE, GitPlumbing
from codeagent.workspace.git_snapshot import FileState

State = Mapping[str, FileState | None]


@dataclass(frozen=True)
class Conflict:
    """One file that cannot be restored safely, and why (phrased for the user)."""

    path: str
    reason: str


def find_conflicts(root: Path, current: State, expected: State, target: State) -> list[Conflict]:
    """Everything that stops moving ``expected`` -> ``target`` without losing someone's work.

    ``current`` holds each file's state on disk now (None = absent or a folder).
    """
    conflicts: list[Conflict] = []
    removing = {path for path, entry in target.items() if entry is None}
    for path, want in expected.items():
        now = current.get(path)
        full = root / path
        on_disk = os.path.lexists(full)
        # A folder at the path is fine here: its files are separate entries, checked on their own
        # (and by the obstruction check below when a file has to go where the folder is).
        is_folder = full.is_dir() and not full.is_symlink()
        differs = now is not want if want is None or now is None else not want.matches(now)
        if differs or (want is None and on_disk and not is_folder):
            if want is None:
                reason = "was created or is present again since"
            elif now is None and is_folder:
                reason = "was replaced by a folder since"
            elif now is None:
                reason = "was deleted since" if not on_disk else "is now ignored by git"
            elif now.entry == want.entry:
                reason = "had its permissions changed since"
            else:
                reason = "was edited since"
            conflicts.append(Conflict(path, reason))
    for path, entry in target.items():
        if entry is None:
            continue
        blocker = _obstruction(root, path, removing)
        if blocker:
            conflicts.append(Conflict(path, blocker))
    return conflicts


def _obstruction(root: Path, path: str, removing: set[str]) -> str:
    """Why ``path`` cannot be written (a file where a folder must go, or vice versa), or ''."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        full = root / parent
        is_file = os.path.lexists(full) and (full.is_symlink() or not full.is_dir())
        if is_file and parent not in removing:
            return f"cannot be restored because {parent} is now a file"
    full = root / path
    if full.is_dir() and not full.is_symlink():
        for dirpath, _dirs, files in os.walk(full):
            for name in files:
                rel = Path(dirpath, name).relative_to(root).as_posix()
                if rel not in removing:
                    return f"cannot be restored because {path} is now a folder with other files"
    return ""


def apply_state(plumbing: GitPlumbing, before: State, target: State) -> None:
    """Rewrite the files in ``target`` to their target entries; on failure restore ``before``."""
    try:
        _write(plumbing, target)
    except Exception:
        # Best effort: put every file back as it was so a failed undo never leaves a half state.
        # On a double failure the original error is the one worth reporting.
        with contextlib.suppress(Exception):
            _write(plumbing, before)
        raise


def _write(plumbing: GitPlumbing, target: State) -> None:
    root = plumbing.root
    writes = {p: e for p, e in target.items() if e is not None and e.entry.mode != GITLINK_MODE}
    # Every blob is read before the first change on disk: a missing object changes nothing.
    blobs = plumbing.read_blobs([state.entry.sha for state in writes.values()])
    # Removals first, deepest first, so a file can replace a folder that held removed files.
    for path in sorted((p for p, e in target.items() if e is None), key=_depth, reverse=True):
        full = root / path
        if os.path.lexists(full):
            if full.is_dir() and not full.is_symlink():
                _remove_empty_tree(full)
            else:
                full.unlink()
        _prune_empty_parents(root, full.parent)
    for path, state in writes.items():
        full = root / path
        if full.is_dir() and not full.is_symlink():
            _remove_empty_tree(full)
        full.parent.mkdir(parents=True, exist_ok=True)
        data = blobs[state.entry.sha]
        # Raw bytes and exact permission bits: no smudge filter, no end-of-line conversion.
        temp = full.with_name(f".codeagent-restore-{uuid.uuid4().hex[:12]}")
        try:
            if state.entry.mode == SYMLINK_MODE:
                os.symlink(os.fsdecode(data), temp)
            else:
                with open(temp, "wb") as out:
                    out.write(data)
                os.chmod(temp, _perm(state))
            os.replace(temp, full)
        finally:
            if os.path.lexists(temp):
                temp.unlink()


def _perm(state: FileState) -> int:
    if state.perm is not None:
        return state.perm
    executable = state.entry.mode == "100755"
    return (0o777 if executable else 0o666) & ~_UMASK


def _read_umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


_UMASK = _read_umask()


def set_folders(root: Path, remove: set[str], create: set[str]) -> None:
    """Remove the folders in ``remove`` that are empty, then create those in ``create``."""
    for folder in sorted(remove, key=_depth, reverse=True):
        full = root / folder
        if full.is_dir() and not full.is_symlink():
            with contextlib.suppress(OSError):
                full.rmdir()
                _prune_empty_parents(root, full.parent)  # ``create`` puts back those that stay
    for folder in sorted(create, key=_depth):
        full = root / folder
        if not full.is_dir():
            full.mkdir(parents=True, exist_ok=True)


def _depth(path: str) -> int:
    return path.count("/")


def _remove_empty_tree(folder: Path) -> None:
    """Remove a folder that contains only empty folders; raise OSError if anything is inside."""
    for dirpath, _dirs, _files in os.walk(folder, topdown=False):
        os.rmdir(dirpath)


def _prune_empty_parents(root: Path, folder: Path) -> None:
    """Remove folders left empty by a removal, up to (not including) the repository root."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
