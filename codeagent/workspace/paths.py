"""Turn a path the model wrote into a path inside the repository, or refuse it.

Every tool that touches files goes through this module so that a patch can never reach outside
the repository (not with ``..``, not with an absolute path, not through a symlink that points
elsewhere) and never writes where git or codeagent would later act on what it finds: ``.git``
(hooks, ``core.fsmonitor`` run programs) and codeagent's own configuration and state.

``resolve_for_write`` walks the path one component at a time at the moment of writing, with
``lstat`` and an explicit ``readlink`` for every symlink -- also links a command created earlier
in the session -- so what is checked is the file that will really be written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from codeagent.workspace.protected import protected_reason

#: Symlink hops allowed while resolving one path (Linux's own limit is 40).
_MAX_LINKS = 40


class PathEscapeError(ValueError):
    """A path would lead outside the repository. The message names the path and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"refused path {path!r}: {reason}; use a path relative to the repository")
        self.path = path
        self.reason = reason


class ProtectedPathError(PathEscapeError):
    """A path whose real target is somewhere codeagent never writes (``.git``, its own state).

    A ``PathEscapeError`` so that every caller that refuses escapes refuses these too."""

    def __init__(self, path: str, reason: str):
        ValueError.__init__(self, f"refused path {path!r}: {reason}")
        self.path = path
        self.reason = reason


def normalize_relative(rel: str) -> str:
    """``rel`` as a clean relative POSIX path (``./a//b`` -> ``a/b``), or ``PathEscapeError``.

    ``..`` is refused outright even where it would stay inside: a model that writes it is
    confused about where it is, and refusing is simpler to reason about than resolving.
    """
    text = rel.strip()
    if not text:
        raise PathEscapeError(rel, "the path is empty")
    if "\x00" in text:
        raise PathEscapeError(rel, "the path contains a NUL byte")
    text = text.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise PathEscapeError(rel, "absolute paths are not allowed")
    if text.startswith("~"):
        raise PathEscapeError(rel, "paths starting with ~ are not allowed")
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise PathEscapeError(rel, "'..' is not allowed")
    if not parts:
        raise PathEscapeError(rel, "the path names the repository itself, not a file")
    return "/".join(parts)


def resolve_inside(root: Path, rel: str) -> Path:
    """The absolute path of ``rel`` under ``root``; raises ``PathEscapeError`` if it leaves it.

    The returned path is lexical (symlinks inside it are not replaced); the fully resolved path,
    following every existing symlink, must still be inside the resolved root. For reading; a
    write goes through ``resolve_for_write``.
    """
    clean = normalize_relative(rel)
    real_root = Path(os.path.realpath(root))
    candidate = real_root / clean
    resolved = Path(os.path.realpath(candidate))
    if resolved != real_root and real_root not in resolved.parents:
        raise PathEscapeError(rel, f"it resolves to {resolved}, outside the repository")
    return candidate


def real_path(root: Path, rel: str, *, follow_last: bool) -> tuple[Path, list[str]]:
    """Where ``rel`` under ``root`` really is, and the symlinks followed to get there.

    Every existing component is ``lstat``-ed; a symlink is read and its target walked in turn
    (the last component only when ``follow_last``: a write goes through a link to its file, a
    deletion removes the link itself). Missing components are taken literally.
    """
    clean = normalize_relative(rel)
    real_root = Path(os.path.realpath(root))
    current = real_root
    pending = list(PurePosixPath(clean).parts)
    followed: list[str] = []
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = current.parent  # ``current`` has no symlinks left, so this is exact
            continue
        candidate = current / name
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:  # missing (or under a non-directory): the rest is literal
            current = candidate
            continue
        if stat.S_ISLNK(mode) and (pending or follow_last):
            if len(followed) >= _MAX_LINKS:
                raise PathEscapeError(rel, "it goes through too many symbolic links")
            link = os.readlink(candidate)
            followed.append(f"{_show(candidate, real_root)} -> {link}")
            target = PurePosixPath(link)
            if target.is_absolute():
                current = Path("/")
            pending = [p for p in target.parts if p != "/"] + pending
            continue
        current = candidate
    return current, followed


def resolve_for_write(root: Path, rel: str, *, follow_last: bool = True) -> Path:
    """The real path a write (``follow_last``) or deletion of ``rel`` would touch, checked now.

    Raises ``ProtectedPathError`` when it lies in a git directory or in codeagent's own
    configuration or state, ``PathEscapeError`` when it lies outside the repository; the message
    names the path, where it really leads and why that is refused.
    """
    real_root = Path(os.path.realpath(root))
    target, followed = real_path(real_root, rel, follow_last=follow_last)
    via = f" (through {', '.join(followed)})" if followed else ""
    reason = protected_reason(real_root, target)
    if reason:
        raise ProtectedPathError(rel, f"{reason}{via}; codeagent never writes there")
    if target == real_root or real_root not in target.parents:
        raise PathEscapeError(rel, f"it resolves to {target}, outside the repository{via}")
    return target


def _show(path: Path, real_root: Path) -> str:
    try:
        return str(path.relative_to(real_root))
    except ValueError:
        return str(path)


__all__ = [
    "PathEscapeError",
    "ProtectedPathError",
    "normalize_relative",
    "real_path",
    "resolve_for_write",
    "resolve_inside",
]
