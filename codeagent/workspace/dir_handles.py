"""File operations by directory handle, so a symlink swapped in after a path was checked cannot
redirect a write.

``paths.resolve_for_write`` decides where a write really lands; ``DirHandles`` then opens every
directory on the way from the repository root with ``O_NOFOLLOW`` and does each create, rename,
link and unlink relative to the opened parent. If a directory became a symlink in between, the
open fails (``ELOOP``/``ENOTDIR``) instead of following it into ``.git`` or out of the tree.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class DirHandles:
    """Open directories under ``real_root`` (a real path), cached; close with ``close``."""

    def __init__(self, real_root: Path):
        self.real_root = real_root
        self._fds: dict[Path, int] = {}

    def fd(self, folder: Path) -> int:
        """A handle on ``folder`` (inside or equal to the root), opened without following links."""
        if folder in self._fds:
            return self._fds[folder]
        if folder == self.real_root:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        elif self.real_root in folder.parents:
            fd = os.open(folder.name, _DIR_FLAGS, dir_fd=self.fd(folder.parent))
        else:
            raise NotADirectoryError(20, "outside the repository", str(folder))
        self._fds[folder] = fd
        return fd

    def mkdir(self, folder: Path) -> None:
        os.mkdir(folder.name, dir_fd=self.fd(folder.parent))

    def rmdir(self, folder: Path) -> None:
        os.rmdir(folder.name, dir_fd=self.fd(folder.parent))
        with contextlib.suppress(KeyError, OSError):
            os.close(self._fds.pop(folder))

    def create(self, path: Path, mode: int) -> int:
        """A new file at ``path`` (``O_EXCL``, never through a link), open for writing."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        return os.open(path.name, flags, mode, dir_fd=self.fd(path.parent))

    def exists(self, path: Path) -> bool:
        try:
            os.stat(path.name, dir_fd=self.fd(path.parent), follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def is_dir(self, path: Path) -> bool:
        try:
            info = os.stat(path.name, dir_fd=self.fd(path.parent), follow_symlinks=False)
        except FileNotFoundError:
            return False
        return stat.S_ISDIR(info.st_mode)

    def replace(self, source: Path, target: Path) -> None:
        os.replace(
            source.name, target.name,
            src_dir_fd=self.fd(source.parent), dst_dir_fd=self.fd(target.parent),
        )  # fmt: skip

    def link(self, source: Path, target: Path) -> None:
        os.link(
            source.name, target.name, follow_symlinks=False,
            src_dir_fd=self.fd(source.parent), dst_dir_fd=self.fd(target.parent),
        )  # fmt: skip

    def unlink(self, path: Path, *, missing_ok: bool = True) -> None:
        try:
            os.unlink(path.name, dir_fd=self.fd(path.parent))
        except FileNotFoundError:
            if not missing_ok:
                raise

    def sync(self, folder: Path) -> None:
        """Make the names in ``folder`` durable (best effort: some file systems refuse)."""
        with contextlib.suppress(OSError):
            os.fsync(self.fd(folder))

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()


__all__ = ["DirHandles"]
