"""Applying patches to real files: matching, moves, hunk selection, all-or-nothing, escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeagent.agent.tools.patch import (
    PatchError,
    PatchPathError,
    parse_patch,
    patch_from_operation,
    prepare_patch,
)
from codeagent.workspace.paths import PathEscapeError


def run(root: Path, body: str, selected=None) -> list[str]:
    prepared = prepare_patch(parse_patch(f"*** Begin Patch\n{body}*** End Patch\n"), root)
    return prepared.apply(selected)


def test_add_update_move_delete(repo: Path):
    changed = run(
        repo,
        "*** Add File: docs/new.md\n+# New\n"
        "*** Update File: src/app.py\n*** Move to: src/main.py\n"
        "@@ def greet():\n-    print('Hi')\n+    print('Hello')\n"
        "*** Delete File: obsolete.txt\n",
    )
    assert sorted(changed) == ["docs/new.md", "obsolete.txt", "src/app.py", "src/main.py"]
    assert (repo / "docs/new.md").read_text() == "# New\n"
    assert "print('Hello')" in (repo / "src/main.py").read_text()
    assert not (repo / "src/app.py").exists()
    assert not (repo / "obsolete.txt").exists()
    leftovers = [p.name for p in repo.rglob("*codeagent-*")]
    assert leftovers == []


def test_several_sections_and_end_of_file(repo: Path):
    run(
        repo,
        "*** Update File: src/app.py\n"
        "@@\n-import sys\n+import os\n+import sys\n"
        "@@ def main():\n     greet()\n-    return 0\n+    return 1\n*** End of File\n",
    )
    text = (repo / "src/app.py").read_text()
    assert text.startswith("import os\nimport sys\n")
    assert text.endswith("    greet()\n    return 1\n")


def test_whitespace_tolerant_context_keeps_the_files_own_lines(repo: Path):
    (repo / "t.py").write_text("a = 1   \n\tb = 2\nc = 3\n")
    run(repo, "*** Update File: t.py\n@@\n a = 1\n-b = 2\n+b = 20\n c = 3\n")
    assert (repo / "t.py").read_text() == "a = 1   \nb = 20\nc = 3\n"


def test_typographic_quotes_in_context_still_match(repo: Path):
    (repo / "q.py").write_text('say("hi")  # it\'s - ok\nx = 1\n')
    run(
        repo,
        "*** Update File: q.py\n@@\n say(\u201chi\u201d)  # it\u2019s \u2014 ok\n-x = 1\n+x = 2\n",
    )
    assert (repo / "q.py").read_text() == 'say("hi")  # it\'s - ok\nx = 2\n'


def test_crlf_files_keep_crlf(repo: Path):
    (repo / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    run(repo, "*** Update File: w.txt\n@@\n one\n-two\n+TWO\n")
    assert (repo / "w.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\n"


def test_update_appends_missing_final_newline_and_keeps_mode(repo: Path):
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\necho hi")
    script.chmod(0o755)
    run(repo, "*** Update File: run.sh\n@@\n-echo hi\n+echo bye\n")
    assert script.read_text() == "#!/bin/sh\necho bye\n"
    assert os.stat(script).st_mode & 0o777 == 0o755


def test_insertion_after_anchor_and_append_at_end(repo: Path):
    (repo / "l.txt").write_text("a\nb\nc\n")
    run(repo, "*** Update File: l.txt\n@@ a\n+a2\n@@\n+d\n*** End of File\n")
    assert (repo / "l.txt").read_text() == "a\na2\nb\nc\nd\n"


def test_builtin_operations_apply(repo: Path):
    prepare_patch(
        patch_from_operation({"type": "create_file", "path": "n.py", "diff": "+x = 1\n"}), repo
    ).apply()
    op = {"type": "update_file", "path": "n.py", "diff": "@@\n-x = 1\n+x = 2\n"}
    prepare_patch(patch_from_operation(op), repo).apply()
    assert (repo / "n.py").read_text() == "x = 2\n"
    prepare_patch(patch_from_operation({"type": "delete_file", "path": "n.py"}), repo).apply()
    assert not (repo / "n.py").exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "*** Update File: src/app.py\n@@\n-    print('Bye')\n+    print('x')\n",
            "src/app.py (section 1 of 1): could not find these lines",
        ),
        (
            "*** Update File: src/app.py\n@@ def nothing():\n-    print('Hi')\n+    x\n",
            "could not find the '@@ def nothing():' line",
        ),
        (
            "*** Update File: missing.py\n@@\n-a\n+b\n",
            "cannot update missing.py: the file does not exist",
        ),
        ("*** Delete File: missing.py\n", "cannot delete missing.py: the file does not exist"),
        ("*** Add File: README.md\n+x\n", "cannot add README.md: it already exists"),
        ("*** Update File: src\n@@\n-a\n+b\n", "src is a directory"),
        (
            "*** Update File: src/app.py\n*** Move to: README.md\n@@\n-import sys\n+import os\n",
            "README.md already exists",
        ),
        (
            "*** Update File: src/app.py\n@@ def main():\n-    return 0\n+    return 1\n"
            "@@\n-import sys\n+import os\n",
            "they appear earlier, at line 1",
        ),
        (
            "*** Delete File: obsolete.txt\n*** Update File: obsolete.txt\n@@\n-old\n+new\n",
            "cannot update obsolete.txt",
        ),
    ],
)
def test_failures_say_what_and_write_nothing(repo: Path, body: str, expected: str, snapshot):
    before = snapshot(repo)
    with pytest.raises(PatchError) as info:
        run(repo, body)
    assert expected in str(info.value)
    assert "Nothing was changed." in str(info.value)
    assert snapshot(repo) == before


def test_a_failing_second_file_leaves_the_first_untouched(repo: Path, snapshot):
    before = snapshot(repo)
    with pytest.raises(PatchError, match=r"README\.md"):
        run(
            repo,
            "*** Update File: src/app.py\n@@\n-import sys\n+import os\n"
            "*** Add File: new.txt\n+new\n"
            "*** Update File: README.md\n@@\n-no such line\n+x\n",
        )
    assert snapshot(repo) == before
    assert not (repo / "new.txt").exists()


def test_binary_files_are_refused_for_update(repo: Path, snapshot):
    (repo / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    before = snapshot(repo)
    with pytest.raises(PatchError, match="not UTF-8 text"):
        run(repo, "*** Update File: blob.bin\n@@\n-a\n+b\n")
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "path", ["../outside.txt", "/etc/passwd", "src/../../x", "~/x", ".git/config", "link/x.txt"]
)
def test_paths_escaping_the_repository_are_refused(repo: Path, tmp_path: Path, path: str, snapshot):
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    before = snapshot(tmp_path)
    with pytest.raises(PathEscapeError) as info:
        run(repo, f"*** Add File: {path}\n+pwned\n")
    assert isinstance(info.value, PatchError) and isinstance(info.value, PatchPathError)
    assert path.strip() in str(info.value)
    assert snapshot(tmp_path) == before


def test_a_symlinked_file_pointing_outside_is_refused(repo: Path, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("keep\n")
    (repo / "s.txt").symlink_to(secret)
    with pytest.raises(PathEscapeError, match="outside the repository"):
        run(repo, "*** Update File: s.txt\n@@\n-keep\n+gone\n")
    assert secret.read_text() == "keep\n"


def test_move_to_outside_is_refused(repo: Path, snapshot):
    before = snapshot(repo)
    with pytest.raises(PathEscapeError):
        run(repo, "*** Update File: README.md\n*** Move to: ../stolen.md\n@@\n-# Demo\n+# X\n")
    assert snapshot(repo) == before


def test_file_changed_after_prepare_is_not_overwritten(repo: Path):
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Update File: README.md\n@@\n-# Demo\n+# Title\n*** End Patch"
        ),
        repo,
    )
    (repo / "README.md").write_text("# Demo\n\nEdited by the user meanwhile.\n")
    with pytest.raises(PatchError, match=r"README\.md changed on disk"):
        prepared.apply()
    assert (repo / "README.md").read_text() == "# Demo\n\nEdited by the user meanwhile.\n"


def test_unified_diff_numbers_hunks_and_applies_only_selected(repo: Path):
    lines = [f"line {i}\n" for i in range(1, 41)]
    (repo / "big.txt").write_text("".join(lines))
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Update File: big.txt\n"
            "@@\n line 2\n-line 3\n+LINE 3\n line 4\n"
            "@@\n line 19\n-line 20\n+LINE 20\n line 21\n"
            "@@\n line 37\n-line 38\n+LINE 38\n line 39\n"
            "*** Add File: extra.txt\n+extra\n"
            "*** End Patch\n"
        ),
        repo,
    )
    assert prepared.files == ["big.txt", "extra.txt"]
    assert prepared.hunk_counts() == {"big.txt": 3, "extra.txt": 1}
    diff = prepared.unified_diff()
    assert diff.count("@@ -") == 4
    assert "--- a/big.txt\n+++ b/big.txt\n@@ -1,6 +1,6 @@\n" in diff
    assert "--- /dev/null\n+++ b/extra.txt\n@@ -0,0 +1 @@\n+extra\n" in diff
    partial = prepared.unified_diff({"big.txt": {0, 2}})
    assert "+LINE 3" in partial and "+LINE 38" in partial and "LINE 20" not in partial
    assert "extra.txt" not in partial

    changed = prepared.apply({"big.txt": frozenset({0, 2}), "extra.txt": frozenset()})
    assert changed == ["big.txt"]
    text = (repo / "big.txt").read_text()
    assert "LINE 3\n" in text and "LINE 38\n" in text and "line 20\n" in text
    assert not (repo / "extra.txt").exists()


def test_selecting_nothing_changes_nothing(repo: Path, snapshot):
    before = snapshot(repo)
    prepared = prepare_patch(
        parse_patch("*** Begin Patch\n*** Delete File: obsolete.txt\n*** End Patch"), repo
    )
    assert prepared.apply({}) == []
    assert prepared.summary([]) == "No changes were applied."
    assert snapshot(repo) == before


def test_summary_and_title(repo: Path):
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Add File: a.txt\n+a\n*** Delete File: obsolete.txt\n*** End Patch"
        ),
        repo,
    )
    assert prepared.title() == "Edit 2 files"
    changed = prepared.apply()
    assert prepared.summary(changed) == "Added a.txt\nDeleted obsolete.txt"


def test_diff_marks_a_missing_final_newline(repo: Path):
    (repo / "n.txt").write_text("a\nb")
    prepared = prepare_patch(
        parse_patch("*** Begin Patch\n*** Update File: n.txt\n@@\n a\n-b\n+c\n*** End Patch"), repo
    )
    assert prepared.unified_diff().endswith(
        "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
    )


def test_move_with_some_hunks_deselected_still_moves(repo: Path):
    (repo / "m.txt").write_text("".join(f"{i}\n" for i in range(30)))
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Update File: m.txt\n*** Move to: moved/m.txt\n"
            "@@\n 1\n-2\n+two\n 3\n@@\n 25\n-26\n+twenty-six\n 27\n*** End Patch"
        ),
        repo,
    )
    assert prepared.files == ["moved/m.txt"]
    assert prepared.hunk_counts() == {"moved/m.txt": 2}
    assert "rename from m.txt\nrename to moved/m.txt\n" in prepared.unified_diff()
    assert sorted(prepared.apply({"moved/m.txt": {1}})) == ["m.txt", "moved/m.txt"]
    text = (repo / "moved/m.txt").read_text()
    assert "\n2\n" in text and "twenty-six\n" in text
    assert not (repo / "m.txt").exists()


def test_changes_without_hunks_apply_under_any_selection(repo: Path):
    prepared = prepare_patch(
        parse_patch(
            "*** Begin Patch\n*** Add File: empty.txt\n"
            "*** Update File: README.md\n*** Move to: docs/README.md\n"
            "*** Update File: src/app.py\n@@\n-import sys\n+import os\n*** End Patch"
        ),
        repo,
    )
    assert prepared.hunk_counts() == {"empty.txt": 0, "docs/README.md": 0, "src/app.py": 1}
    # A UI reports selections only for files that have hunks; here the user deselected app.py.
    changed = prepared.apply({"src/app.py": set()})
    assert sorted(changed) == ["README.md", "docs/README.md", "empty.txt"]
    assert (repo / "empty.txt").read_text() == ""
    assert (repo / "src/app.py").read_text().startswith("import sys\n")


def test_a_near_miss_names_the_line_that_differs(repo: Path):
    with pytest.raises(PatchError) as info:
        run(repo, "*** Update File: src/app.py\n@@\n def greet():\n-    print('Hello')\n+    x\n")
    assert (
        "The closest match starts at line 4, but there line 5 of the file is \"    print('Hi')\" "
        "where the patch expects \"    print('Hello')\"."
    ) in str(info.value)
