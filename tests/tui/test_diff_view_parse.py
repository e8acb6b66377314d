"""Parsing unified diffs and laying them out as highlighted rows (no UI involved)."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeagent.tui.widgets.diff_model import DiffParseError, parse_unified_diff
from codeagent.tui.widgets.diff_rows import (
    build_layout,
    highlight_hunks,
    next_batch,
    sanitize,
)

TWO_FILES = """\
diff --git a/src/fizz.py b/src/fizz.py
index 1111111..2222222 100644
--- a/src/fizz.py
+++ b/src/fizz.py
@@ -1,4 +1,4 @@ def fizz_buzz(n):
 def fizz_buzz(n):
-    if n % 3 == 0 and n % 5 == 0:
+    if n % 15 == 0:
         return "FizzBuzz"
     return str(n)
@@ -10,2 +10,3 @@
 x = 1

+y = 2
diff --git a/notes.txt b/notes.txt
deleted file mode 100644
--- a/notes.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-first
-second
\\ No newline at end of file
"""


def test_files_hunks_and_line_numbers():
    files = parse_unified_diff(TWO_FILES)
    assert [f.path for f in files] == ["src/fizz.py", "notes.txt"]
    fizz, notes = files
    assert fizz.status == "modified" and notes.status == "deleted"
    assert [len(f.hunks) for f in files] == [2, 1]
    assert (fizz.added, fizz.removed) == (2, 1)
    first = fizz.hunks[0]
    assert first.section == "def fizz_buzz(n):"
    assert [(line.kind, line.old_no, line.new_no) for line in first.lines] == [
        ("context", 1, 1),
        ("removed", 2, None),
        ("added", None, 2),
        ("context", 3, 3),
        ("context", 4, 4),
    ]
    # An empty line inside a hunk is an empty context line (some tools strip the space).
    assert [line.kind for line in fizz.hunks[1].lines] == ["context", "context", "added"]
    assert notes.hunks[0].lines[-1].kind == "note"
    assert notes.hunks[0].lines[-1].text == "No newline at end of file"


def test_new_file_rename_mode_and_binary_from_real_git(tmp_path: Path):
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    git("init", "-q")
    (tmp_path / "old_name.py").write_text("".join(f"line {i}\n" for i in range(20)))
    (tmp_path / "run.sh").write_text("echo hi\n")
    (tmp_path / "logo.bin").write_bytes(b"\x00\x01\x02")
    git("add", ".")
    git("commit", "-qm", "one")
    git("mv", "old_name.py", "new_name.py")
    (tmp_path / "new_name.py").write_text("".join(f"line {i}\n" for i in range(21)))
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / "logo.bin").write_bytes(b"\x00\x09\x02\x03")
    (tmp_path / "added.md").write_text("# Title\n")
    git("add", ".")
    files = {f.path: f for f in parse_unified_diff(git("diff", "--cached", "-M"))}
    assert set(files) == {"new_name.py", "run.sh", "logo.bin", "added.md"}
    assert files["new_name.py"].status == "renamed"
    assert files["new_name.py"].old_path == "old_name.py"
    assert files["run.sh"].notes == ["old mode 100644", "new mode 100755"]
    assert files["logo.bin"].status == "binary" and not files["logo.bin"].hunks
    assert files["added.md"].status == "added"
    assert files["added.md"].hunks[0].lines[0].text == "# Title"


def test_bare_paths_and_known_paths_keep_their_names():
    git_style = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_unified_diff(git_style)[0].path == "x.py"
    # A file really named "b/x.py", printed without prefixes, keeps its name when known.
    bare = "--- b/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_unified_diff(bare)[0].path == "x.py"
    assert parse_unified_diff(bare, {"b/x.py"})[0].path == "b/x.py"
    plain = "--- x.py\n+++ x.py\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_unified_diff(plain)[0].path == "x.py"


def test_crlf_diff_parses_like_lf():
    crlf = TWO_FILES.replace("\n", "\r\n")
    assert [len(f.hunks) for f in parse_unified_diff(crlf)] == [2, 1]


def test_empty_diff_has_no_files():
    assert parse_unified_diff("") == []
    assert parse_unified_diff("\n\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just some words\nand more\n", "no file header"),
        ("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", "is incomplete"),
        ("--- a/x\n+++ b/x\n@@ -1,x +1 @@\n a\n", "malformed hunk header"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n", "unexpected line outside a hunk"),
    ],
)
def test_bad_diffs_raise_with_the_line(text: str, message: str):
    with pytest.raises(DiffParseError, match=message) as info:
        parse_unified_diff(text)
    assert info.value.line_no >= 1
    assert str(info.value).startswith(f"line {info.value.line_no}:")


def test_layout_rows_hunk_refs_and_highlighting():
    layout = build_layout(parse_unified_diff(TWO_FILES))
    kinds = [row.kind for row in layout.rows]
    assert kinds[:3] == ["file", "hunk", "context"]
    assert kinds.count("hunk") == 3 and kinds.count("file") == 2
    assert [(h.path, h.index_in_file) for h in layout.hunks] == [
        ("src/fizz.py", 0),
        ("src/fizz.py", 1),
        ("notes.txt", 0),
    ]
    assert layout.rows[layout.hunks[1].row].kind == "hunk"
    assert layout.number_width == 3
    colours = highlight_hunks(layout, range(3), "one-dark")
    code_rows = {i for i, r in enumerate(layout.rows) if r.kind in ("context", "added", "removed")}
    assert set(colours) == code_rows
    # The keyword "def" in a .py file gets a different colour from the identifier after it.
    assert layout.rows[2].text == "def fizz_buzz(n):"
    by_text = {seg.text.strip(): seg.style.color for seg in colours[2] if seg.text.strip()}
    assert by_text["def"] is not None and by_text["def"] != by_text["fizz_buzz"]
    # Each segment list spells out the row's text exactly.
    for i in code_rows:
        assert "".join(seg.text for seg in colours[i]) == layout.rows[i].text
    # Plain text files are not coloured token by token.
    notes_rows = [i for i, r in enumerate(layout.rows) if r.file_index == 1 and r.kind == "removed"]
    assert all(len(colours[i]) <= 1 for i in notes_rows)


def test_multiline_string_is_coloured_across_lines():
    diff = '--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n x = """\n-old\n+new\n """\n'
    layout = build_layout(parse_unified_diff(diff))
    colours = highlight_hunks(layout, [0], "one-dark")
    string_colour = colours[2][-1].style.color  # the opening """
    added = next(i for i, r in enumerate(layout.rows) if r.kind == "added")
    removed = next(i for i, r in enumerate(layout.rows) if r.kind == "removed")
    assert colours[added][0].style.color == string_colour
    assert colours[removed][0].style.color == string_colour


