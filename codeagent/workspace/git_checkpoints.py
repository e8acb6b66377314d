"""Checkpoint commits and the per-session undo/redo history, stored in the repository itself.

Every checkpoint is a commit object reachable from a ref under ``refs/codeagent/<session>/``, so
``git gc`` keeps it, yet no branch, tag, HEAD or stash ever points at it. The undo/redo stacks are
kept as a small JSON blob under ``refs/codeagent/<session>/state`` so a resumed session can still
undo the turns of its earlier run.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from codeagent.workspace.git_plumbing import GitPlumbing


@dataclass(frozen=True)
class TurnRecord:
    """What one agent turn changed: the checkpoints on either side and the paths involved."""

    turn_id: str
    checkpoint: str  # commit id of the checkpoint taken before the turn's first write
    after: str  # commit id of the snapshot taken when the turn ended
    files: tuple[str, ...]  # every path the turn changed, sorted
    created: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    summary: str = ""
    commit: str | None = None  # the auto-commit made for this turn, if any
    commit_error: str = ""  # why auto-commit was skipped (e.g. a merge started meanwhile)
    # path -> [state before, state after], each [mode, sha, permission bits] or None; empty in
    # records made before exact states were kept (undo then reads the two checkpoint trees).
    states: dict[str, list[Any]] = field(default_factory=dict)
    empty_before: tuple[str, ...] = ()  # empty folders the turn removed or emptied around
    empty_after: tuple[str, ...] = ()  # empty folders the turn left
    unrestorable: dict[str, str] = field(default_factory=dict)  # changed but not checkpointed

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnRecord:
        """Inverse of ``to_dict``."""
        return cls(
            turn_id=str(data["turn_id"]),
            checkpoint=str(data["checkpoint"]),
            after=str(data["after"]),
            files=tuple(data.get("files", ())),
            created=tuple(data.get("created", ())),
            deleted=tuple(data.get("deleted", ())),
            summary=str(data.get("summary", "")),
            commit=data.get("commit"),
            commit_error=str(data.get("commit_error", "")),
            states=dict(data.get("states", {})),
            empty_before=tuple(data.get("empty_before", ())),
            empty_after=tuple(data.get("empty_after", ())),
            unrestorable=dict(data.get("unrestorable", {})),
        )


@dataclass
class History:
    """The session's undo stack (oldest first), redo stack, and first checkpoint."""

    undo: list[TurnRecord] = field(default_factory=list)
    redo: list[TurnRecord] = field(default_factory=list)
    base: str | None = None  # first checkpoint of the session: the "session" diff starts here
    seq: int = 0  # number of checkpoints taken, used to name their refs
    # The turn whose checkpoint is taken but which has not ended yet: kept on disk so a turn
    # cut short by a crash can still be recorded and undone after a restart.
    pending: dict[str, Any] | None = None


def ref_safe(session_id: str) -> str:
    """Turn a session id into a single valid ref path component."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", session_id).strip("-")
    return name or "session"


class CheckpointStore:
    """Creates checkpoint commits and persists ``History`` for one session."""

    def __init__(self, plumbing: GitPlumbing, session_id: str) -> None:
        self.plumbing = plumbing
        self.prefix = f"refs/codeagent/{ref_safe(session_id)}"
        self.damaged = ""  # set by load() when the saved history was unreadable

    def save(self, tree: str, name: str, message: str, parent: str | None) -> str:
        """Commit ``tree`` as a checkpoint and pin it with ``<prefix>/checkpoints/<name>``."""
        parents = (parent,) if parent else ()
        commit = self.plumbing.commit_tree(tree, message, parents)
        self.plumbing.update_ref(f"{self.prefix}/checkpoints/{name}", commit, reason=message)
        return commit

    def drop(self, name: str) -> None:
        """Forget a checkpoint that turned out to be unnecessary (a turn that changed nothing)."""
        self.plumbing.delete_ref(f"{self.prefix}/checkpoints/{name}")

    def tree_of(self, commit: str) -> str:
        """The tree a checkpoint commit records."""
        return self.plumbing.text("rev-parse", f"{commit}^{{tree}}")

    def load(self) -> History:
        """Read the persisted history, or an empty one for a new session."""
        blob = self.plumbing.rev_parse(f"{self.prefix}/state")
        if blob is None:
            return History()
        try:
            data = json.loads(self.plumbing.read_blob(blob))
            return History(
                undo=[TurnRecord.from_dict(d) for d in data.get("undo", [])],
                redo=[TurnRecord.from_dict(d) for d in data.get("redo", [])],
                base=data.get("base"),
                seq=int(data.get("seq", 0)),
                pending=data.get("pending"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Someone edited or damaged the ref. Start an empty history but keep numbering after
            # the checkpoints that exist, so none of them is overwritten; they stay in git.
            self.damaged = f"the saved undo history could not be read ({exc}); starting afresh"
            return History(seq=len(self.plumbing.refs_under(f"{self.prefix}/checkpoints/")))

    def store(self, history: History) -> None:
        """Persist ``history`` (written as a blob, then the state ref is moved to it)."""
        payload = {
            "version": 1,
            "undo": [r.to_dict() for r in history.undo],
            "redo": [r.to_dict() for r in history.redo],
            "base": history.base,
            "seq": history.seq,
            "pending": history.pending,
        }
        blob = self.plumbing.write_blob(json.dumps(payload, ensure_ascii=False).encode())
        self.plumbing.update_ref(f"{self.prefix}/state", blob, reason="codeagent: history")
