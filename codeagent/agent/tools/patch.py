"""The ``apply_patch`` tool: parse a patch, show it as a diff, apply all of it or chosen hunks.

``prepare_patch`` works out every file's new content in memory (nothing is written), so a patch
that does not apply fails before touching the disk. ``PreparedPatch.apply`` then writes all
files or none through ``workspace.files.apply_changes``, after checking that no file changed
since the patch was prepared (an approval can take a while).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codeagent.agent.tools.patch_diff import file_diff, hunk_groups, merge_selected
from codeagent.agent.tools.patch_match import apply_chunks
from codeagent.agent.tools.patch_model import Chunk, FileOp, Patch, PatchError
from codeagent.agent.tools.patch_parser import parse_patch, parse_update_body, patch_from_operation
from codeagent.workspace.files import ChangeError, FileChange, apply_changes
from codeagent.workspace.paths import (
    PathEscapeError,
    normalize_relative,
    resolve_for_write,
    resolve_inside,
)
from codeagent.workspace.protected import is_repository_config

APPLY_PATCH_TOOL: dict[str, Any] = {"type": "apply_patch"}

_FUNCTION_DESCRIPTION = """\
Edit files with a patch. Send the whole patch as `input`:

*** Begin Patch
*** Add File: path/new.py
+every line of the new file starts with +
*** Update File: path/old.py
*** Move to: path/renamed.py   (optional)
@@ def function_or_class_line_near_the_change
 context line (starts with a space)
-line to remove
+line to add
*** Delete File: path/obsolete.py
*** End Patch

