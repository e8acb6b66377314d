"""Undo and redo of one recorded turn: its files moved from one side of the turn to the other.

``move_turn`` is the step ``GitWorkspace.undo``/``redo`` share: it reads only the turn's own files,
refuses (changing nothing) when the user edited any of them since, and otherwise rewrites them and
the turn's empty folders to the wanted side.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from codeagent.workspace.git_checkpoints import TurnRecord
from codeagent.workspace.git_errors import RepositoryBusy
from codeagent.workspace.git_messages import UndoResult, conflict_message, undo_report
from codeagent.workspace.git_plumbing import Entry, GitPlumbing
from codeagent.workspace.git_restore import apply_state, find_conflicts, set_folders
from codeagent.workspace.git_snapshot import FileState, Snapshotter

Sides = tuple[dict[str, FileState | None], dict[str, FileState | None]]


def turn_sides(plumbing: GitPlumbing, record: TurnRecord) -> Sides:
    """(before, after) states of the record's files."""
    if record.states:
        before = {p: FileState.from_list(record.states[p][0]) for p in record.files}
        after = {p: FileState.from_list(record.states[p][1]) for p in record.files}
        return before, after
    # An older record: entries from the two trees, permissions unknown.
    turn = {c.path: c for c in plumbing.diff_trees(record.checkpoint, record.after)}
    files = [p for p in record.files if p in turn]
    return (
        {p: _state(turn[p].old) for p in files},
        {p: _state(turn[p].new) for p in files},
    )


def move_turn(
    root: Path,
    plumbing: GitPlumbing,
    snap: Snapshotter,
    record: TurnRecord,
    verb: Literal["undo", "redo"] | str,
    ensure_writable: Callable[[], None],
) -> UndoResult:
    """Move ``record``'s files to their state before the turn (``undo``) or after it (``redo``)."""
    try:
        ensure_writable()
    except RepositoryBusy as exc:
        return UndoResult(False, f"Cannot {verb}: {exc}")
    before, after = turn_sides(plumbing, record)
    expected, wanted = (after, before) if verb == "undo" else (before, after)
    files = tuple(expected)
    # Only the turn's own files are read: cost grows with the files changed, not the repo.
    current = snap.states(files)
    conflicts = find_conflicts(root, current, expected, wanted)
    if conflicts:
        return UndoResult(
            False,
            conflict_message(verb, conflicts),
            tuple(dict.fromkeys(c.path for c in conflicts)),
        )
    empty_before, empty_after = set(record.empty_before), set(record.empty_after)
    drop, make = (
        (empty_after - empty_before, empty_before)
        if verb == "undo"
        else (empty_before - empty_after, empty_after)
    )
    try:
        set_folders(root, drop, set())
        apply_state(plumbing, expected, wanted)
        set_folders(root, set(), make)
    except OSError as exc:
        return UndoResult(
            False, f"Could not {verb} (the files were left as they were): {exc}", files
        )
    return undo_report(record, verb, files)


def _state(entry: Entry | None) -> FileState | None:
    return None if entry is None else FileState(entry, None)
