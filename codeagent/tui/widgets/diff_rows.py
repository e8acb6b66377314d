"""Turn parsed diffs into display rows, and colour those rows with pygments.

The CPU-heavy half of the diff widget, kept free of widget state so it runs in worker threads:
``build_layout`` is quick and puts plain rows on screen at once; ``highlight_hunks`` (pygments,
about 1-2 ms a line) then colours them in batches chosen by ``next_batch``, the visible hunks
first. Each hunk is lexed as its old text and as its new text, so that multi-line strings and
comments are coloured as they are in the file on that side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.styles import get_style_by_name
from pygments.token import _TokenType
from pygments.util import ClassNotFound
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from codeagent.tui.widgets.diff_model import FileDiff, Hunk

RowKind = Literal[
    "file", "note", "hunk", "context", "added", "removed", "nonewline", "blank", "error", "raw"
]
TAB_SIZE = 4
# C0 controls (except tab, expanded earlier) and DEL become visible "control pictures" and C1
# controls a replacement mark: a diff must never be able to send escape sequences to the terminal.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def sanitize(text: str) -> str:
    """Expand tabs and make control characters visible and harmless."""

    def picture(match: re.Match[str]) -> str:
        code = ord(match.group())
        if code < 0x20:
            return chr(0x2400 + code)
        return "\u2421" if code == 0x7F else "\ufffd"

    return _CONTROL_RE.sub(picture, text.expandtabs(TAB_SIZE))


@dataclass(frozen=True)
class Row:
    """One display line. ``hunk`` is the global hunk index (across files) or ``None``."""

    kind: RowKind
    file_index: int
    hunk: int | None = None
    old_no: int | None = None
    new_no: int | None = None
    text: str = ""

    @property
    def cell_length(self) -> int:
        """Width of the row's code text in terminal cells."""
        return cell_len(self.text)


@dataclass(frozen=True)
class HunkRef:
    """Where a hunk lives: its file, its index inside the file and its first row."""

    file_index: int
    path: str
    index_in_file: int
    row: int
    end_row: int  # exclusive


@dataclass(frozen=True)
class DiffLayout:
    """The rows of one diff and where its files and hunks start (colours are separate)."""

    files: list[FileDiff]
    rows: list[Row]
    hunks: list[HunkRef]
    file_rows: list[int]
    max_width: int
    number_width: int = 3


@lru_cache(maxsize=64)
def _token_styles(style_name: str) -> dict[_TokenType, Style]:
    """A lazily filled token -> Rich style table for one pygments style."""
    return {}


def _style_for(style_name: str, token: _TokenType) -> Style:
    table = _token_styles(style_name)
    style = table.get(token)
    if style is None:
        spec = get_style_by_name(style_name).style_for_token(token)
        # Only the foreground and font attributes: backgrounds come from the diff line kind.
        style = Style(
            color=f"#{spec['color']}" if spec["color"] else None,
            bold=spec["bold"] or None,
            italic=spec["italic"] or None,
            underline=spec["underline"] or None,
        )
        table[token] = style
    return style


@lru_cache(maxsize=256)
def lexer_for(path: str) -> Lexer:
    """The pygments lexer for a file name, plain text when unknown."""
    options = {"stripnl": False, "ensurenl": True, "tabsize": 0}
    try:
        return get_lexer_for_filename(path, **options)
    except ClassNotFound:
        return TextLexer(**options)


def _highlight_lines(lines: list[str], lexer: Lexer, style_name: str) -> list[tuple[Segment, ...]]:
    """Lex ``lines`` as one text and split the tokens back into per-line segments."""
    result: list[list[Segment]] = [[] for _ in lines]
    if not lines:
        return []
    line = 0
    for token, value in lexer.get_tokens("\n".join(lines) + "\n"):
        style = _style_for(style_name, token)
        parts = value.split("\n")
        for n, part in enumerate(parts):
            if n:
                line += 1
            if part and line < len(result):
                result[line].append(Segment(part, style))
    return [tuple(segments) for segments in result]


def _hunk_rows(hunk: Hunk, file_index: int, hunk_index: int) -> Iterator[Row]:
    yield Row("hunk", file_index, hunk_index, text=sanitize(hunk.header))
    for line in hunk.lines:
        if line.kind == "note":
            yield Row("nonewline", file_index, hunk_index, text=f"\\ {sanitize(line.text)}")
        else:
            text = sanitize(line.text)
            yield Row(line.kind, file_index, hunk_index, line.old_no, line.new_no, text)


