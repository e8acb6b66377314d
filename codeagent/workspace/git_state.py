"""Detect git operations in progress (merge, rebase, cherry-pick, revert): writes are unsafe."""

from __future__ import annotations

from pathlib import Path

from codeagent.workspace.git_errors import RepositoryBusy

# (marker inside the git dir, operation name, how the user finishes or abandons it)
_MARKERS: tuple[tuple[str, str, str], ...] = (
    ("rebase-merge", "a rebase", "git rebase --continue` or `git rebase --abort"),
    ("rebase-apply/rebasing", "a rebase", "git rebase --continue` or `git rebase --abort"),
    ("rebase-apply/applying", "a `git am`", "git am --continue` or `git am --abort"),
    ("rebase-apply", "a rebase or `git am`", "git rebase --abort` or `git am --abort"),
    ("MERGE_HEAD", "a merge", "git commit` to conclude it or `git merge --abort"),
    (
        "CHERRY_PICK_HEAD",
        "a cherry-pick",
        "git cherry-pick --continue` or `git cherry-pick --abort",
    ),
    ("REVERT_HEAD", "a revert", "git revert --continue` or `git revert --abort"),
)


def operation_in_progress(git_dir: Path) -> tuple[str, str] | None:
    """Return (operation, how to finish it) if one is in progress in ``git_dir``, else None."""
    for marker, operation, advice in _MARKERS:
        if (git_dir / marker).exists():
            return operation, advice
    return None


def check_not_busy(git_dir: Path, root: Path) -> None:
    """Raise ``RepositoryBusy`` with a clear, actionable message when git is mid-operation."""
    found = operation_in_progress(git_dir)
    if found is None:
        return
    operation, advice = found
    raise RepositoryBusy(
        f"The repository at {root} is in the middle of {operation}. codeagent will not change "
        f"files now, because that could mix its edits into the unfinished operation. Finish it "
        f"with `{advice}`, then try again."
    )
