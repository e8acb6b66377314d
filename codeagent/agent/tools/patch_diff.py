"""Unified diffs of one file with numbered hunks, and applying only some of those hunks.

A hunk is one group of ``difflib``'s grouped opcodes (3 lines of context). Applying a subset
keeps the old text wherever a change belongs to an unselected hunk, so the UI can let the user
accept part of a patch.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Collection

_NO_NEWLINE = "\\ No newline at end of file\n"


def split_keepends(text: str) -> list[str]:
    """``text`` as lines that keep their line ends (the last may lack one)."""
    return text.splitlines(keepends=True) if text else []


@functools.lru_cache(maxsize=64)
def hunk_groups(old: str, new: str) -> tuple[tuple[tuple[str, int, int, int, int], ...], ...]:
    """The hunks (grouped opcodes with 3 lines of context) between ``old`` and ``new``.

    Cached: showing, counting and applying a patch all ask for the same file's hunks."""
    matcher = difflib.SequenceMatcher(None, split_keepends(old), split_keepends(new), False)
    return tuple(tuple(group) for group in matcher.get_grouped_opcodes(3))


def merge_selected(old: str, new: str, selected: Collection[int]) -> str:
    """``old`` with only the hunks numbered in ``selected`` (0-based) taken from ``new``."""
    a, b = split_keepends(old), split_keepends(new)
    out: list[str] = []
    position = 0
    for number, group in enumerate(hunk_groups(old, new)):
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                continue
            out.extend(a[position:i1])
            out.extend(b[j1:j2] if number in selected else a[i1:i2])
            position = i2
    out.extend(a[position:])
    return "".join(out)


def _line(prefix: str, text: str) -> str:
    if text.endswith("\n"):
        return f"{prefix}{text[:-1].removesuffix(chr(13))}\n"
    return f"{prefix}{text}\n{_NO_NEWLINE}"


def _range(start: int, length: int) -> str:
    # Same convention as GNU diff: an empty range names the line before it.
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def file_diff(old_path: str | None, new_path: str | None, old: str, new: str) -> str:
    """A git-style unified diff of one file (``None`` path = the file does not exist)."""
    a_name = f"a/{old_path}" if old_path is not None else "/dev/null"
    b_name = f"b/{new_path}" if new_path is not None else "/dev/null"
    header_old = old_path if old_path is not None else new_path
    header_new = new_path if new_path is not None else old_path
    out = [f"diff --git a/{header_old} b/{header_new}\n"]
    if old_path is None:
        out.append("new file mode 100644\n")
    elif new_path is None:
        out.append("deleted file mode 100644\n")
    elif old_path != new_path:
        out.append(f"rename from {old_path}\nrename to {new_path}\n")
    groups = hunk_groups(old, new)
    if not groups:
        return "".join(out)
    out.append(f"--- {a_name}\n+++ {b_name}\n")
    a, b = split_keepends(old), split_keepends(new)
    for group in groups:
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(_line(" ", line) for line in a[a1:a2])
                continue
            out.extend(_line("-", line) for line in a[a1:a2])
            out.extend(_line("+", line) for line in b[b1:b2])
    return "".join(out)


__all__ = ["file_diff", "hunk_groups", "merge_selected", "split_keepends"]