def build_layout(files: Iterable[FileDiff]) -> DiffLayout:
    """Lay out ``files`` as rows (fast; colours come later from ``highlight_hunks``)."""
    files = list(files)
    rows: list[Row] = []
    hunks: list[HunkRef] = []
    file_rows: list[int] = []
    for file_index, file in enumerate(files):
        if file_index:
            rows.append(Row("blank", file_index))
        file_rows.append(len(rows))
        rows.append(Row("file", file_index, text=sanitize(file.path)))
        for note in file.notes:
            rows.append(Row("note", file_index, text=sanitize(note)))
        for index_in_file, hunk in enumerate(file.hunks):
            start = len(rows)
            rows.extend(_hunk_rows(hunk, file_index, len(hunks)))
            hunks.append(HunkRef(file_index, file.path, index_in_file, start, len(rows)))
    max_width = max((row.cell_length for row in rows), default=0)
    biggest = max((max(r.old_no or 0, r.new_no or 0) for r in rows), default=0)
    return DiffLayout(files, rows, hunks, file_rows, max_width, max(3, len(str(biggest))))


def highlight_hunks(
    layout: DiffLayout, numbers: Iterable[int], style_name: str
) -> dict[int, tuple[Segment, ...]]:
    """Syntax colours for the code rows of the hunks ``numbers``: row index -> segments.

    Each hunk is lexed as its old text (context and removed lines) and its new text (context
    and added lines), so multi-line strings and comments are coloured as in the file; a side
    with no changed lines is skipped, which halves the work for new and deleted files.
    """
    result: dict[int, tuple[Segment, ...]] = {}
    for number in numbers:
        ref = layout.hunks[number]
        lexer = lexer_for(ref.path)
        rows = range(ref.row, ref.end_row)
        kinds = {layout.rows[i].kind for i in rows}
        sides = []
        if "removed" in kinds:
            sides.append(("context", "removed"))
        if "added" in kinds or "removed" not in kinds:
            sides.append(("context", "added"))  # last, so context lines take the new side
        for side in sides:
            ids = [i for i in rows if layout.rows[i].kind in side]
            texts = [layout.rows[i].text for i in ids]
            result.update(zip(ids, _highlight_lines(texts, lexer, style_name), strict=True))
    return result


def next_batch(
    layout: DiffLayout, first_row: int, done: set[int], batch_lines: int = 200
) -> list[int]:
    """The next hunks to colour: about ``batch_lines`` rows of hunks not in ``done``, starting
    with the one shown at ``first_row`` and going down (then wrapping to the top).

    The widget asks again after each batch with the current scroll position, so whatever the
    user is looking at is coloured next and a huge diff never holds the app up.
    """
    hunks = layout.hunks
    start = next((n for n, ref in enumerate(hunks) if ref.end_row > first_row), 0)
    batch: list[int] = []
    size = 0
    for number in [*range(start, len(hunks)), *range(start)]:
        if number in done:
            continue
        batch.append(number)
        size += hunks[number].end_row - hunks[number].row
        if size >= batch_lines:
            break
    return batch


_STATUS_LABELS = {
    "added": "new file",
    "deleted": "deleted",
    "renamed": "renamed",
    "binary": "binary",
}


def file_header_text(file: FileDiff, chosen: int) -> str:
    """The header line of a file: path, what happened to it, +/- counts and hunk selection."""
    parts = [f" {sanitize(file.path)}"]
    if file.status == "renamed" and file.old_path:
        parts.append(f"(from {sanitize(file.old_path)})")
    if label := _STATUS_LABELS.get(file.status):
        parts.append(f"[{label}]")
    total = len(file.hunks)
    if total:
        parts.append(f"+{file.added} -{file.removed}")
        noun = "hunk" if total == 1 else "hunks"
        parts.append(f"{total} {noun}" if chosen == total else f"{chosen}/{total} {noun} selected")
    return "  ".join(parts)


def error_layout(diff: str, error: Exception) -> DiffLayout:
    """A diff that could not be parsed: a clear error, then all of its text, nothing lost."""
    rows = [
        Row("error", 0, text="Could not parse this diff; it is shown below as plain text."),
        Row("error", 0, text=sanitize(str(error))),
    ]
    rows += [Row("raw", 0, text=sanitize(line)) for line in diff.split("\n")]
    return DiffLayout([], rows, [], [], max(r.cell_length for r in rows))
