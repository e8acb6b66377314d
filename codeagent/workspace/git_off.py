"""The stand-in workspace for ``--no-git`` runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codeagent.workspace.git_checkpoints import TurnRecord
from codeagent.workspace.git_messages import UndoResult


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
    warning = ""  # nothing is opened, so nothing can be found wrong

    def ensure_writable(self) -> None:
        """Always writable: there is no git state to protect."""

    def before_write(self, turn_id: str) -> None:
        """No checkpoint is taken."""

    def begin_change(self, turn_id: str, paths: Sequence[str] | None = None) -> None:
        """Nothing is tracked."""

    def end_change(self, turn_id: str) -> None:
        """Nothing is tracked."""

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
