"""Write a set of file changes to the repository all at once, or not at all -- even across a crash.

Every target is resolved at the moment of writing (``paths.resolve_for_write``: each component
``lstat``-ed, symlinks followed explicitly) and refused when it lands in a git directory,
codeagent's own state, or outside the repository. Then:

1. a journal naming every target, its staged file and its backup is written and fsynced
   (``journal.py``, outside the work tree);
2. the new contents are written to temporary files next to their targets and fsynced, with the
   mode of the file they replace (a move keeps the mode of its source);
3. the journal gets its commit mark; the targets are swapped in by ``os.replace`` (the old file
   kept as a hard-linked backup, so a target never disappears while it is replaced);
4. the backups and the journal are removed.

A failure in this process rolls everything back and raises; a crash is finished (after 3) or
undone (before 3) by ``journal.recover`` on the next start.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from codeagent.workspace.dir_handles import DirHandles
from codeagent.workspace.journal import Entry, Journal, crash_point, roll_back
from codeagent.workspace.paths import ProtectedPathError, resolve_for_write
from codeagent.workspace.protected import is_repository_config


class ChangeError(OSError):
    """A change set could not be written; no file was changed. The message says which and why."""


@dataclass(frozen=True)
class FileChange:
    """One file's new state: ``content`` is the new text (or bytes), ``None`` deletes the file.

    ``mode_from`` names another file whose permissions the new file takes (a move's source)."""

    path: str
    content: str | bytes | None
    mode_from: str | None = None


@dataclass
class _Planned:
    change: FileChange
    target: Path
    entry: Entry
    mode: int | None  # the permissions to give the new file (None: the umask's default)
    owner: tuple[int, int] | None


def _missing_dirs(directory: Path) -> list[Path]:
    """The ancestors of ``directory`` (itself included) that do not exist, outermost first."""
    missing: list[Path] = []
    current = directory
    while not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    return list(reversed(missing))


def _temp_name(target: Path, journal_id: str, index: int, tag: str) -> str:
    # Names are fixed before anything is created, so the journal can list them first.
    return str(target.with_name(f".{target.name[:80]}.codeagent-{journal_id}-{index}-{tag}"))


def _regular(path: Path) -> os.stat_result | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _plan(
    real_root: Path, changes: list[FileChange], journal_id: str, config_allowed: Collection[Path]
) -> list[_Planned]:
    planned: list[_Planned] = []
    seen: set[Path] = set()
    for index, change in enumerate(changes):
        target = resolve_for_write(real_root, change.path, follow_last=change.content is not None)
        if is_repository_config(real_root, target) and target not in config_allowed:
            raise ProtectedPathError(
                change.path,
                f"it leads to {target.relative_to(real_root)}, codeagent's configuration for "
                "this repository, which was not part of what was approved",
            )
        if target in seen:
            raise ChangeError(f"{change.path} appears twice in one change set")
        seen.add(target)
        exists = os.path.lexists(target)
        if change.content is None:
            if not exists or (os.path.isdir(target) and not os.path.islink(target)):
                raise ChangeError(f"cannot delete {change.path}: it is not a file")
            entry = Entry(str(target), None, _temp_name(target, journal_id, index, "old"))
            planned.append(_Planned(change, target, entry, None, None))
            continue
        source = _regular(target)
        if source is None and change.mode_from is not None:
            source = _regular(resolve_for_write(real_root, change.mode_from, follow_last=True))
        mode = stat.S_IMODE(source.st_mode) if source is not None else None
        owner = (source.st_uid, source.st_gid) if source is not None else None
        backup = _temp_name(target, journal_id, index, "old") if exists else None
        entry = Entry(str(target), _temp_name(target, journal_id, index, "new"), backup)
        planned.append(_Planned(change, target, entry, mode, owner))
    return planned


def apply_changes(
    root: Path, changes: list[FileChange], *, config_allowed: Collection[Path] = ()
) -> list[str]:
    """Apply ``changes`` under ``root`` all-or-nothing; returns the changed relative paths.

    Raises ``PathEscapeError`` (``ProtectedPathError`` for ``.git`` and codeagent's own state;
    a target in ``.codeagent/`` too unless its real path is in ``config_allowed``) before
    writing anything, and ``ChangeError`` when the file system refuses a write; in both cases
    every file is left as it was.
    """
    real_root = Path(os.path.realpath(root))
    journal_id = Journal.new_id()
    planned = _plan(real_root, changes, journal_id, config_allowed)
    dirs: list[Path] = []
    for item in planned:
        if item.change.content is not None:
            dirs += [d for d in _missing_dirs(item.target.parent) if d not in dirs]
    try:
        journal = Journal.begin(real_root, journal_id, [i.entry for i in planned], dirs)
    except OSError as exc:
        raise _change_error(exc, "could not write the patch journal") from exc
    crash_point()
    handles = DirHandles(real_root)
    try:
        _apply(planned, dirs, journal, handles)
    finally:
        handles.close()
    return [item.change.path for item in planned]


def _apply(
    planned: list[_Planned], dirs: list[Path], journal: Journal, handles: DirHandles
) -> None:
    entries = [item.entry for item in planned]
    try:
        _stage(planned, dirs, handles)
        journal.commit()
        crash_point()
    except BaseException as exc:
        roll_back(entries, dirs, handles, swapped=False)
        journal.close()
        if isinstance(exc, OSError):
            raise _change_error(exc) from exc
        raise
    try:
        _swap(planned, handles)
    except BaseException as exc:
        journal.abort()
        roll_back(entries, dirs, handles, swapped=True)
        journal.close()
        if isinstance(exc, OSError):
            raise _change_error(exc) from exc
        raise
    for item in planned:
        if item.entry.backup is not None:
            with contextlib.suppress(OSError):
                handles.unlink(Path(item.entry.backup))
            crash_point()
    journal.close()
    crash_point()


def _change_error(exc: OSError, what: str = "could not write the changes") -> ChangeError:
    name = getattr(exc, "filename", None) or ""
    where = f" ({name})" if name else ""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and what.startswith("could not write"):
        # A directory on the way became a link (or a file) after the paths were checked.
        return ChangeError(
            f"{what}: a directory on the way changed while writing{where}; no file was changed"
        )
    return ChangeError(f"{what}: {exc.strerror or exc}{where}; no file was changed")


def _stage(planned: list[_Planned], dirs: list[Path], handles: DirHandles) -> None:
    """Create the missing directories and every new file's staged copy, durably."""
    for folder in dirs:
        handles.mkdir(folder)
        crash_point()
    parents: set[Path] = set()
    for item in planned:
        content = item.change.content
        if content is None or item.entry.temp is None:
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        # A file replacing a 0600 one is never readable by others, not even while staged.
        create_mode = 0o600 if item.mode is not None else 0o666
        fd = handles.create(Path(item.entry.temp), create_mode)
        try:
            if item.owner is not None and item.owner != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.fchown(fd, *item.owner)
            if item.mode is not None:
                os.fchmod(fd, item.mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        parents.add(item.target.parent)
        crash_point()
    for folder in {d.parent for d in dirs} | parents:
        handles.sync(folder)


def _swap(planned: list[_Planned], handles: DirHandles) -> None:
    """Put every staged file in place and move every deleted one aside."""
    parents: set[Path] = set()
    for item in planned:
        target = item.target
        parents.add(target.parent)
        backup = Path(item.entry.backup) if item.entry.backup else None
        if item.entry.temp is None:  # a deletion: the file (or link) moves to its backup name
            handles.replace(target, backup)  # type: ignore[arg-type]
            crash_point()
            continue
        if handles.is_dir(target):
            raise IsADirectoryError(21, "is a directory", item.change.path)
        if backup is not None:
            try:
                handles.link(target, backup)
            except OSError as exc:  # no hard links here (or the file is gone): move it aside
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise
                handles.replace(target, backup)
            crash_point()
        handles.replace(Path(item.entry.temp), target)
        crash_point()
    for folder in parents:
        handles.sync(folder)


__all__ = ["ChangeError", "FileChange", "apply_changes"]
