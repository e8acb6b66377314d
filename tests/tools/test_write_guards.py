"""Issue 11 rule 1: no write, move or deletion of codeagent's lands in a git directory or in
codeagent's own configuration and state, by any path; every component is resolved at the moment
of writing. And ``.codeagent/`` changes always need a person, whatever the policy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codeagent.agent.approvals import Policy
from codeagent.agent.policy import ApprovalRules
from codeagent.agent.tools.patch import PatchPathError, parse_patch, prepare_patch
from codeagent.workspace.files import FileChange, apply_changes
from codeagent.workspace.paths import PathEscapeError, ProtectedPathError, resolve_for_write


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "conf"))
    monkeypatch.delenv("GIT_DIR", raising=False)


@pytest.fixture
def git_repo(repo: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    return repo


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
        if not p.is_symlink()
    }


def run(root: Path, body: str) -> list[str]:
    return prepare_patch(parse_patch(f"*** Begin Patch\n{body}*** End Patch\n"), root).apply()


@pytest.mark.parametrize(
    "body",
    [
        "*** Update File: gl/config\n@@\n-\tbare = false\n+\tbare = false\n+\tfsmonitor = x\n",
        "*** Add File: gl/hooks/pre-commit\n+#!/bin/sh\n",
        "*** Add File: gl/info/attributes\n+* filter=x\n",
        "*** Delete File: gl/HEAD\n",
        "*** Update File: src/app.py\n*** Move to: gl/hooks/post-checkout\n@@\n-import sys\n+#!x\n",
        "*** Update File: gl/HEAD\n*** Move to: stolen.txt\n@@\n ref: refs/heads/main\n+x\n",
        "*** Add File: chain/hooks/pre-push\n+x\n",  # chain -> hop -> .git
        "*** Add File: abs/hooks/pre-push\n+x\n",  # an absolute link to .git
        "*** Add File: src/up/hooks/pre-push\n+x\n",  # src/up -> ../.git
        "*** Update File: cfg\n@@\n-\tbare = false\n+\tbare = true\n",  # a file link to config
        "*** Add File: .GIT/hooks/x\n+x\n",
    ],
)
def test_no_write_reaches_git_through_any_symlink(git_repo: Path, body: str):
    (git_repo / "gl").symlink_to(".git")
    (git_repo / "hop").symlink_to(".git")
    (git_repo / "chain").symlink_to("hop")
    (git_repo / "abs").symlink_to(git_repo / ".git")
    (git_repo / "src" / "up").symlink_to("../.git")
    (git_repo / "cfg").symlink_to(".git/config")
    before = tree(git_repo / ".git")
    with pytest.raises(PatchPathError) as info:
        run(git_repo, body)
    message = str(info.value)
    assert "git directory" in message and "codeagent never writes there" in message, message
    assert "Nothing was changed." in message
    assert tree(git_repo / ".git") == before
    assert not (git_repo / "stolen.txt").exists()
    assert (git_repo / "src" / "app.py").exists()


def test_the_message_names_the_path_and_the_link(git_repo: Path):
    (git_repo / "gl").symlink_to(".git")
    with pytest.raises(PatchPathError) as info:
        run(git_repo, "*** Add File: gl/hooks/pre-commit\n+x\n")
    message = str(info.value)
    assert "'gl/hooks/pre-commit'" in message
    assert "gl -> .git" in message and "inside the git directory .git" in message


def test_a_link_swapped_in_after_the_patch_was_prepared_is_caught_at_write_time(git_repo: Path):
    (git_repo / "docs").mkdir()
    prepared = prepare_patch(
        parse_patch("*** Begin Patch\n*** Add File: docs/hooks/pre-commit\n+x\n*** End Patch\n"),
        git_repo,
    )
    # A command run while the approval was pending replaces the directory with a link.
    (git_repo / "docs").rmdir()
    (git_repo / "docs").symlink_to(".git")
    before = tree(git_repo / ".git")
    with pytest.raises(PatchPathError, match="git directory"):
        prepared.apply()
    assert tree(git_repo / ".git") == before


def test_deleting_a_link_that_points_into_git_removes_only_the_link(git_repo: Path):
    (git_repo / "h").symlink_to(".git/HEAD")
    head = (git_repo / ".git" / "HEAD").read_bytes()
    run(git_repo, "*** Delete File: h\n")
    assert not os.path.lexists(git_repo / "h")
    assert (git_repo / ".git" / "HEAD").read_bytes() == head


def test_worktree_submodule_and_bare_git_dirs_inside_the_tree(repo: Path, tmp_path: Path):
    # --separate-git-dir: .git is a file pointing at a directory inside the tree.
    subprocess.run(["git", "init", "-q", "--separate-git-dir", str(repo / "gd")], cwd=repo,
                   check=True)  # fmt: skip
    subprocess.run(["git", "init", "-q", "--bare", str(repo / "vendor" / "lib.git")], check=True)
    (repo / "sub").mkdir()
    (repo / "sub" / ".git").write_text("gitdir: ../gd\n")
    for rel in ("gd/config", "vendor/lib.git/hooks/post-update", ".git", "sub/.git"):
        with pytest.raises(ProtectedPathError, match="git directory"):
            resolve_for_write(repo, rel)
    with pytest.raises(ProtectedPathError, match="git directory"):
        apply_changes(repo, [FileChange("ok.txt", "x"), FileChange("gd/HEAD", None)])
    assert not (repo / "ok.txt").exists()


def test_git_dir_from_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch):
    (repo / "meta").mkdir()
    monkeypatch.setenv("GIT_DIR", str(repo / "meta"))
    with pytest.raises(ProtectedPathError, match="git directory"):
        resolve_for_write(repo, "meta/config")


def test_codeagent_config_and_state_are_refused_even_inside_the_repository(
    repo: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(repo / "home" / ".config" / "codeagent"))
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(repo / "home" / "state"))
    (repo / "home").mkdir()
    (repo / "h").symlink_to("home")
    for rel in ("home/.config/codeagent/config.toml", "h/state/sessions/x.jsonl"):
        with pytest.raises(PatchPathError, match="codeagent's own configuration and state"):
            run(repo, f"*** Add File: {rel}\n+api_key = 'x'\n")
    assert not (repo / "home" / ".config").exists()


def test_outside_the_repository_still_says_so(repo: Path, tmp_path: Path):
    (repo / "out").symlink_to(tmp_path)
    with pytest.raises(PathEscapeError, match="outside the repository"):
        run(repo, "*** Add File: out/x.txt\n+x\n")
    assert not (tmp_path / "x.txt").exists()


def test_repository_config_is_reported_and_needs_its_approval(repo: Path):
    (repo / "cfgdir").symlink_to(".codeagent")
    (repo / ".codeagent").mkdir()
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Add File: .codeagent/config.toml\n+model = 'x'\n"
            "*** Add File: cfgdir/commands/deploy.md\n+run it\n*** Add File: ok.txt\n+ok\n"
            "*** End Patch\n"
        ),
        repo,
    )
    assert prepared.config_files == [".codeagent/config.toml", "cfgdir/commands/deploy.md"]
    prepared.apply()  # what was prepared (and so shown for approval) may be written
    assert (repo / ".codeagent" / "commands" / "deploy.md").read_text() == "run it\n"
    # A direct write that was not approved as repository config is refused.
    with pytest.raises(ProtectedPathError, match="not part of what was approved"):
        apply_changes(repo, [FileChange("cfgdir/config.toml", "sandbox = 'none'\n")])


@pytest.mark.parametrize("policy", list(Policy))
def test_repository_config_always_asks_whatever_the_policy(policy: Policy):
    rules = ApprovalRules(policy, sandboxed=True, is_read_only=lambda c: False)
    rules.grants.all_patches = True  # not even "all patches for the session" covers it
    verdict = rules.check_patch([".codeagent/config.toml"])
    if policy is Policy.READ_ONLY:
        assert verdict.action == "deny"
    else:
        assert verdict.action == "ask" and verdict.always_ask
        assert ".codeagent/config.toml" in verdict.reason and "always" in verdict.reason
    assert rules.check_patch([]).action == ("deny" if policy is Policy.READ_ONLY else "allow")


def test_writes_go_through_directory_handles_that_never_follow_a_swapped_in_link(git_repo: Path):
    """Past the check, every create and rename is relative to directories opened with
    O_NOFOLLOW: a directory that became a link to .git in between makes the write fail."""
    import errno

    from codeagent.workspace.dir_handles import DirHandles

    (git_repo / "docs").mkdir()
    handles = DirHandles(Path(os.path.realpath(git_repo)))
    try:
        handles.fd(Path(os.path.realpath(git_repo)))
        (git_repo / "docs").rmdir()
        (git_repo / "docs").symlink_to(".git/hooks")
        with pytest.raises(OSError) as info:
            handles.create(Path(os.path.realpath(git_repo)) / "docs" / "pre-commit", 0o755)
        assert info.value.errno in (errno.ELOOP, errno.ENOTDIR)
    finally:
        handles.close()
    assert not (git_repo / ".git" / "hooks" / "pre-commit").exists()


def test_deleting_or_moving_repository_config_away_also_needs_its_approval(repo: Path):
    (repo / ".codeagent").mkdir()
    (repo / ".codeagent" / "config.toml").write_text("model = 'x'\n")
    for body in (
        "*** Delete File: .codeagent/config.toml\n",
        "*** Update File: .codeagent/config.toml\n*** Move to: elsewhere.toml\n"
        "@@\n-model = 'x'\n+model = 'y'\n",
    ):
        prepared = prepare_patch(parse_patch(f"*** Begin Patch\n{body}*** End Patch\n"), repo)
        assert prepared.config_files == [".codeagent/config.toml"]
