"""What undo and redo tell the user: done, done in part (and what was not restored), refused."""

from __future__ import annotations

from dataclasses import dataclass

from codeagent.workspace.git_checkpoints import TurnRecord
from codeagent.workspace.git_restore import Conflict

_LISTED_CONFLICTS = 10
_LISTED_LOST = 5


@dataclass(frozen=True)
class UndoResult:
    """Outcome of undo/redo: whether it happened, a message for the user, and the paths involved.

    On success ``files`` are the paths rewritten; on a refusal, the paths that blocked it.
    ``incomplete`` lists what the turn changed that could not be put back (not checkpointed).
    """

    ok: bool
    message: str
    files: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()


def undo_report(record: TurnRecord, verb: str, files: tuple[str, ...]) -> UndoResult:
    """The result of an undo/redo that went through: what was restored and what could not be."""
    label = record.summary.splitlines()[0] if record.summary.strip() else f"turn {record.turn_id}"
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    done = "Undid" if verb == "undo" else "Redid"
    count = f"{len(files)} file{'s' if len(files) != 1 else ''}"
    lost = tuple(record.unrestorable) if verb == "undo" else ()
    if lost:
        items = [f"  {p} {record.unrestorable[p]}" for p in lost[:_LISTED_LOST]]
        if len(lost) > _LISTED_LOST:
            items.append(f"  … and {len(lost) - _LISTED_LOST} more")
        message = (
            f"Undid {label} only in part: {count} restored"
            + (f" ({shown})" if files else "")
            + ". The turn also changed these, which could not be restored:\n"
            + "\n".join(items)
        )
    else:
        message = f"{done} {label}: {count}" + (f" ({shown})." if files else ".")
    if record.commit and verb == "undo":
        message += (
            f" Its auto-commit {record.commit[:8]} stays in history; the undo shows up as an "
            f"uncommitted change."
        )
    return UndoResult(True, message, files, lost)


def conflict_message(verb: str, conflicts: list[Conflict]) -> str:
    """Why an undo/redo was refused: the files changed since, and what to do."""
    lines = [f"  {c.path} {c.reason}" for c in conflicts[:_LISTED_CONFLICTS]]
    if len(conflicts) > _LISTED_CONFLICTS:
        lines.append(f"  … and {len(conflicts) - _LISTED_CONFLICTS} more")
    return (
        f"Cannot {verb}: these files changed after the turn and would be overwritten:\n"
        + "\n".join(lines)
        + f"\nNothing was changed. Save or revert those edits, then {verb} again."
    )
