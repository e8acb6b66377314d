"""Undo never follows a symlink a command swapped in: it cannot delete or write inside ``.git``.

A hostile turn creates ``d/config`` with a patch, then a command moves ``d`` away and puts a
symlink ``d -> .git`` in its place. Undoing that turn removes ``d/config``; followed through the
link that path is ``.git/config``, the repository's own configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from codeagent.workspace.git import GitWorkspace
from tests.workspace.test_undo_exact import git, isolated_git, patch, repo, runner, shell

__all__ = ["isolated_git", "repo"]  # fixtures used by name

CREATE_D_CONFIG = """*** Begin Patch
*** Add File: d/config
+harmless
*** End Patch
"""


def git_dir_files(root: Path) -> dict[str, bytes]:
    found = {}
    for dirpath, _dirs, files in os.walk(root / ".git"):
        for name in files:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            if "/objects/" in rel or "/refs/codeagent" in rel or rel.startswith(".git/codeagent"):
                continue
            if rel in {".git/index", ".git/logs/HEAD"}:
                continue
            found[rel] = full.read_bytes()
    return found


def test_undo_does_not_delete_git_config_through_a_swapped_in_symlink(repo: Path) -> None:
    ws = GitWorkspace.open(repo, "s")
    tools = runner(repo, ws)
    before_git = git_dir_files(repo)
    patch(tools, CREATE_D_CONFIG)
    shell(tools, "mv d d2 && ln -s .git d")
    assert ws.after_turn("t1", "swap") is not None

    result = ws.undo()
    assert result.ok, result.message
    assert not os.path.lexists(repo / "d") and not (repo / "d2").exists()  # the turn is undone
    assert (repo / ".git" / "config").exists(), result.message
    assert git_dir_files(repo) == before_git
    assert git(repo, "status", "--porcelain") is not None  # the repository still works
