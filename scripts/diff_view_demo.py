"""Look at a diff in ``DiffView`` by itself.

Usage: ``git diff | .venv/bin/python scripts/diff_view_demo.py``.
"""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.widgets import Footer

from codeagent.tui.themes import load_themes
from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH, DiffView


class DiffDemo(App[None]):
    """One DiffView and a footer, in the dark theme."""

    CSS_PATH = DIFF_CSS_PATH

    def compose(self) -> ComposeResult:
        # stdin only: the TUI never runs git itself (see docs/design.md)
        yield DiffView("" if sys.stdin.isatty() else sys.stdin.read())
        yield Footer()

    def on_mount(self) -> None:
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = "dark"


if __name__ == "__main__":
    DiffDemo().run()
