"""What the agent itself changed during a turn, write by write.

The tool runner brackets every write (a patch, a command not proven read-only) with a look at the
tree before and after it; ``TurnChanges`` keeps, per path, the state before the agent's *first*
write and after its *last* one. A file the user saves while the turn runs is in neither, so undo
leaves it alone; a file the user edits after the agent wrote it no longer matches the agent's
"after" state, so undo refuses it rather than overwrite the user's text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codeagent.workspace.git_plumbing import GITLINK_MODE, GitPlumbing
from codeagent.workspace.git_snapshot import FileState, Snapshot

States = Mapping[str, FileState | None]


def ancestors(paths: Iterable[str]) -> set[str]:
    """Every parent folder of ``paths`` (repository-relative)."""
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")
        found.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return found


def folders_now(root: os.PathLike[str] | str, folders: Iterable[str]) -> tuple[set[str], set[str]]:
    """(existing, empty) among ``folders``, for writes whose paths are known in advance."""
    existing: set[str] = set()
    empty: set[str] = set()
    for folder in folders:
        full = os.path.join(root, folder)
        if os.path.isdir(full) and not os.path.islink(full):
            existing.add(folder)
            try:
                if not os.listdir(full):
                    empty.add(folder)
            except OSError:
                pass
    return existing, empty


@dataclass
class TurnChanges:
    """The agent's changes in one turn (see the module docstring)."""

    first: dict[str, FileState | None] = field(default_factory=dict)
    last: dict[str, FileState | None] = field(default_factory=dict)
    empty_before: set[str] = field(default_factory=set)  # empty folders undo must recreate
    empty_after: set[str] = field(default_factory=set)  # empty folders redo must recreate
    dirs_seen: set[str] = field(default_factory=set)
    unrestorable: dict[str, str] = field(default_factory=dict)  # path -> why undo cannot

    def absorb(self, before: States, after: States) -> None:
        """Record one write: ``before``/``after`` states of the paths it may have changed."""
        for path in after:
            old, new = before.get(path), after[path]
            if path not in self.last and _same(old, new):
                continue
            self.first.setdefault(path, old)
            self.last[path] = new

    def absorb_folders(
        self,
        pre: tuple[set[str] | frozenset[str], set[str] | frozenset[str]],
        post: tuple[set[str] | frozenset[str], set[str] | frozenset[str]],
        touched: Iterable[str],
    ) -> None:
        """Empty folders around one write; ``pre``/``post`` are (all folders, empty folders)."""
        pre_dirs, pre_empty = pre
        post_dirs, post_empty = post
        relevant = ancestors(touched) | (set(pre_empty) - set(post_dirs))
        relevant |= set(post_empty) - set(pre_dirs)
        # the parents of a folder that came or went, since undo/redo prune emptied parents
        relevant |= ancestors(list(relevant))
        for folder in relevant:
            if folder not in self.dirs_seen:
                self.dirs_seen.add(folder)
                if folder in pre_empty:
                    self.empty_before.add(folder)
            if folder in post_empty:
                self.empty_after.add(folder)
            else:
                self.empty_after.discard(folder)

    def absorb_snapshots(self, plumbing: GitPlumbing, pre: Snapshot, post: Snapshot) -> None:
        """Record one command from full snapshots taken right before and after it."""
        changes = {
            c.path: c
            for c in plumbing.diff_trees(pre.tree, post.tree)
            if not _gitlink(c.old) and not _gitlink(c.new)
        }
        before = {p: pre.state(p, c.old) for p, c in changes.items()}
        after = {p: post.state(p, c.new) for p, c in changes.items()}
        chmod = sorted(
            p for p in pre.perms.keys() & post.perms.keys()
            if pre.perms[p] != post.perms[p] and p not in changes
        )  # fmt: skip
        if chmod:
            entries = plumbing.tree_entries(post.tree, chmod)
            for path in chmod:
                if path in entries:
                    before[path] = pre.state(path, entries[path])
                    after[path] = post.state(path, entries[path])
        self.absorb(before, after)
        self.absorb_folders((pre.dirs, pre.empty_dirs), (post.dirs, post.empty_dirs), after)
        for key in pre.unprotected.keys() | post.unprotected.keys():
            old, new = pre.unprotected.get(key), post.unprotected.get(key)
            if (old and old[1]) != (new and new[1]):
                self.unrestorable[key] = (old or new)[0]  # type: ignore[index]

    def changed(self) -> list[str]:
        """Paths whose state after the agent's last write differs from before its first."""
        return sorted(p for p in self.last if not _same(self.first.get(p), self.last[p]))

    def folders_changed(self) -> bool:
        """Whether the set of empty folders differs between the two ends of the turn."""
        return self.empty_before != self.empty_after

    def to_dict(self) -> dict[str, Any]:
        """JSON form (kept with the pending turn so a crash loses no tracking)."""
        return {
            "states": {
                p: [_dump(self.first.get(p)), _dump(self.last[p])] for p in sorted(self.last)
            },
            "empty_before": sorted(self.empty_before),
            "empty_after": sorted(self.empty_after),
            "dirs_seen": sorted(self.dirs_seen),
            "unrestorable": dict(self.unrestorable),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TurnChanges:
        """Inverse of ``to_dict``."""
        changes = cls()
        for path, (old, new) in dict(data.get("states", {})).items():
            changes.first[path] = FileState.from_list(old)
            changes.last[path] = FileState.from_list(new)
        changes.empty_before = set(data.get("empty_before", ()))
        changes.empty_after = set(data.get("empty_after", ()))
        changes.dirs_seen = set(data.get("dirs_seen", ()))
        changes.unrestorable = dict(data.get("unrestorable", {}))
        return changes


def _dump(state: FileState | None) -> list[object] | None:
    return None if state is None else state.to_list()


def _same(a: FileState | None, b: FileState | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.entry == b.entry and a.perm == b.perm


def _gitlink(entry: object) -> bool:
    return entry is not None and getattr(entry, "mode", "") == GITLINK_MODE
