"""The write-ahead journal that makes a multi-file apply survive a crash (SIGKILL, power loss).

Before ``files.apply_changes`` touches the tree it writes and fsyncs a journal, outside the work
tree in codeagent's state directory, naming every target, the temporary file holding its staged
new content and the backup its old content moves to. When every temporary file is on disk it
appends a commit mark: from then on the change is finished forward, never half undone. After the
swap the journal is removed. On the next start ``recover`` finds a journal left behind by a dead
process and puts the tree back to all-old (not committed) or all-new (committed), removing every
temporary file; it says in a sentence what it did.

A journal is locked (``flock``) by the process applying it, so a second session in the same
repository never "recovers" a change that is still being written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from codeagent import APP_NAME
from codeagent.workspace.dir_handles import DirHandles

#: Crash injection for tests: the Nth step of applying (counted across the process) kills it.
CRASH_ENV = "CODEAGENT_TEST_CRASH_AT_STEP"
_steps = 0


def crash_point() -> None:
    """One step of an apply; with ``CODEAGENT_TEST_CRASH_AT_STEP=N`` the Nth step SIGKILLs the
    process (the crash tests hit every step deterministically this way)."""
    global _steps
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    _steps += 1
    if _steps == int(wanted):
        os.kill(os.getpid(), signal.SIGKILL)


def journal_dir() -> Path:
    """Where journals live: ``journals/`` in codeagent's state directory."""
    import platformdirs

    override = os.environ.get("CODEAGENT_STATE_DIR")
    base = Path(override) if override else Path(platformdirs.user_state_dir(APP_NAME))
    return base / "journals"


def _prefix(real_root: Path) -> str:
    return hashlib.sha256(str(real_root).encode()).hexdigest()[:16]


def fsync_dir(folder: Path) -> None:
    """Make the names in ``folder`` durable (renames, creations, removals)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Entry:
    """One file of a change set: its real ``target``; ``temp`` holds the staged new content
    (None for a deletion); ``backup`` is where the old file goes (None: there was none)."""

    target: str
    temp: str | None
    backup: str | None


class Journal:
    """An open, locked journal for one apply (see the module docstring)."""

    def __init__(self, path: Path, fd: int, real_root: Path, entries: list[Entry]):
        self.path = path
        self._fd = fd
        self.real_root = real_root
        self.entries = entries
        self.id = path.stem.rsplit("-", 1)[-1]

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(4)

    @classmethod
    def begin(
        cls, real_root: Path, journal_id: str, entries: list[Entry], dirs: list[Path]
    ) -> Journal:
        """Write the plan durably (before anything in the tree changes) and hold its lock."""
        folder = journal_dir()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{_prefix(real_root)}-{journal_id}"
        part = folder / f"{name}.part"
        fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            plan = {
                "version": 1,
                "root": str(real_root),
                "entries": [e.__dict__ for e in entries],
                "dirs": [str(d) for d in dirs],
            }
            os.write(fd, (json.dumps(plan) + "\n").encode())
            os.fsync(fd)
            path = folder / f"{name}.json"
            os.replace(part, path)  # the lock stays with the file: same inode
            fsync_dir(folder)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        return cls(path, fd, real_root, entries)

    def _mark(self, mark: str) -> None:
        os.write(self._fd, (json.dumps({mark: True}) + "\n").encode())
        os.fsync(self._fd)

    def commit(self) -> None:
        """Every staged file is on disk: from here on the change is finished forward."""
        self._mark("commit")

    def abort(self) -> None:
        """The swap failed in this process: the change is being rolled back instead."""
        self._mark("abort")

    def close(self) -> None:
        """The tree is consistent again: remove the journal and release its lock."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        fsync_dir(self.path.parent)
        os.close(self._fd)


def finish_forward(entries: list[Entry], handles: DirHandles) -> list[str]:
    """Complete a committed change from any point of its swap; returns targets that failed."""
    failed = []
    for entry in entries:
        target = Path(entry.target)
        temp = Path(entry.temp) if entry.temp else None
        backup = Path(entry.backup) if entry.backup else None
        try:
            if temp is not None:
                if handles.exists(temp):
                    handles.replace(temp, target)
            elif backup is not None and not handles.exists(backup):
                handles.unlink(target)  # a deletion not swapped yet: the old file is still there
            if backup is not None:
                handles.unlink(backup)
        except OSError:
            failed.append(entry.target)
    return failed