Paths are relative to the repository root. Give about 3 lines of context before and after each
change, copied exactly; use an @@ line (or several) to say where when the context is ambiguous;
end a section with '*** End of File' when it must match at the end. Sections of one file must
be in file order. A patch applies to all files or none; on failure nothing is written and the
error says which file and lines did not match."""

APPLY_PATCH_FUNCTION_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "apply_patch",
    "description": _FUNCTION_DESCRIPTION,
    "parameters": {
        "type": "object",
        "properties": {
            "input": {"type": "string", "description": "The entire patch, Begin to End Patch."}
        },
        "required": ["input"],
        "additionalProperties": False,
    },
    "strict": True,
}


class PatchPathError(PatchError, PathEscapeError):
    """A patch path outside the repository, or leading into ``.git`` or codeagent's own state:
    both a ``PatchError`` (so the model is told) and a ``PathEscapeError`` (so callers can tell
    it apart)."""

    path: str  # always a path here (PatchError's may be None)

    def __init__(self, path: str, reason: str, message: str | None = None):
        # Both bases take different arguments, so set up the shared Exception state directly.
        message = message or str(PathEscapeError(path, reason))
        Exception.__init__(self, f"{message}\nNothing was changed.")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class FileChangeView:
    """One file's change in a prepared patch.

    ``key`` names the file in ``files``, ``hunk_counts`` and ``selected_hunks``: the new path,
    or the old one for a deletion.
    """

    kind: Literal["add", "update", "delete", "move"]
    old_path: str | None
    new_path: str | None
    old_text: str
    new_text: str

    @property
    def key(self) -> str:
        path = self.new_path if self.new_path is not None else self.old_path
        assert path is not None  # every change names a file: the new one, or the deleted one
        return path

    def hunk_count(self) -> int:
        return len(hunk_groups(self.old_text, self.new_text))


@dataclass
class _State:
    content: str | None
    origin: str | None  # the path the content came from on disk (differs after a move)


def patch_text_from_arguments(arguments: str) -> str:
    """The patch text in the JSON arguments of the ``apply_patch`` function tool (the one
    parser of those arguments; a ``PatchError`` says how to fix them)."""
    try:
        data = json.loads(arguments)
    except (TypeError, json.JSONDecodeError) as exc:
        raise PatchError(
            f'the arguments are not valid JSON ({exc}); send {{"input": "<the patch>"}}'
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("input"), str):
        raise PatchError('the arguments must be {"input": "<the patch text>"}')
    return str(data["input"])


def parse_function_arguments(arguments: str) -> Patch:
    """The ``Patch`` in the JSON arguments of the ``apply_patch`` function tool."""
    return parse_patch(patch_text_from_arguments(arguments))


class PreparedPatch:
    """A patch checked against the files on disk, ready to show and apply."""

    def __init__(self, root: Path, patch: Patch, changes: list[FileChangeView],
                 fingerprints: dict[str, str | None],
                 config_targets: dict[str, Path] | None = None):  # fmt: skip
        self.root = root
        self.patch = patch
        self.changes = changes
        self._fingerprints = fingerprints
        self._config_targets = config_targets or {}

    @property
    def config_files(self) -> list[str]:
        """The patch's paths that lead into ``.codeagent/`` (the repository's codeagent
        configuration): writing them always needs a person's approval."""
        return sorted(self._config_targets)

    @property
    def files(self) -> list[str]:
        """The files this patch changes (new path for moves, old path for deletions)."""
        return [change.key for change in self.changes]

    def title(self) -> str:
        """A one-line summary for a tool call row, e.g. ``Edit src/app.py``."""
        if len(self.changes) == 1:
            return f"Edit {self.changes[0].key}"
        return f"Edit {len(self.changes)} files" if self.changes else self.patch.title()

    def hunk_counts(self) -> dict[str, int]:
        """Hunks per file, numbered from 0 in the order of ``unified_diff``."""
        return {change.key: change.hunk_count() for change in self.changes}

    def unified_diff(self, selected_hunks: Mapping[str, Collection[int]] | None = None) -> str:
        """The git-style unified diff of every file, or of only the selected hunks.

        ``selected_hunks`` maps a file (as in ``files``) to 0-based hunk numbers; a file with
        hunks that is missing from it is left out; a file without hunks is always included."""
        parts = []
        for change in self.changes:
            new_text = self._selected_text(change, selected_hunks)
            if new_text is None:
                continue
            parts.append(file_diff(change.old_path, change.new_path, change.old_text, new_text))
        return "".join(parts)

    def _selected_text(
        self, change: FileChangeView, selected_hunks: Mapping[str, Collection[int]] | None
    ) -> str | None:
        """The new text of ``change`` under a selection, or None when it is left out entirely."""
        count = change.hunk_count()
        if selected_hunks is None or count == 0:
            # A change without hunks (empty file, pure rename) offers nothing to deselect.
            return change.new_text
        chosen = selected_hunks.get(change.key)
        if not chosen:
            return None
        if change.kind in ("add", "delete"):
            # Creating or deleting a file is one unit: all of it or nothing.
            return change.new_text if 0 in chosen else None
        return merge_selected(change.old_text, change.new_text, chosen)

    def apply(self, selected_hunks: Mapping[str, Collection[int]] | None = None) -> list[str]:
        """Write the patch (or the selected hunks) all-or-nothing; returns the changed paths.

        Raises ``PatchError`` when a file changed since the patch was prepared or the disk
        refuses a write; nothing is written in either case.
        """
        for path, fingerprint in self._fingerprints.items():
            if _fingerprint(self.root, path) != fingerprint:
                raise PatchError(
                    f"{path} changed on disk after the patch was prepared; read it again and "
                    "resend the patch",
                    path=path,
                )
        writes: dict[str, str] = {}
        deletes: list[str] = []
        mode_from: dict[str, str] = {}  # a moved file keeps its source's permissions
        for change in self.changes:
            text = self._selected_text(change, selected_hunks)
            if text is None:
                continue
            if change.kind == "delete":
                deletes.append(change.key)  # a deletion's key is its old path
                continue
            if change.kind == "move" and change.old_path is not None:  # a move has both paths
                deletes.append(change.old_path)
                mode_from[change.key] = change.old_path
            elif change.kind == "update" and text == change.old_text:
                continue
            writes[change.key] = text  # the new path of every kind but a deletion
        file_changes = [
            FileChange(path, text, mode_from.get(path)) for path, text in writes.items()
        ]
        file_changes += [FileChange(path, None) for path in deletes if path not in writes]
        if not file_changes:
            return []
        try:
            return apply_changes(
                self.root, file_changes, config_allowed=set(self._config_targets.values())
            )
        except PathEscapeError as exc:  # a link changed since the patch was prepared
            raise PatchPathError(exc.path, exc.reason, str(exc)) from None
        except ChangeError as exc:
            raise PatchError(str(exc)) from exc

    def summary(self, changed: list[str] | None = None) -> str:
        """What the patch did, one line per file, for the tool output sent to the model."""
        lines = []
        done = set(changed) if changed is not None else None
        for change in self.changes:
            paths = {change.old_path, change.new_path} - {None}
            if done is not None and not paths & done:
                continue
            if change.kind == "add":
                lines.append(f"Added {change.new_path}")
            elif change.kind == "delete":
                lines.append(f"Deleted {change.old_path}")
            elif change.kind == "move":
                lines.append(f"Moved {change.old_path} to {change.new_path}")
            else:
                lines.append(f"Updated {change.new_path}")
        return "\n".join(lines) if lines else "No changes were applied."


def _fingerprint(root: Path, path: str) -> str | None:
    target = resolve_inside(root, path)
    if not target.is_file():
        return None
    return hashlib.sha256(target.read_bytes()).hexdigest()


