"""Completion for the prompt: slash commands and ``@path`` fuzzy file names.

``fuzzy_rank`` is a small subsequence matcher (consecutive letters and matches at word starts
score higher); ``CompletionMenu`` is the popup list the prompt drives without taking focus.

Not ``textual.fuzzy.Matcher``: it scores every way the query's letters can sit in a path, which
grows exponentially with repeated letters, and ranking runs on the event loop at each key: on a
few thousand long paths a query such as ``@eeeeee`` froze the prompt for many seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

BOUNDARIES = "/_-. "


def fuzzy_score(query: str, candidate: str) -> int | None:
    """How well ``query`` matches ``candidate`` as a subsequence (higher is better), or None."""
    if not query:
        return 0
    lowered, score, position, previous = candidate.lower(), 0, 0, -2
    for char in query.lower():
        found = lowered.find(char, position)
        if found < 0:
            return None
        score += 1
        if found == previous + 1:
            score += 3  # consecutive letters
        if found == 0 or candidate[found - 1] in BOUNDARIES:
            score += 2  # start of a word or path segment
        previous, position = found, found + 1
    # prefer matches in the file name and shorter paths
    if query.lower() in Path(lowered).name:
        score += 5
    return score * 100 - len(candidate)


def fuzzy_rank(query: str, candidates: list[str], limit: int = 10) -> list[str]:
    """The best ``limit`` candidates for ``query``, best first."""
    scored = [(fuzzy_score(query, c), c) for c in candidates]
    ranked = sorted(((s, c) for s, c in scored if s is not None), key=lambda sc: (-sc[0], sc[1]))
    return [c for _, c in ranked[:limit]]


@dataclass(frozen=True)
class Completion:
    """Replace ``text[start:end]`` with ``replacement`` when accepted."""

    start: int
    end: int
    replacement: str


class CompletionMenu(OptionList):
    """The popup list; the prompt keeps focus and moves the highlight."""

    can_focus = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.completions: list[Completion] = []

    def on_mount(self) -> None:
        self.display = False

    def show(self, entries: list[tuple[Text, Completion]]) -> None:
        """Show ``(label, completion)`` entries, or hide when there are none."""
        self.clear_options()
        self.completions = [completion for _, completion in entries]
        self.add_options([Option(label) for label, _ in entries])
        self.display = bool(entries)
        if entries:
            self.highlighted = 0

    def hide(self) -> None:
        self.completions = []
        self.clear_options()
        self.display = False

    @property
    def is_open(self) -> bool:
        return bool(self.display and self.completions)

    def move(self, step: int) -> None:
        if self.completions:
            current = self.highlighted or 0
            self.highlighted = (current + step) % len(self.completions)

    @property
    def current(self) -> Completion | None:
        if not self.is_open or self.highlighted is None:
            return None
        return self.completions[self.highlighted]
