"""Turn a path the model wrote into a path inside the repository, or refuse it.

Every tool that touches files goes through ``resolve_inside`` so that a patch or an edit can never
reach outside the repository: not with ``..``, not with an absolute path, not through a symlink
that points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


class PathEscapeError(ValueError):
    """A path would lead outside the repository. The message names the path and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"refused path {path!r}: {reason}; use a path relative to the repository")
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

    The returned path is lexical (symlinks inside it are not replaced) so that writing replaces a
    link rather than its target; but the fully resolved path, following every existing symlink,
    must still be inside the resolved root.
    """
    clean = normalize_relative(rel)
    real_root = Path(os.path.realpath(root))
    candidate = real_root / clean
    resolved = Path(os.path.realpath(candidate))
    if resolved != real_root and real_root not in resolved.parents:
        raise PathEscapeError(rel, f"it resolves to {resolved}, outside the repository")
    return candidate


__all__ = ["PathEscapeError", "normalize_relative", "resolve_inside"]
