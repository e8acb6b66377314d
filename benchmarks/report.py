"""The benchmark report: sections of Markdown tables, rendered into one REPORT.md.

A measurement that cannot run still produces a section that says why, so the report never
silently drops anything.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """One Markdown table: a caption, column headers and rows of already formatted cells."""

    caption: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        """Append a row; each cell is converted with ``str``."""
        self.rows.append([str(c) for c in cells])

    def to_markdown(self) -> str:
        """The table as GitHub-flavoured Markdown, with its caption in bold above it."""
        lines = [f"**{self.caption}**", ""] if self.caption else []
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        for row in self.rows:
            padded = row + [""] * (len(self.headers) - len(row))
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in padded) + " |")
        return "\n".join(lines)


@dataclass
class Section:
    """One measurement's part of the report.

    ``method`` explains how the numbers were taken; ``skipped`` (when set) says why the
    measurement could not run, and is printed in place of missing tables.
    """

    key: str
    title: str
    method: str = ""
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0
    raw: str = ""
    #: (measure, value) pairs worth quoting; collected into the report's summary table.
    headlines: list[list[str]] = field(default_factory=list)

    def to_markdown(self) -> str:
        """The section as Markdown: heading, method, tables, notes, and the skip reason."""
        parts = [f"## {self.title}"]
        if self.method:
            parts.append(self.method.strip())
        parts.extend(t.to_markdown() for t in self.tables)
        if self.raw:
            parts.append(self.raw.strip())
        if self.notes:
            parts.append("\n".join(f"- {n}" for n in self.notes))
        if self.skipped:
            parts.append(f"**Not measured:** {self.skipped}")
        parts.append(f"_Section run time: {self.seconds:.1f} s._")
        return "\n\n".join(parts)


def render_report(title: str, header: str, sections: Sequence[Section]) -> str:
    """The whole report: a title, a header paragraph (machine, command) and every section."""
    body = [f"# {title}", header.strip()]
    summary = Table("Summary (details in the sections below)", ["section", "measure", "value"])
    for s in sections:
        for measure, value in s.headlines:
            summary.add(s.title.split(".", 1)[0], measure, value)
        if s.skipped:
            summary.add(s.title.split(".", 1)[0], s.title, "not measured (see the section)")
    body.append(summary.to_markdown())
    body.append("Contents: " + ", ".join(f"[{s.title}](#{anchor(s.title)})" for s in sections))
    body.extend(s.to_markdown() for s in sections)
    return "\n\n".join(body) + "\n"


def anchor(title: str) -> str:
    """GitHub's heading anchor for ``title`` (lower case, punctuation dropped, spaces to -)."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def ms(seconds: float | None) -> str:
    """Seconds formatted as milliseconds with one decimal, or "n/a"."""
    return "n/a" if seconds is None else f"{seconds * 1000:.1f}"


def secs(seconds: float | None) -> str:
    """Seconds with three decimals, or "n/a"."""
    return "n/a" if seconds is None else f"{seconds:.3f}"


def kib(nbytes: float | None) -> str:
    """Bytes as KiB with one decimal, or "n/a"."""
    return "n/a" if nbytes is None else f"{nbytes / 1024:.1f}"


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile (0-100) by linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None
