"""The repository's file names, for ``@path`` completion in the prompt.

In a git repository: tracked files plus untracked files that are not ignored (what the user
thinks of as "the project"). Outside git (``--no-git`` runs in a plain folder): a walk of the
folder that skips hidden directories. Either way the list is capped so a huge tree cannot stall
the caller.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from codeagent.workspace.git_env import run_git
from codeagent.workspace.git_errors import WorkspaceError

#: more names than anyone completes against; keeps memory and ranking time bounded
MAX_FILES = 20_000
GIT_TIMEOUT = 10.0


def list_files(root: Path, limit: int = MAX_FILES) -> list[str]:
    """Up to ``limit`` file paths relative to ``root`` (POSIX separators), sorted."""
    root = Path(root)
    files = _git_files(root)
    if files is None:
        files = _walk(root, limit)
    return sorted(set(files))[:limit]


def _git_files(root: Path) -> list[str] | None:
    """``git ls-files`` of tracked and unignored untracked files; None when git cannot say."""
    try:
        # Hardened like every git call of codeagent's: the repository's config runs nothing
        # (fsmonitor, hooks) and git sees no secrets from the environment.
        result = run_git(
            root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            timeout=GIT_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError, WorkspaceError):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return [name for name in names if name]


def _walk(root: Path, limit: int) -> list[str]:
    """Files under ``root``, hidden directories skipped, stopping after ``limit``."""
    found: list[str] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        base = Path(directory).relative_to(root)
        for name in sorted(names):
            found.append((base / name).as_posix())
            if len(found) >= limit:
                return found
    return found
