"""All-or-nothing writes and path resolution inside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.workspace.files import ChangeError, FileChange, apply_changes
from codeagent.workspace.paths import PathEscapeError, normalize_relative, resolve_inside


def test_writes_creates_directories_and_deletes(repo: Path):
    changed = apply_changes(
        repo,
        [
            FileChange("a/b/c.txt", "deep\n"),
            FileChange("README.md", b"bytes\n"),
            FileChange("obsolete.txt", None),
        ],
    )
    assert changed == ["a/b/c.txt", "README.md", "obsolete.txt"]
    assert (repo / "a/b/c.txt").read_text() == "deep\n"
    assert (repo / "README.md").read_bytes() == b"bytes\n"
    assert not (repo / "obsolete.txt").exists()


def test_failure_in_the_middle_of_the_swap_restores_everything(repo: Path, snapshot):
    # A non-empty directory where a file should go makes the third replace fail for real,
    # after the first two files were already swapped in.
    (repo / "blocker").mkdir()
    (repo / "blocker" / "inside.txt").write_text("x\n")
    before = snapshot(repo)
    with pytest.raises(ChangeError) as info:
        apply_changes(
            repo,
            [
                FileChange("README.md", "changed\n"),
                FileChange("obsolete.txt", None),
                FileChange("new/dir/file.txt", "new\n"),
                FileChange("blocker", "file over a directory\n"),
            ],
        )
    assert "no file was changed" in str(info.value)
    assert snapshot(repo) == before
    assert not (repo / "new").exists()
    assert [p.name for p in repo.rglob("*codeagent-*")] == []


def test_failure_while_writing_temporaries_restores_everything(repo: Path, snapshot):
    before = snapshot(repo)
    with pytest.raises(ChangeError, match="no file was changed"):
        # README.md is a file, so a directory cannot be created under it.
        apply_changes(repo, [FileChange("x.txt", "x"), FileChange("README.md/sub.txt", "y")])
    assert snapshot(repo) == before


def test_refuses_before_writing_anything(repo: Path, snapshot):
    before = snapshot(repo)
    with pytest.raises(PathEscapeError):
        apply_changes(repo, [FileChange("ok.txt", "x"), FileChange("../evil.txt", "y")])
    with pytest.raises(ChangeError, match="not a file"):
        apply_changes(repo, [FileChange("ok.txt", "x"), FileChange("src", None)])
    with pytest.raises(ChangeError, match="twice"):
        apply_changes(repo, [FileChange("ok.txt", "x"), FileChange("./ok.txt", "y")])
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("", "empty"),
        ("../x", "'..' is not allowed"),
        ("a/../../x", "'..' is not allowed"),
        ("/etc/passwd", "absolute"),
        ("C:\\x", "absolute"),
        ("~/x", "~"),
        (".", "the repository itself"),
        ("a\x00b", "NUL"),
    ],
)
def test_normalize_refuses(rel, reason):
    with pytest.raises(PathEscapeError, match=reason):
        normalize_relative(rel)


def test_normalize_cleans():
    assert normalize_relative("./src//app.py") == "src/app.py"
    assert normalize_relative("src\\app.py") == "src/app.py"


def test_resolve_inside_follows_symlinks(tmp_path: Path):
    root = tmp_path / "repo"
    (root / "real").mkdir(parents=True)
    (root / "inner").symlink_to(root / "real")
    (root / "out").symlink_to(tmp_path)
    assert resolve_inside(root, "inner/f.txt") == root.resolve() / "inner/f.txt"
    with pytest.raises(PathEscapeError, match="outside the repository"):
        resolve_inside(root, "out/f.txt")


def test_writing_through_a_symlink_inside_the_repository_edits_its_target(repo: Path):
    (repo / "link.md").symlink_to("README.md")
    apply_changes(repo, [FileChange("link.md", "through the link\n")])
    assert (repo / "link.md").is_symlink()
    assert (repo / "README.md").read_text() == "through the link\n"
    apply_changes(repo, [FileChange("link.md", None)])
    assert not (repo / "link.md").is_symlink() and (repo / "README.md").exists()
