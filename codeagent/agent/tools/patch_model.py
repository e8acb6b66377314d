"""The parsed form of a patch: which files to add, update, move or delete, and how.

Both the V4A patch text (``*** Begin Patch`` ...) and the built-in ``apply_patch_call``
operations parse into these classes, so everything after parsing has one shape to deal with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


class PatchError(Exception):
    """A patch that cannot be parsed or applied. The message tells the model what to fix; it
    always ends by saying that nothing was changed, because nothing was."""

    def __init__(self, message: str, *, path: str | None = None):
        text = message.rstrip()
        if not text.endswith("Nothing was changed."):
            text = f"{text}\nNothing was changed."
        super().__init__(text)
        self.path = path


@dataclass
class Chunk:
    """One ``@@`` section of an update: anchors to find first, then lines to replace.

    ``lines`` holds ``(op, text)`` pairs with ``op`` one of ``' '`` (context), ``'-'`` (remove),
    ``'+'`` (add). ``eof`` means the section must match at the end of the file.
    """

    anchors: list[str] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    eof: bool = False

    @property
    def old_lines(self) -> list[str]:
        """The lines this chunk expects in the file (context and removed lines)."""
        return [text for op, text in self.lines if op != "+"]

    @property
    def new_lines(self) -> list[str]:
        """The lines this chunk leaves in their place (context and added lines)."""
        return [text for op, text in self.lines if op != "-"]


@dataclass
class FileOp:
    """One file operation of a patch."""

    kind: Literal["add", "update", "delete"]
    path: str
    content: str = ""  # add: the whole new file
    chunks: list[Chunk] = field(default_factory=list)  # update
    move_to: str | None = None  # update: rename the file too


@dataclass
class Patch:
    """A whole patch: file operations applied in order, all or none."""

    ops: list[FileOp]

    def title(self) -> str:
        """A one-line human summary such as ``Edit src/app.py`` or ``Edit 3 files``."""
        paths = {op.path for op in self.ops} | {op.move_to for op in self.ops if op.move_to}
        if len(paths) == 1:
            return f"Edit {next(iter(paths))}"
        return f"Edit {len(paths)} files"


__all__ = ["Chunk", "FileOp", "Patch", "PatchError"]
