"""Apply the ``@@`` sections of an update to a file's text.

Context is found exactly first, then ignoring trailing whitespace, then ignoring surrounding
whitespace, then also treating typographic quotes and dashes as their ASCII forms: the model
often gets whitespace or punctuation slightly wrong, and a near match is still unambiguous
because sections are searched in file order from where the previous one ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codeagent.agent.tools.patch_model import Chunk, PatchError

_TYPOGRAPHIC = str.maketrans(
    {
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": '"',
        "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    }
)  # fmt: skip

_NORMALIZERS: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.strip().translate(_TYPOGRAPHIC),
)


def seek(lines: list[str], pattern: list[str], start: int, *, eof: bool = False) -> int | None:
    """The first index >= ``start`` where ``pattern`` occurs in ``lines``, trying each level of
    tolerance in turn; with ``eof`` a match at the very end of the file is preferred."""
    if not pattern:
        return start
    last = len(lines) - len(pattern)
    if last < start:
        return None
    for normalize in _NORMALIZERS:
        wanted = [normalize(line) for line in pattern]
        candidates: Sequence[int] = range(start, last + 1)
        if eof:
            candidates = [last, *candidates]
        for index in candidates:
            if all(normalize(lines[index + k]) == wanted[k] for k in range(len(pattern))):
                return index
    return None


def _quote(lines: list[str], limit: int = 8) -> str:
    shown = [f"    {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return "\n".join(shown)


def apply_chunks(text: str, chunks: list[Chunk], path: str) -> str:
    """``text`` with every chunk applied; raises ``PatchError`` naming the section that failed.

    Line ends (``\\n`` or ``\\r\\n``) are kept; the result always ends with a line end.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cursor = 0
    edits: list[tuple[int, int, list[str]]] = []
    total = len(chunks)
    for number, chunk in enumerate(chunks, 1):
        where = f"{path} (section {number} of {total})"
        for anchor in chunk.anchors:
            found = seek(lines, [anchor], cursor)
            if found is None:
                raise PatchError(
                    f"{where}: could not find the '@@ {anchor}' line"
                    f"{_earlier_hint(lines, [anchor], cursor)}. Read the file again and copy "
                    "the @@ line exactly.",
                    path=path,
                )
            cursor = found + 1
        old = chunk.old_lines
        if not old:
            at = len(lines) if (chunk.eof or not chunk.anchors) else cursor
            edits.append((at, 0, chunk.new_lines))
            cursor = at
            continue
        found = seek(lines, old, cursor, eof=chunk.eof)
        if found is None:
            place = " at the end of the file" if chunk.eof else ""
            raise PatchError(
                f"{where}: could not find these lines{place} (searched from line {cursor + 1}):\n"
                f"{_quote(old)}{_earlier_hint(lines, old, cursor)}"
                f"{_closest_hint(lines, old, cursor)}\n"
                "Read the file again and resend the patch with context and '-' lines copied "
                "exactly from it.",
                path=path,
            )
        edits.append((found, len(old), _replacement(chunk, lines[found : found + len(old)])))
        cursor = found + len(old)
    for at, length, new in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[at : at + length] = new
    return "".join(f"{line}{newline}" for line in lines)


def _replacement(chunk: Chunk, matched: list[str]) -> list[str]:
    """The new lines of ``chunk``, keeping the file's own text for context lines (which may
    differ from the patch in whitespace when matched tolerantly)."""
    out: list[str] = []
    k = 0
    for op, text in chunk.lines:
        if op == " ":
            out.append(matched[k])
            k += 1
        elif op == "-":
            k += 1
        else:
            out.append(text)
    return out


def _closest_hint(lines: list[str], pattern: list[str], start: int) -> str:
    """Where the longest run of the expected lines does match, and the first line that
    differs there, so the model can see what to correct."""
    loose = _NORMALIZERS[-1]
    wanted = [loose(line) for line in pattern]
    best_at, best_len = -1, 0
    for index in range(start, len(lines)):
        length = 0
        while (
            length < len(wanted)
            and index + length < len(lines)
            and loose(lines[index + length]) == wanted[length]
        ):
            length += 1
        if length > best_len:
            best_at, best_len = index, length
    if best_len == 0:
        return ""
    where = best_at + best_len
    if where >= len(lines):
        found = f"the file ends after line {len(lines)}"
    else:
        found = f"line {where + 1} of the file is {lines[where]!r}"
    return (
        f"\nThe closest match starts at line {best_at + 1}, but there {found} where the patch "
        f"expects {pattern[best_len]!r}."
    )


def _earlier_hint(lines: list[str], pattern: list[str], cursor: int) -> str:
    if cursor == 0:
        return ""
    found = seek(lines, pattern, 0)
    if found is not None and found < cursor:
        return (
            f"\n(they appear earlier, at line {found + 1}: sections must be in file order and "
            "must not overlap)"
        )
    return ""


__all__ = ["apply_chunks", "seek"]
