"""A tiny, strict V4A ``update_file`` applier for checking that demo patches apply exactly
(context must match the file exactly, and only once after its anchor)."""

from __future__ import annotations


def apply_update(original: str, diff: str) -> str:
    """Apply a V4A update diff to ``original``; raise ``ValueError`` if any hunk does not fit."""
    lines = original.split("\n")
    hunks: list[tuple[str | None, list[str], list[str]]] = []
    for raw in diff.rstrip("\n").split("\n"):
        if raw.startswith("@@"):
            hunks.append((raw[2:].strip() or None, [], []))
            continue
        if not hunks:
            raise ValueError(f"diff line before the first @@: {raw!r}")
        _, old, new = hunks[-1]
        marker, body = raw[:1], raw[1:]
        if marker == " ":
            old.append(body)
            new.append(body)
        elif marker == "-":
            old.append(body)
        elif marker == "+":
            new.append(body)
        else:
            raise ValueError(f"bad diff line {raw!r}")
    position = 0
    for anchor, old, new in hunks:
        if anchor is not None:
            position = lines.index(anchor, position) + 1
        matches = [
            i for i in range(position, len(lines) - len(old) + 1) if lines[i : i + len(old)] == old
        ]
        if len(matches) != 1:
            raise ValueError(f"hunk after {anchor!r} matches {len(matches)} places")
        start = matches[0]
        lines[start : start + len(old)] = new
        position = start + len(new)
    return "\n".join(lines)
