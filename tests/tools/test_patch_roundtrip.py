"""Property: a V4A patch written from any edit of any file applies back to exactly the edit."""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.agent.tools.patch import PatchError, parse_patch, prepare_patch
from codeagent.agent.tools.patch_diff import hunk_groups, merge_selected

# Short texts with spaces and punctuation; a numeric suffix keeps lines unique so that a context
# block has exactly one place it can match (V4A takes the first match, as real patches rely on).
_words = st.text(alphabet="abc xyz_(){}:=#'\"\t", max_size=12)


@st.composite
def file_and_edit(draw):
    count = draw(st.integers(min_value=0, max_value=30))
    old = [f"{draw(_words)} {i}" for i in range(count)]
    new = list(old)
    for n in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(new)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        if action == "insert" or not new or position == len(new):
            new.insert(position, f"{draw(_words)} new{n}")
        elif action == "delete":
            del new[position]
        else:
            new[position] = f"{draw(_words)} changed{n}"
    return old, new


def v4a_update(path: str, old: list[str], new: list[str], context: int) -> str:
    """Write a V4A patch for old -> new, one @@ section per difflib group."""
    out = ["*** Begin Patch", f"*** Update File: {path}"]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        out.append("@@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(f" {line}" for line in old[i1:i2])
            else:
                out.extend(f"-{line}" for line in old[i1:i2])
                out.extend(f"+{line}" for line in new[j1:j2])
        if group[-1][2] == len(old):
            out.append("*** End of File")
    out.append("*** End Patch")
    return "\n".join(out) + "\n"


def text_of(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_and_edit(), st.integers(min_value=1, max_value=3))
def test_patch_round_trip(edit, context):
    old, new = edit
    if old == new:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "f.txt").write_text(text_of(old))
        prepared = prepare_patch(parse_patch(v4a_update("f.txt", old, new, context)), root)
        assert prepared.changes[0].new_text == text_of(new)
        prepared.apply()
        assert (root / "f.txt").read_text() == text_of(new)


@settings(max_examples=50, deadline=None)
@given(file_and_edit())
def test_trailing_whitespace_in_context_is_tolerated(edit):
    old, new = edit
    if old == new:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "f.txt").write_text(text_of(old))
        patch = v4a_update("f.txt", [f"{line}  " for line in old], [f"{line}  " for line in new], 2)
        prepared = prepare_patch(parse_patch(patch), root)
        # Context lines keep the file's own text; added lines carry the patch's spaces.
        expected = {f"{line}  " for line in new} | set(old)
        assert set(prepared.changes[0].new_text.splitlines()) <= expected
        assert [line.rstrip() for line in prepared.changes[0].new_text.splitlines()] == [
            line.rstrip() for line in new
        ]


@settings(max_examples=80, deadline=None)
@given(file_and_edit(), st.data())
def test_hunk_selection(edit, data):
    old, new = text_of(edit[0]), text_of(edit[1])
    count = len(hunk_groups(old, new))
    assert merge_selected(old, new, set(range(count))) == new
    assert merge_selected(old, new, set()) == old
    chosen = data.draw(st.sets(st.integers(min_value=0, max_value=max(count - 1, 0))))
    partial = merge_selected(old, new, chosen)
    # Whatever was picked, applying the remaining hunks afterwards reaches the full edit.
    rest = set(range(len(hunk_groups(partial, new))))
    assert merge_selected(partial, new, rest) == new


def v4a_sections(old: list[str], new: list[str], anchored: bool) -> list[str]:
    """The body lines of one file's update; with ``anchored`` each section names, in an @@
    line, the file line just before its context (when there is one)."""
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(1):
        start = group[0][1]
        out.append(f"@@ {old[start - 1]}" if anchored and start > 0 else "@@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(f" {line}" for line in old[i1:i2])
            else:
                out.extend(f"-{line}" for line in old[i1:i2])
                out.extend(f"+{line}" for line in new[j1:j2])
        if group[-1][2] == len(old):
            out.append("*** End of File")
    return out


@settings(max_examples=40, deadline=None)
@given(file_and_edit(), file_and_edit(), st.booleans(), st.booleans())
def test_multi_file_patches_apply_all_or_nothing(first, second, anchored, break_one):
    files = {"a.txt": first, "dir/b.txt": second}
    files = {path: edit for path, edit in files.items() if edit[0] != edit[1]}
    if not files:
        return
    body = ["*** Begin Patch"]
    for path, (old, new) in files.items():
        body += [f"*** Update File: {path}", *v4a_sections(old, new, anchored)]
    body += ["*** Add File: added.txt", "+added"]
    if break_one:
        body += ["*** Update File: c.txt", "@@", "-a line that is not there", "+x"]
    body.append("*** End Patch")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "dir").mkdir()
        (root / "c.txt").write_text("c\n")
        for path, (old, _) in files.items():
            (root / path).write_text(text_of(old))
        patch = parse_patch("\n".join(body) + "\n")
        if break_one:
            with pytest.raises(PatchError, match=r"c\.txt"):
                prepare_patch(patch, root).apply()
            for path, (old, _) in files.items():
                assert (root / path).read_text() == text_of(old)
            assert not (root / "added.txt").exists()
        else:
            prepare_patch(patch, root).apply()
            for path, (_, new) in files.items():
                assert (root / path).read_text() == text_of(new)
            assert (root / "added.txt").read_text() == "added\n"
