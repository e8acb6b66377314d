"""Parse the V4A patch language (Codex's ``apply_patch``) and the built-in tool's operations.

The parser is lenient where the intent is unambiguous (markers padded with whitespace, a missing
``@@`` before the first section, blank lines at the end of a section, CRLF line ends) and strict
where a guess could write the wrong thing; every error names the line and what was expected.
"""

from __future__ import annotations

from typing import Any

from codeagent.agent.tools.patch_model import Chunk, FileOp, Patch, PatchError

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File:"
UPDATE = "*** Update File:"
DELETE = "*** Delete File:"
MOVE = "*** Move to:"
EOF_MARKER = "*** End of File"
_FILE_MARKERS = (ADD, UPDATE, DELETE)


def _split_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _marker(line: str) -> str | None:
    """The file marker that starts ``line`` (padding allowed), or None."""
    stripped = line.strip()
    for marker in (*_FILE_MARKERS, END):
        if stripped.startswith(marker):
            return marker
    return None


def _strip_heredoc(lines: list[str]) -> list[str]:
    """Accept a patch wrapped in ``apply_patch <<'EOF' ... EOF`` as models sometimes send it."""
    if len(lines) >= 2 and lines[0].strip().startswith("apply_patch") and "<<" in lines[0]:
        tag = lines[0].split("<<", 1)[1].strip().strip("'\"")
        if lines[-1].strip() == tag:
            return lines[1:-1]
    return lines


def parse_patch(text: str) -> Patch:
    """Parse a whole ``*** Begin Patch`` ... ``*** End Patch`` text; raises ``PatchError``."""
    if not isinstance(text, str):
        raise PatchError("the patch must be a text")
    lines = _strip_heredoc(_split_lines(text.strip("\n")))
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise PatchError("the patch is empty; it must start with '*** Begin Patch'")
    if lines[0].strip() != BEGIN:
        raise PatchError(f"the first line must be '{BEGIN}', found {lines[0]!r}")
    if lines[-1].strip() != END:
        raise PatchError(f"the last line must be '{END}', found {lines[-1]!r}")
    body = lines[1:-1]
    ops: list[FileOp] = []
    index = 0
    while index < len(body):
        line = body[index]
        marker = _marker(line)
        if marker is None:
            if not line.strip():
                index += 1
                continue
            raise PatchError(
                f"line {index + 2}: expected '{ADD} <path>', '{UPDATE} <path>' or "
                f"'{DELETE} <path>', found {line!r}"
            )
        if marker == END:
            raise PatchError(f"line {index + 2}: '{END}' before the end of the patch")
        path = line.strip()[len(marker) :].strip()
        if not path:
            raise PatchError(f"line {index + 2}: {marker} needs a path")
        start = index + 1
        index = start
        while index < len(body) and _marker(body[index]) is None:
            index += 1
        section = body[start:index]
        ops.append(_parse_file_section(marker, path, section, first_line=start + 2))
    if not ops:
        raise PatchError("the patch has no file operations")
    return Patch(ops)


def _parse_file_section(marker: str, path: str, section: list[str], first_line: int) -> FileOp:
    if marker == ADD:
        return FileOp("add", path, content=_added_content(section, path, first_line))
    if marker == DELETE:
        extra = [line for line in section if line.strip()]
        if extra:
            raise PatchError(
                f"{DELETE} {path} must not be followed by lines, found {extra[0]!r}", path=path
            )
        return FileOp("delete", path)
    move_to = None
    if section and section[0].strip().startswith(MOVE):
        move_to = section[0].strip()[len(MOVE) :].strip()
        if not move_to:
            raise PatchError(f"line {first_line}: {MOVE} needs a path", path=path)
        section = section[1:]
        first_line += 1
    chunks = parse_update_body(section, path, first_line=first_line)
    if not chunks and move_to is None:
        raise PatchError(f"{UPDATE} {path} has no changes", path=path)
    return FileOp("update", path, chunks=chunks, move_to=move_to)


def _added_content(section: list[str], path: str, first_line: int) -> str:
    while section and not section[-1].strip():
        section = section[:-1]
    out = []
    for offset, line in enumerate(section):
        if not line.startswith("+"):
            raise PatchError(
                f"line {first_line + offset}: every line of a new file ({path}) must start "
                f"with '+', found {line!r}",
                path=path,
            )
        out.append(line[1:])
    return "".join(f"{line}\n" for line in out)


def parse_update_body(lines: list[str], path: str, *, first_line: int = 1) -> list[Chunk]:
    """Parse the ``@@`` sections of one file's update (also the built-in tool's ``diff``)."""
    chunks: list[Chunk] = []
    pending: list[str] = []
    current: Chunk | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            while current.lines and current.lines[-1] == (" ", ""):
                # A blank line ending a section is almost always spacing, not context.
                current.lines.pop()
            if current.lines:
                chunks.append(current)
            current = None

    for offset, line in enumerate(lines):
        number = first_line + offset
        if line.strip() == EOF_MARKER:
            if current is None:
                raise PatchError(
                    f"line {number}: '{EOF_MARKER}' without lines before it", path=path
                )
            current.eof = True
            close()
        elif line.startswith("@@"):
            if current is not None and current.lines:
                close()
            anchor = line[2:].strip()
            if anchor.endswith("@@") and anchor.startswith("-"):
                # A unified-diff header (@@ -1,3 +1,3 @@) carries no anchor text.
                anchor = ""
            if anchor:
                (current.anchors if current is not None else pending).append(anchor)
        elif line[:1] in (" ", "-", "+") or line == "":
            if current is None:
                current = Chunk(anchors=pending)
                pending = []
            current.lines.append((line[:1] or " ", line[1:]))
        else:
            raise PatchError(
                f"line {number}: in the update of {path}, lines must start with ' ' (context), "
                f"'-' (remove) or '+' (add), or be an '@@' section header; found {line!r}",
                path=path,
            )
    close()
    if pending:
        raise PatchError(f"the section '@@ {pending[-1]}' in {path} has no lines", path=path)
    for number, chunk in enumerate(chunks, 1):
        if all(op == " " for op, _ in chunk.lines):
            raise PatchError(
                f"section {number} of the update of {path} has only context lines and changes "
                "nothing",
                path=path,
            )
    return chunks


def patch_from_operation(op: dict[str, Any]) -> Patch:
    """The ``Patch`` of a built-in ``apply_patch_call`` operation (``create_file``,
    ``update_file`` or ``delete_file``)."""
    if not isinstance(op, dict):
        raise PatchError("the apply_patch operation must be an object")
    kind = op.get("type")
    path = op.get("path")
    if not isinstance(path, str) or not path.strip():
        raise PatchError(f"the {kind or 'apply_patch'} operation needs a 'path'")
    path = path.strip()
    diff = op.get("diff") or ""
    if not isinstance(diff, str):
        raise PatchError(f"the 'diff' of the {kind} operation on {path} must be a text", path=path)
    if kind == "create_file":
        return Patch([FileOp("add", path, content=_added_content(_split_lines(diff), path, 1))])
    if kind == "update_file":
        chunks = parse_update_body(_split_lines(diff), path)
        if not chunks:
            raise PatchError(f"the update_file operation on {path} has no changes", path=path)
        return Patch([FileOp("update", path, chunks=chunks)])
    if kind == "delete_file":
        return Patch([FileOp("delete", path)])
    raise PatchError(
        f"unknown apply_patch operation type {kind!r}; expected create_file, update_file or "
        "delete_file"
    )


__all__ = ["parse_patch", "parse_update_body", "patch_from_operation"]
