"""Keep the head and the tail of a command's output when it is too long for the model.

The buffer never holds more than the cap, however much a command prints, and the text it
returns says how much was left out and where.
"""

from __future__ import annotations


class HeadTailBuffer:
    """Collects bytes, keeping the first ``limit // 2`` and the last ``limit - limit // 2``."""

    def __init__(self, limit: int):
        self.limit = max(0, limit)
        self.head_limit = self.limit // 2
        self.tail_limit = self.limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        """Add ``data``; only the bytes that may still be shown are kept."""
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data and self.tail_limit:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        """The kept output as text, with a marker where bytes were dropped."""
        if not self.truncated:
            return (bytes(self.head) + bytes(self.tail)).decode("utf-8", errors="replace")
        omitted = self.total - len(self.head) - len(self.tail)
        head = bytes(self.head).decode("utf-8", errors="replace")
        tail = bytes(self.tail).decode("utf-8", errors="replace")
        return f"{head}\n[... {omitted} bytes of output omitted ...]\n{tail}"


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to head and tail like ``HeadTailBuffer`` (for text already in memory)."""
    buffer = HeadTailBuffer(limit)
    buffer.feed(text.encode("utf-8"))
    return buffer.text(), buffer.truncated


__all__ = ["HeadTailBuffer", "cap_text"]