def roll_back(
    entries: list[Entry], dirs: list[Path], handles: DirHandles, *, swapped: bool
) -> list[str]:
    """Put every target back as it was; ``swapped`` when the swap may have begun (else only the
    staged files exist). Returns the targets that could not be restored."""
    failed = []
    for entry in reversed(entries):
        target = Path(entry.target)
        temp = Path(entry.temp) if entry.temp else None
        backup = Path(entry.backup) if entry.backup else None
        try:
            if swapped and backup is not None and handles.exists(backup):
                handles.replace(backup, target)
            elif swapped and backup is None and temp is not None and not handles.exists(temp):
                handles.unlink(target)  # a new file whose staged copy already moved into place
            if temp is not None:
                handles.unlink(temp)
        except FileNotFoundError:
            pass  # its directory is gone: nothing of this entry is left to undo
        except OSError:
            failed.append(entry.target)
    for folder in reversed(dirs):
        with contextlib.suppress(OSError):
            handles.rmdir(folder)
    return failed


def _names(real_root: Path, targets: list[str]) -> str:
    shown = []
    for target in targets[:5]:
        try:
            shown.append(str(Path(target).relative_to(real_root)))
        except ValueError:
            shown.append(target)
    more = len(targets) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _recover_one(real_root: Path, path: Path, fd: int) -> str | None:
    with os.fdopen(os.dup(fd), "r", encoding="utf-8") as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
    plan = json.loads(lines[0])  # durable before the journal got its name: never torn
    marks: set[str] = set()
    for line in lines[1:]:
        with contextlib.suppress(ValueError):  # a mark cut short by the crash was not made
            marks.update(json.loads(line))
    if plan.get("root") != str(real_root):
        return None  # another repository's journal with the same prefix: not ours to touch
    entries = [Entry(**e) for e in plan["entries"]]
    dirs = [Path(d) for d in plan["dirs"]]
    count = len(entries)
    names = _names(real_root, [e.target for e in entries])
    files = f"{count} file{'s' if count != 1 else ''}"
    handles = DirHandles(real_root)
    try:
        if "commit" in marks and "abort" not in marks:
            failed = finish_forward(entries, handles)
            done = f"finished writing it, so all {files} have their new content ({names})"
        else:
            failed = roll_back(entries, dirs, handles, swapped="commit" in marks)
            done = f"undid it, so all {files} are as they were before ({names})"
    finally:
        handles.close()
    if failed:
        return (
            f"A patch interrupted by a crash could not be fully recovered: "
            f"{_names(real_root, failed)} could not be restored; the journal {path} is kept."
        )
    path.unlink()
    fsync_dir(path.parent)
    return f"A patch was interrupted by a crash; codeagent {done}."


def recover(root: Path) -> list[str]:
    """Finish or undo every change to ``root`` a dead process left half applied.

    Returns one sentence per recovered change (nothing when there was none). Journals still
    locked by a live process are left alone.
    """
    real_root = Path(os.path.realpath(root))
    folder = journal_dir()
    if not folder.is_dir():
        return []
    messages = []
    prefix = _prefix(real_root)
    for path in sorted(folder.glob(f"{prefix}-*")):
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live apply in another session
            if path.suffix == ".part":  # died before its plan was durable: nothing was touched
                path.unlink()
                continue
            try:
                message = _recover_one(real_root, path, fd)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                message = f"A patch journal ({path}) cannot be read ({exc}); it was left in place."
            except OSError as exc:
                message = f"A patch interrupted by a crash could not be recovered: {exc}."
            if message:
                messages.append(message)
        except OSError:
            continue
        finally:
            os.close(fd)
    return messages


__all__ = [
    "CRASH_ENV",
    "Entry",
    "Journal",
    "crash_point",
    "finish_forward",
    "fsync_dir",
    "journal_dir",
    "recover",
    "roll_back",
]
