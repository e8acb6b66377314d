"""The places codeagent never writes into, and the repository's own codeagent configuration.

Git runs what it finds in a git directory (hooks, ``core.fsmonitor``, filter drivers), both in
codeagent's own git calls and in the user's next ``git status``; codeagent's configuration and
state decide what the next session may do. A write whose real target lies in any of them is
refused whatever the approval policy. Every check here works on real (symlink-free) paths: see
``paths.resolve_for_write``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from codeagent import APP_NAME

#: The repository's codeagent directory: writes there always need a person's approval.
REPO_CONFIG_DIR = ".codeagent"


def codeagent_dirs() -> list[Path]:
    """codeagent's own configuration and state directories (real paths), wherever they are.

    The same environment overrides as ``config.user_config_path`` and
    ``sessions.default_state_dir`` (this layer may not import them), plus the platform defaults.
    """
    found = [
        os.environ.get("CODEAGENT_CONFIG_DIR"),
        os.environ.get("CODEAGENT_STATE_DIR"),
        platformdirs.user_config_dir(APP_NAME),
        platformdirs.user_state_dir(APP_NAME),
        platformdirs.user_data_dir(APP_NAME),
        platformdirs.user_cache_dir(APP_NAME),
        os.path.expanduser(f"~/.config/{APP_NAME}"),
        os.path.expanduser(f"~/.local/state/{APP_NAME}"),
    ]
    dirs: list[Path] = []
    for entry in found:
        if entry:
            real = Path(os.path.realpath(entry))
            if real not in dirs:
                dirs.append(real)
    return dirs


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _gitdir_of_file(dot_git: Path) -> list[Path]:
    """The git directory (and its common directory) a ``.git`` *file* points at, as worktrees,
    submodules and ``--separate-git-dir`` checkouts have."""
    try:
        first = dot_git.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return []
    if not first.startswith("gitdir:"):
        return []
    gitdir = Path(os.path.realpath(dot_git.parent / first[len("gitdir:") :].strip()))
    dirs = [gitdir]
    try:
        common = (gitdir / "commondir").read_text(encoding="utf-8").strip()
        dirs.append(Path(os.path.realpath(gitdir / common)))
    except OSError:
        pass
    return dirs


def _looks_like_git_dir(folder: Path) -> bool:
    """Git's own test for a git directory: ``HEAD``, ``objects/`` and ``refs/``."""
    return (
        (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir()
    )


def git_dirs(real_root: Path, target: Path) -> list[Path]:
    """Every git directory that could contain ``target``: the repository's, ``$GIT_DIR`` and
    ``$GIT_COMMON_DIR``, and the one each ``.git`` file on the way to ``target`` points at."""
    dirs = [real_root / ".git"]
    for name in ("GIT_DIR", "GIT_COMMON_DIR"):
        value = os.environ.get(name)
        if value:
            dirs.append(Path(os.path.realpath(value)))
    folders = [real_root]
    if real_root in target.parents:
        folders += [p for p in target.parents if real_root in p.parents]
    for folder in folders:
        dot_git = folder / ".git"
        if dot_git.is_file():
            dirs += _gitdir_of_file(dot_git)
    return dirs


def protected_reason(real_root: Path, target: Path) -> str | None:
    """Why codeagent must not write ``target`` (a real path), or None when it may."""
    inside = real_root in target.parents
    if inside:
        parts = target.relative_to(real_root).parts
        for index, part in enumerate(parts):
            if part.lower() == ".git":
                where = "/".join(parts[: index + 1])
                return f"it is inside the git directory {where}, where git runs what it finds"
        for folder in target.parents:
            if folder == real_root:
                break
            if _looks_like_git_dir(folder):
                inner = folder.relative_to(real_root)
                return f"it is inside {inner}, a git directory, where git runs what it finds"
    for gitdir in git_dirs(real_root, target):
        if _within(target, gitdir):
            return f"it is inside the git directory {gitdir}, where git runs what it finds"
    for folder in codeagent_dirs():
        if _within(target, folder):
            return f"it is inside {folder}, codeagent's own configuration and state"
    return None


def is_repository_config(real_root: Path, target: Path) -> bool:
    """Whether ``target`` (a real path) is in the repository's ``.codeagent/`` directory."""
    if real_root not in target.parents:
        return False
    return target.relative_to(real_root).parts[0].lower() == REPO_CONFIG_DIR


__all__ = [
    "REPO_CONFIG_DIR",
    "codeagent_dirs",
    "git_dirs",
    "is_repository_config",
    "protected_reason",
]
