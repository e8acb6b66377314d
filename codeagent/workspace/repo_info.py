"""Facts about the repository a UI shows without running git: the current branch."""

from __future__ import annotations

from pathlib import Path


def _git_dir(root: Path) -> Path | None:
    """``root/.git``, or the folder a worktree's ``.git`` file points at."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    return target if target.is_absolute() else (root / target).resolve()


def current_branch(root: Path) -> str | None:
    """The branch HEAD names (``main``), or None on a detached HEAD or outside a repository.

    Reads ``.git/HEAD`` (a few bytes) instead of starting git: status bars call it often.
    """
    git_dir = _git_dir(Path(root))
    if git_dir is None:
        return None
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head.removeprefix(prefix) if head.startswith(prefix) else None


__all__ = ["current_branch"]
