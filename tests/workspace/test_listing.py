"""``list_files``: the names offered for ``@path`` completion, from real repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from codeagent.workspace.listing import list_files


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def make_repo(root: Path) -> Path:
    root.mkdir()
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / "README.md").write_text("# r\n")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")
    return root


def test_tracked_and_untracked_files_but_not_ignored_ones(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    (root / "new file é.py").write_text("")  # untracked, with a space and a non-ASCII letter
    (root / "debug.log").write_text("")  # ignored
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_text("")  # ignored directory
    assert list_files(root) == [".gitignore", "README.md", "new file é.py", "src/app.py"]


def test_the_list_is_capped(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    for i in range(30):
        (root / f"f{i:02d}.txt").write_text("")
    files = list_files(root, limit=10)
    assert len(files) == 10 and files == sorted(files)


def test_a_plain_folder_is_walked_without_hidden_directories(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("")
    (root / "top.txt").write_text("")
    (root / ".cache").mkdir()
    (root / ".cache" / "blob").write_text("")
    assert list_files(root) == ["pkg/mod.py", "top.txt"]
    assert len(list_files(root, limit=1)) == 1


def test_a_missing_folder_gives_an_empty_list(tmp_path: Path) -> None:
    assert list_files(tmp_path / "gone") == []