def _checked_path(
    root: Path, path: str, config: dict[str, Path], *, write: bool = True, delete: bool = False
) -> str:
    """``path`` cleaned, after checking where a write through it (following a final symlink)
    and a deletion of it (the link itself) would really land; records ``.codeagent/`` targets
    in ``config``."""
    try:
        clean = normalize_relative(path)
        resolve_inside(root, clean)
        real_root = Path(os.path.realpath(root))
        for follow in (True,) * write + (False,) * delete:
            target = resolve_for_write(real_root, clean, follow_last=follow)
            if is_repository_config(real_root, target):
                config[clean] = target
    except PathEscapeError as exc:
        raise PatchPathError(path, exc.reason, str(exc)) from None
    return clean


def prepare_patch(patch: Patch, root: Path) -> PreparedPatch:
    """Work out every file's new content; raises ``PatchError`` (``PatchPathError`` for a path
    outside the repository) without writing anything when the patch does not apply."""
    try:
        return _prepare(patch, Path(root))
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        raise PatchError(f"could not read{name}: {exc.strerror or exc}") from exc


def _prepare(patch: Patch, root: Path) -> PreparedPatch:
    disk: dict[str, str | None] = {}
    state: dict[str, _State] = {}
    config: dict[str, Path] = {}

    def load(path: str, *, need_text: bool) -> _State:
        if path not in state:
            target = resolve_inside(root, path)
            if target.is_dir():
                raise PatchError(f"{path} is a directory, not a file", path=path)
            text: str | None = None
            if target.is_file():
                data = target.read_bytes()
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    if need_text:
                        raise PatchError(
                            f"{path} is not UTF-8 text; apply_patch only edits text files",
                            path=path,
                        ) from None
                    text = data.decode("utf-8", errors="replace")
            disk[path] = text
            state[path] = _State(text, path if text is not None else None)
        return state[path]

    for op in patch.ops:
        moving = op.kind == "update" and op.move_to is not None
        path = _checked_path(
            root, op.path, config, write=op.kind != "delete", delete=op.kind == "delete" or moving
        )
        if op.kind == "add":
            if load(path, need_text=False).content is not None:
                raise PatchError(
                    f"cannot add {path}: it already exists; use '*** Update File: {path}' "
                    "(or update_file) to change it",
                    path=path,
                )
            state[path] = _State(op.content, state[path].origin)
            continue
        current = load(path, need_text=op.kind == "update")
        if current.content is None:
            verb = "update" if op.kind == "update" else "delete"
            raise PatchError(f"cannot {verb} {path}: the file does not exist", path=path)
        if op.kind == "delete":
            state[path] = _State(None, None)
            continue
        new_text = apply_chunks(current.content, op.chunks, path) if op.chunks else current.content
        if op.move_to is None:
            state[path] = _State(new_text, current.origin)
            continue
        destination = _checked_path(root, op.move_to, config)
        if destination != path and load(destination, need_text=False).content is not None:
            raise PatchError(
                f"cannot move {path} to {destination}: {destination} already exists", path=path
            )
        state[path] = _State(None, None)
        state[destination] = _State(new_text, current.origin)

    changes = _collect_changes(disk, state)
    fingerprints = {path: _fingerprint(root, path) for path in disk}
    return PreparedPatch(root, patch, changes, fingerprints, config)


def _collect_changes(disk: dict[str, str | None], state: dict[str, _State]) -> list[FileChangeView]:
    moved_from = {
        s.origin for p, s in state.items() if s.content is not None and s.origin not in (None, p)
    }
    changes: list[FileChangeView] = []
    for path, current in state.items():
        before = disk[path]
        if current.content is not None:
            if current.origin is not None and current.origin != path:
                origin_text = disk[current.origin] or ""
                changes.append(
                    FileChangeView("move", current.origin, path, origin_text, current.content)
                )
            elif before is None:
                changes.append(FileChangeView("add", None, path, "", current.content))
            elif before != current.content:
                changes.append(FileChangeView("update", path, path, before, current.content))
        elif before is not None and path not in moved_from:
            changes.append(FileChangeView("delete", path, None, before, ""))
    return changes


__all__ = [
    "APPLY_PATCH_FUNCTION_TOOL",
    "APPLY_PATCH_TOOL",
    "Chunk",
    "FileChangeView",
    "FileOp",
    "Patch",
    "PatchError",
    "PatchPathError",
    "PreparedPatch",
    "parse_function_arguments",
    "parse_patch",
    "parse_update_body",
    "patch_from_operation",
    "patch_text_from_arguments",
    "prepare_patch",
]
