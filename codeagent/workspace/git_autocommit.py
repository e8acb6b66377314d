"""Optional auto-commit: commit exactly the files one turn changed, nothing else.

The commit is built on a temporary index seeded from HEAD, so the user's other uncommitted
changes (staged or not) stay where they are. Afterwards only the committed paths are updated in
the user's index, so they do not show up as staged reverts of the new commit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from codeagent.workspace.git_errors import GitCommandError
from codeagent.workspace.git_plumbing import Entry, GitPlumbing

TRAILER = "Co-authored-by: codeagent <codeagent@localhost>"
_SUBJECT_LIMIT = 72
_LISTED_FILES = 20


def commit_message(summary: str, files: tuple[str, ...]) -> str:
    """A concise subject (from the turn's summary), the changed files, and the codeagent trailer."""
    first_line = next((line.strip() for line in summary.splitlines() if line.strip()), "")
    if not first_line:
        first_line = f"Update {files[0]}" if len(files) == 1 else f"Update {len(files)} files"
    if len(first_line) > _SUBJECT_LIMIT:
        first_line = first_line[: _SUBJECT_LIMIT - 1].rstrip() + "…"
    listed = [f"- {path}" for path in files[:_LISTED_FILES]]
    if len(files) > _LISTED_FILES:
        listed.append(f"- … and {len(files) - _LISTED_FILES} more")
    return f"{first_line}\n\nChanged by codeagent:\n" + "\n".join(listed) + f"\n\n{TRAILER}\n"


def _identity_env(plumbing: GitPlumbing) -> dict[str, str]:
    """Use the user's configured identity; fall back to codeagent's only where it is missing."""
    env: dict[str, str] = {}
    name = plumbing.run("config", "user.name", check=False).decode().strip()
    email = plumbing.run("config", "user.email", check=False).decode().strip()
    if not name:
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "codeagent"
    if not email:
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "codeagent@localhost"
    return env


def commit_files(
    plumbing: GitPlumbing, entries: Mapping[str, Entry | None], message: str
) -> str | None:
    """Commit ``entries`` (path -> new entry, None = deleted) on top of HEAD and advance HEAD.

    Returns the new commit id, or None when HEAD already has exactly these contents.
    """
    head = plumbing.rev_parse("HEAD")
    # Ignored files the turn changed are checkpointed (so undo restores them) but never
    # committed: a .env or build output does not belong in history. check-ignore skips files
    # the user's index tracks, so force-added ones are still committed.
    listed = b"".join(os.fsencode(p) + b"\0" for p in entries)
    out = plumbing.run("check-ignore", "-z", "--stdin", stdin=listed, check=False)
    ignored = {os.fsdecode(p) for p in out.split(b"\0") if p}
    entries = {p: e for p, e in entries.items() if p not in ignored}
    if not entries:
        return None
    index_info = plumbing.index_info(entries)
    with plumbing.temp_index() as env:
        if head:
            plumbing.run("read-tree", head, env=env)
        else:
            plumbing.run("read-tree", "--empty", env=env)
        plumbing.run("update-index", "-z", "--index-info", env=env, stdin=index_info)
        tree = plumbing.text("write-tree", env=env)
    if head and tree == plumbing.text("rev-parse", f"{head}^{{tree}}"):
        return None
    env = _identity_env(plumbing)
    commit = plumbing.commit_tree(tree, message, (head,) if head else (), env=env)
    # The expected old value makes this fail, rather than overwrite, if HEAD moved meanwhile.
    plumbing.update_ref("HEAD", commit, head or plumbing.null_sha, reason="codeagent: auto-commit")
    # If this fails (e.g. another git process holds index.lock) the commit still stands; the
    # user's index just lists the old contents for these paths, and `git status` says so.
    with contextlib.suppress(GitCommandError):
        plumbing.run("update-index", "-z", "--index-info", stdin=index_info)
    return commit
