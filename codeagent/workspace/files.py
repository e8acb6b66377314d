"""Write a set of file changes to the repository all at once, or not at all.

New contents are first written to temporary files next to their targets; only when every one of
them is on disk are the targets swapped in by ``os.replace``. The old files are kept as backups
until the end, so a failure half way through the swap puts every file back as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from codeagent.workspace.paths import resolve_inside


class ChangeError(OSError):
    """A change set could not be written; no file was changed. The message says which and why."""


@dataclass(frozen=True)
class FileChange:
    """One file's new state: ``content`` is the new text (or bytes), ``None`` deletes the file."""

    path: str
    content: str | bytes | None


@dataclass
class _Staged:
    change: FileChange
    target: Path
    temp: Path | None = None
    backup: Path | None = None
    swapped: bool = False


def _sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.codeagent-{tag}-{secrets.token_hex(4)}")


def _missing_dirs(directory: Path) -> list[Path]:
    """The ancestors of ``directory`` (itself included) that do not exist, outermost first."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    return list(reversed(missing))


def _target(root: Path, change: FileChange) -> Path:
    """Where ``change`` lands: writes through a symlink go to the file it points at (checked to
    be inside the repository), as editors do; a deletion removes the link itself."""
    target = resolve_inside(root, change.path)
    if change.content is not None and target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def apply_changes(root: Path, changes: list[FileChange]) -> list[str]:
    """Apply ``changes`` under ``root`` all-or-nothing; returns the changed relative paths.

    Raises ``PathEscapeError`` (nothing written) for a path outside ``root`` and ``ChangeError``
    when the file system refuses a write; in both cases every file is left as it was.
    """
    staged = [_Staged(c, _target(root, c)) for c in changes]
    seen: set[Path] = set()
    for item in staged:
        if item.target in seen:
            raise ChangeError(f"{item.change.path} appears twice in one change set")
        seen.add(item.target)
        if (
            item.change.content is None
            and not item.target.is_file()
            and not item.target.is_symlink()
        ):
            raise ChangeError(f"cannot delete {item.change.path}: it is not a file")
    created_dirs: list[Path] = []
    try:
        _write_temps(staged, created_dirs)
        _swap_in(staged)
    except OSError as exc:
        _roll_back(staged, created_dirs)
        name = getattr(exc, "filename", None) or ""
        where = f" ({name})" if name else ""
        raise ChangeError(
            f"could not write the changes: {exc.strerror or exc}{where}; no file was changed"
        ) from exc
    except BaseException:
        _roll_back(staged, created_dirs)
        raise
    for item in staged:
        if item.backup is not None:
            with contextlib.suppress(OSError):
                item.backup.unlink()
    return [item.change.path for item in staged]


def _write_temps(staged: list[_Staged], created_dirs: list[Path]) -> None:
    for item in staged:
        content = item.change.content
        if content is None:
            continue
        parent = item.target.parent
        missing = _missing_dirs(parent)
        for directory in missing:
            directory.mkdir()
            created_dirs.append(directory)
        data = content.encode("utf-8") if isinstance(content, str) else content
        item.temp = _sibling(item.target, "new")
        with open(item.temp, "xb") as handle:
            handle.write(data)
        # Keep the executable bit and other permissions of the file being replaced.
        if item.target.is_file() and not item.target.is_symlink():
            os.chmod(item.temp, stat.S_IMODE(item.target.stat().st_mode))


def _swap_in(staged: list[_Staged]) -> None:
    for item in staged:
        if item.target.exists() or item.target.is_symlink():
            if item.target.is_dir() and not item.target.is_symlink():
                raise IsADirectoryError(21, "is a directory", item.change.path)
            item.backup = _sibling(item.target, "old")
            os.replace(item.target, item.backup)
        item.swapped = True
        if item.temp is not None:
            os.replace(item.temp, item.target)
            item.temp = None


def _roll_back(staged: list[_Staged], created_dirs: list[Path]) -> None:
    """Undo whatever part of the swap happened; best effort, never raises."""
    for item in reversed(staged):
        with contextlib.suppress(OSError):
            if item.swapped and item.change.content is not None and item.temp is None:
                item.target.unlink()
        with contextlib.suppress(OSError):
            if item.backup is not None:
                os.replace(item.backup, item.target)
                item.backup = None
        with contextlib.suppress(OSError):
            if item.temp is not None:
                item.temp.unlink()
                item.temp = None
    for directory in reversed(created_dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()


__all__ = ["ChangeError", "FileChange", "apply_changes"]
