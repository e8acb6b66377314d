"""Parse unified diffs into files, hunks and lines for the diff widget.

Pure Python (no Textual, no pygments) so it can run in a worker thread and be tested alone.
Accepts what ``git diff`` and the patch tool print: several files, several hunks per file,
new and deleted files, renames, mode changes and binary notices. Anything that cannot be a
unified diff raises ``DiffParseError`` naming the line, so the widget can say what is wrong
instead of showing a half-parsed diff as if it were complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

LineKind = Literal["context", "added", "removed", "note"]
FileStatus = Literal["modified", "added", "deleted", "renamed", "binary"]

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_DEV_NULL = "/dev/null"
# Header lines git writes between "diff --git" and the first hunk; they carry no hunk content.
_EXTENDED_HEADERS = (
    "index ",
    "old mode ",
    "new mode ",
    "similarity index ",
    "dissimilarity index ",
    "copy from ",
    "copy to ",
)


class DiffParseError(ValueError):
    """The text is not a unified diff; ``line_no`` (1-based) points at the offending line."""

    def __init__(self, line_no: int, message: str):
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk; ``old_no``/``new_no`` are the line numbers on each side."""

    kind: LineKind
    text: str
    old_no: int | None = None
    new_no: int | None = None


@dataclass
class Hunk:
    """One ``@@`` block of a file."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str = ""
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def header(self) -> str:
        """The hunk header as git prints it."""
        text = f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"
        return f"{text} {self.section}" if self.section else text


@dataclass
class FileDiff:
    """All hunks of one file, plus what git says about the file itself."""

    path: str
    old_path: str | None = None
    status: FileStatus = "modified"
    hunks: list[Hunk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        """Number of added lines."""
        return sum(1 for h in self.hunks for line in h.lines if line.kind == "added")

    @property
    def removed(self) -> int:
        """Number of removed lines."""
        return sum(1 for h in self.hunks for line in h.lines if line.kind == "removed")


def _strip_prefix(path: str, prefix: str) -> str:
    # Git prefixes a/ and b/; the patch tool may print bare paths. A timestamp after a tab
    # (classic diff -u) is not part of the name.
    path = path.split("\t", 1)[0]
    return path[len(prefix) :] if path.startswith(prefix) else path


def _paths_from_git_line(line: str) -> tuple[str, str] | None:
    """Split ``diff --git a/X b/Y``; unambiguous only when X == Y or names lack " b/"."""
    rest = line[len("diff --git ") :]
    if rest.startswith("a/") and " b/" in rest:
        half = (len(rest) - 1) // 2
        if rest[half] == " " and rest[2:half] == rest[half + 3 :]:
            return rest[2:half], rest[half + 3 :]
        old, new = rest.split(" b/", 1)
        return old[2:], new
    return None


class _Parser:
    """A line-by-line state machine over one diff text."""

    def __init__(self, text: str, known_paths: set[str]):
        # Split on "\n" only: str.splitlines would also split on form feeds and other
        # separators that are legitimate inside source lines.
        self.lines = text.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.known = known_paths
        self.files: list[FileDiff] = []
        self.current: FileDiff | None = None
        self.i = 0

    def _name(self, raw: str, prefix: str) -> str:
        raw = raw.split("\t", 1)[0]
        return raw if raw in self.known else _strip_prefix(raw, prefix)

    def parse(self) -> list[FileDiff]:
        while self.i < len(self.lines):
            line = self.lines[self.i].removesuffix("\r")
            self.i += 1
            if line.startswith("diff --git "):
                self._start_git_file(line)
            elif line.startswith("--- ") and self._peek().startswith("+++ "):
                self._file_names(line, self._peek())
                self.i += 1
            elif line.startswith("@@ "):
                self._hunk(line)
            elif self.current is None:
                continue  # preamble (commit message, "Index:" lines): not part of any file
            elif line == "-- ":
                break  # signature that ends a format-patch mail
            else:
                self._file_header_line(line)
        if not self.files and any(line.strip() for line in self.lines):
            raise DiffParseError(1, "no file header (---/+++ or diff --git) found")
        return self.files

    def _peek(self) -> str:
        return self.lines[self.i].removesuffix("\r") if self.i < len(self.lines) else ""

    def _start_git_file(self, line: str) -> None:
        paths = _paths_from_git_line(line)
        old, new = paths if paths else (None, line[len("diff --git ") :])
        self.current = FileDiff(path=new, old_path=old if old != new else None)
        self.files.append(self.current)

    def _file_names(self, minus: str, plus: str) -> None:
        old_raw, new_raw = minus[4:].split("\t", 1)[0], plus[4:].split("\t", 1)[0]
        current = self.current
        if current is None or current.hunks or current.status == "binary":
            current = FileDiff(path="")
            self.files.append(current)
            self.current = current
        if new_raw == _DEV_NULL:
            current.path = self._name(old_raw, "a/")
            current.status = "deleted"
        elif old_raw == _DEV_NULL:
            current.path = self._name(new_raw, "b/")
            current.status = "added"
        else:
            current.path = self._name(new_raw, "b/")
            old = self._name(old_raw, "a/")
            if old != current.path:
                current.old_path = old
                current.status = "renamed"

    def _file_header_line(self, line: str) -> None:
        current = self.current
        assert current is not None
        if line.startswith("new file mode"):
            current.status = "added"
        elif line.startswith("deleted file mode"):
            current.status = "deleted"
        elif line.startswith("rename from "):
            current.old_path = line[len("rename from ") :]
            current.status = "renamed"
        elif line.startswith("rename to "):
            current.path = line[len("rename to ") :]
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            current.status = "binary"
            current.notes.append("binary file: contents not shown")
            if line == "GIT binary patch":
                self._skip_binary_payload()
        elif line.startswith(("old mode ", "new mode ")):
            current.notes.append(line)
        elif line.startswith(_EXTENDED_HEADERS) or not line.strip():
            pass
        else:
            raise DiffParseError(self.i, f"unexpected line outside a hunk: {line[:60]!r}")

    def _skip_binary_payload(self) -> None:
        while self.i < len(self.lines) and not self.lines[self.i].startswith("diff --git "):
            self.i += 1

    def _hunk(self, header: str) -> None:
        match = _HUNK_RE.match(header)
        if match is None:
            raise DiffParseError(self.i, f"malformed hunk header: {header[:60]!r}")
        if self.current is None:
            raise DiffParseError(self.i, "hunk before any file header")
        old_start, old_len, new_start, new_len, section = match.groups()
        hunk = Hunk(
            old_start=int(old_start),
            old_len=1 if old_len is None else int(old_len),
            new_start=int(new_start),
            new_len=1 if new_len is None else int(new_len),
            section=section,
        )
        start_line = self.i
        old_no, new_no = hunk.old_start, hunk.new_start
        old_left, new_left = hunk.old_len, hunk.new_len
        while old_left > 0 or new_left > 0 or self._peek().startswith("\\"):
            if self.i >= len(self.lines):
                break
            raw = self.lines[self.i].removesuffix("\r")
            marker, text = raw[:1], raw[1:]
            if marker == "\\":
                hunk.lines.append(DiffLine("note", raw[2:] if raw.startswith("\\ ") else text))
            elif marker in (" ", "") and old_left > 0 and new_left > 0:
                # An empty line stands for an empty context line (some tools strip the space).
                hunk.lines.append(DiffLine("context", text, old_no, new_no))
                old_no, new_no, old_left, new_left = (
                    old_no + 1,
                    new_no + 1,
                    old_left - 1,
                    new_left - 1,
                )
            elif marker == "-" and old_left > 0:
                hunk.lines.append(DiffLine("removed", text, old_no, None))
                old_no, old_left = old_no + 1, old_left - 1
            elif marker == "+" and new_left > 0:
                hunk.lines.append(DiffLine("added", text, None, new_no))
                new_no, new_left = new_no + 1, new_left - 1
            else:
                break
            self.i += 1
        if old_left or new_left:
            raise DiffParseError(
                start_line,
                f"hunk {hunk.header!r} is incomplete: {old_left} old and {new_left} new "
                "line(s) missing",
            )
        self.current.hunks.append(hunk)


def parse_unified_diff(text: str, known_paths: set[str] | None = None) -> list[FileDiff]:
    """Parse ``text`` into one ``FileDiff`` per file, in order.

    ``known_paths`` (e.g. the keys of an approval request's hunk counts) lets a path that
    really starts with ``a/`` or ``b/`` keep its name. Raises ``DiffParseError``.
    """
    return _Parser(text, known_paths or set()).parse()