def test_next_batch_starts_at_the_visible_row_and_skips_coloured_hunks():
    body = "".join(f"@@ -{n * 10 + 1},1 +{n * 10 + 1},1 @@\n-a\n+b\n" for n in range(30))
    layout = build_layout(parse_unified_diff(f"--- a/x.py\n+++ b/x.py\n{body}"))
    visible = layout.hunks[12].row + 1
    assert next_batch(layout, visible, set(), batch_lines=10) == [12, 13, 14, 15]
    assert next_batch(layout, visible, {12, 14}, batch_lines=10) == [13, 15, 16, 17]
    # Near the end it wraps to the top; when everything is coloured there is nothing to do.
    assert next_batch(layout, layout.hunks[29].row, set(), batch_lines=7) == [29, 0, 1]
    assert next_batch(layout, visible, set(range(30))) == []


def test_control_characters_cannot_reach_the_terminal():
    diff = "--- a/x.txt\n+++ b/x.txt\n@@ -1 +1 @@\n-a\n+\x1b[31mred\x07\tend\x9b\n"
    layout = build_layout(parse_unified_diff(diff))
    added = next(i for i, r in enumerate(layout.rows) if r.kind == "added")
    rendered = "".join(seg.text for seg in highlight_hunks(layout, [0], "one-dark")[added])
    assert "\x1b" not in rendered and "\x07" not in rendered and "\x9b" not in rendered
    assert rendered == layout.rows[added].text == "␛[31mred␇   end\ufffd"  # tab to column 12
    assert sanitize("a\tb") == "a   b"


def _apply(old: list[str], file) -> list[str]:
    """Rebuild the new text from the old one and the parsed hunks."""
    out: list[str] = []
    position = 0  # 0-based index into old
    for hunk in file.hunks:
        start = hunk.old_start - 1 if hunk.old_len else hunk.old_start
        out.extend(old[position:start])
        position = start
        for line in hunk.lines:
            if line.kind == "context":
                assert old[position] == line.text
                out.append(line.text)
                position += 1
            elif line.kind == "removed":
                assert old[position] == line.text
                position += 1
            elif line.kind == "added":
                out.append(line.text)
    return out + old[position:]


@settings(max_examples=150, deadline=None)
@given(
    old=st.lists(st.sampled_from(["a", "b", "c", "", " x", "-y", "+z", "@@ q"]), max_size=30),
    new=st.lists(st.sampled_from(["a", "b", "d", "", " x", "-y", "+w", "\\ n"]), max_size=30),
)
def test_parsed_hunks_rebuild_the_new_text(old: list[str], new: list[str]):
    diff = "".join(
        difflib.unified_diff(
            [f"{line}\n" for line in old], [f"{line}\n" for line in new], "a/f.txt", "b/f.txt"
        )
    )
    files = parse_unified_diff(diff)
    if old == new:
        assert files == []
        return
    (file,) = files
    assert file.path == "f.txt"
    assert _apply(old, file) == new
    layout = build_layout(files)
    numbered = [r for r in layout.rows if r.kind in ("context", "added", "removed")]
    assert len(numbered) == sum(len(h.lines) for h in file.hunks)
