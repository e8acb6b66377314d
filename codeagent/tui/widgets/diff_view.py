"""``DiffView``: a syntax-highlighted unified diff with hunk navigation and hunk selection.

Our own widget (the textual-diff-view package is AGPL). It uses Textual's line API: parsing runs
in a worker thread before anything is drawn, pygments colours follow in background batches (the
visible hunks first), and ``render_line`` only crops and styles prepared segments, so a diff of
many thousands of lines scrolls as fast as a short one (a Static per hunk was an order of
magnitude slower to show and to scroll). Syntax colours come from the pygments style of the
current app theme (``themes.syntax_style_for``) and are redone when the theme changes; line
backgrounds, gutters and headers are component classes styled with theme variables in
``diff.tcss``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from codeagent.tui.themes import syntax_style_for
from codeagent.tui.widgets.diff_model import DiffParseError, parse_unified_diff
from codeagent.tui.widgets.diff_rows import (
    DiffLayout,
    Row,
    build_layout,
    error_layout,
    file_header_text,
    highlight_hunks,
    next_batch,
    sanitize,
)

DIFF_CSS_PATH = Path(__file__).with_name("diff.tcss")
"""Styles for DiffView and ApprovalPanel; apps add this to their ``CSS_PATH``."""

_SIGNS = {"added": "+", "removed": "-", "context": " "}


def _prepare(diff: str, hunk_counts: dict[str, int] | None) -> DiffLayout:
    """Parse and lay out (runs in a worker thread)."""
    return build_layout(parse_unified_diff(diff, set(hunk_counts or ())))


class DiffView(ScrollView, can_focus=True):
    """A unified diff, one file after another, highlighted by each file's language.

    ``j``/``k`` move between hunks (the current hunk is marked in the gutter), ``space`` toggles
    whether the current hunk is selected; ``selected_hunks`` reports the choice per file. With
    ``selectable=False`` (a read-only review such as ``/diff``) there is nothing to choose: no
    tick boxes, no ``space``.
    """

    COMPONENT_CLASSES = {
        "diff-view--file-header",
        "diff-view--note",
        "diff-view--error",
        "diff-view--hunk-header",
        "diff-view--hunk-header-current",
        "diff-view--added",
        "diff-view--removed",
        "diff-view--context",
        "diff-view--gutter",
        "diff-view--gutter-added",
        "diff-view--gutter-removed",
        "diff-view--marker",
        "diff-view--skipped",
    }
    BINDINGS = [
        Binding("j", "next_hunk", "Next", id="diff.next_hunk", tooltip="next hunk"),
        Binding("k", "prev_hunk", "Prev", id="diff.prev_hunk", tooltip="previous hunk"),
        Binding(
            "space",
            "toggle_hunk",
            "Toggle",
            id="diff.toggle_hunk",
            tooltip="select or leave out this hunk",
        ),
    ]

    current_hunk: reactive[int] = reactive(0, always_update=True)

    class Prepared(Message):
        """The diff has been parsed and its rows are on screen; syntax colours follow."""

        def __init__(self, diff_view: DiffView, error: str | None = None):
            super().__init__()
            self.diff_view = diff_view
            self.error = error

        @property
        def control(self) -> DiffView:
            return self.diff_view

    class HunkToggled(Message):
        """The user selected or deselected a hunk."""

        def __init__(self, diff_view: DiffView, path: str, index: int, selected: bool):
            super().__init__()
            self.diff_view = diff_view
            self.path = path
            self.index = index
            self.selected = selected

        @property
        def control(self) -> DiffView:
            return self.diff_view

    def __init__(
        self,
        diff: str = "",
        *,
        hunk_counts: dict[str, int] | None = None,
        selectable: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ):
        super().__init__(name=name, id=id, classes=classes)
        self._diff = diff
        self._hunk_counts = dict(hunk_counts) if hunk_counts else None
        self.selectable = selectable
        self._layout: DiffLayout | None = None
        self._skipped: set[int] = set()
        self._style_name = ""
        # Row index -> syntax-coloured segments for the current style; ``_old_segments`` keeps
        # the previous style's colours on screen until the new ones are ready (no flash).
        self._segments: dict[int, tuple[Segment, ...]] = {}
        self._old_segments: dict[int, tuple[Segment, ...]] = {}
        # Hunk numbers coloured so far, for ``_coloured_layout`` in the current style.
        self._coloured: set[int] = set()
        self._coloured_layout: DiffLayout | None = None
        # Files whose hunks cannot be picked singly (see ``action_toggle_hunk``).
        self._whole_files: set[str] = set()
        self._cache: LRUCache[tuple, Strip] = LRUCache(1024)
        self.error: str | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def diff(self) -> str:
        """The diff text shown."""
        return self._diff

    @property
    def prepared(self) -> bool:
        """True once the current diff has been parsed and laid out (colours may still follow)."""
        return self._layout is not None

    @property
    def hunk_count(self) -> int:
        """Number of hunks over all files (0 until prepared)."""
        return len(self._layout.hunks) if self._layout else 0

    def set_diff(self, diff: str, hunk_counts: dict[str, int] | None = None) -> None:
        """Show another diff; every hunk starts selected."""
        self._diff = diff
        self._hunk_counts = dict(hunk_counts) if hunk_counts else None
        self._skipped.clear()
        self._layout = None
        self._segments, self._old_segments = {}, {}
        self.current_hunk = 0
        if self.is_mounted:
            self._rebuild(reset_scroll=True)

    @property
    def selected_hunks(self) -> dict[str, set[int]]:
        """Per file path, the 0-based indexes of the selected hunks (files with hunks only)."""
        if self._layout is None or self.error:
            return {path: set(range(n)) for path, n in (self._hunk_counts or {}).items()}
        counts = self._hunk_counts or {}
        selected: dict[str, set[int]] = {}
        for number, ref in enumerate(self._layout.hunks):
            chosen = selected.setdefault(ref.path, set())
            if number not in self._skipped:
                chosen.add(ref.index_in_file)
        for path in self._whole_files & set(selected):
            # Hunks that cannot be picked singly: always the whole file, as the patch counts it.
            selected[path] = set(range(counts.get(path, len(selected[path]))))
        return selected

    @property
    def all_selected(self) -> bool:
        """True when no hunk has been deselected."""
        return not self._skipped

    # -- preparation ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self._rebuild(reset_scroll=True)

    def _theme_changed(self, _theme: str) -> None:
        self._cache.clear()
        if syntax_style_for(self.app.theme) != self._style_name:
            self._rebuild(reset_scroll=False)

    def notify_style_update(self) -> None:
        # Component styles (theme variables) changed: cached strips carry the old colours.
        self._cache.clear()
        super().notify_style_update()

    def _rebuild(self, *, reset_scroll: bool) -> None:
        # Re-parse only for a new diff; a theme change keeps the layout and re-colours it.
        layout = None if reset_scroll else self._layout
        style = syntax_style_for(self.app.theme)
        self._prepare_worker(self._diff, self._hunk_counts, style, layout)
        if reset_scroll:
            self.scroll_to(0, 0, animate=False, immediate=True)

    @work(exclusive=True, group="diff-prepare", exit_on_error=False, description="highlight diff")
    async def _prepare_worker(
        self,
        diff: str,
        hunk_counts: dict[str, int] | None,
        style: str,
        layout: DiffLayout | None,
    ) -> None:
        """Parse off the message loop, show the rows, then colour them batch by batch."""
        if layout is None:
            error: str | None = None
            try:
                layout = await asyncio.to_thread(_prepare, diff, hunk_counts)
            except DiffParseError as exc:
                error = str(exc)
                layout = error_layout(diff, exc)
            self._apply_layout(layout, error)
        if style != self._style_name:
            self._old_segments = {**self._old_segments, **self._segments}
            self._segments = {}
            self._coloured = set()
            self._style_name = style
        done: set[int] = set() if layout is not self._coloured_layout else self._coloured
        self._coloured_layout, self._coloured = layout, done
        while batch := next_batch(layout, self.scroll_offset.y, done):
            colours = await asyncio.to_thread(highlight_hunks, layout, batch, style)
            self._segments.update(colours)
            done.update(batch)
            self._cache.clear()
            self.refresh()
        self._old_segments = {}

    def _apply_layout(self, layout: DiffLayout, error: str | None) -> None:
        self._layout = layout
        self.error = error
        counts = self._hunk_counts
        self._whole_files = {
            file.path
            for file in layout.files
            if counts is not None and counts.get(file.path) != len(file.hunks)
        }
        self._cache.clear()
        self.virtual_size = Size(self._gutter_width() + layout.max_width + 1, len(layout.rows))
        if layout.hunks:
            self.current_hunk = min(self.current_hunk, len(layout.hunks) - 1)
        self.refresh()
        self.refresh_bindings()  # the hunk keys work only when there are hunks
        self.post_message(self.Prepared(self, error))

    # -- navigation and selection ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_hunk" and not self.selectable:
            return False
        if action in ("next_hunk", "prev_hunk", "toggle_hunk"):
            return True if self.hunk_count else None
        return True

    def action_next_hunk(self) -> None:
        """Move to the next hunk (stays on the last one)."""
        if self.hunk_count:
            self.current_hunk = min(self.current_hunk + 1, self.hunk_count - 1)
            self._show_current()

    def action_prev_hunk(self) -> None:
        """Move to the previous hunk."""
        if self.hunk_count:
            self.current_hunk = max(self.current_hunk - 1, 0)
            self._show_current()

    def action_toggle_hunk(self) -> None:
        """Select or deselect the current hunk."""
        if not self.selectable or not self.hunk_count or self._layout is None:
            return
        number = self.current_hunk
        ref = self._layout.hunks[number]
        if ref.path in self._whole_files:
            # The diff's hunks do not match the patch's own hunks for this file, so a pick
            # could apply the wrong change: only the whole file can be approved or rejected.
            self.notify(
                f"The hunks of {sanitize(ref.path)} cannot be picked one by one.",
                severity="warning",
                markup=False,  # a path may contain [brackets]
            )
            self.app.bell()
            return
        selected = number in self._skipped
        if selected:
            self._skipped.discard(number)
        else:
            self._skipped.add(number)
        self._cache.clear()
        self.refresh()
        self.post_message(self.HunkToggled(self, ref.path, ref.index_in_file, selected))

    def focus_on_click(self) -> bool:
        # Called on mouse-down, before focus moves here: remember that this click only focuses
        # (a click that brings focus to a waiting approval must not also toggle a hunk).
        self._focusing_click = not self.has_focus
        return True

    def on_click(self, event: events.Click) -> None:
        """A click makes its hunk current; a click on a hunk header also toggles it."""
        if getattr(self, "_focusing_click", False):
            self._focusing_click = False
            return
        offset = event.get_content_offset(self)
        if offset is None or self._layout is None:
            return
        index = offset.y + self.scroll_offset.y
        if not 0 <= index < len(self._layout.rows):
            return
        row = self._layout.rows[index]
        if row.hunk is not None:
            self.current_hunk = row.hunk
            if row.kind == "hunk":
                self.action_toggle_hunk()

    def watch_current_hunk(self) -> None:
        self._cache.clear()
        self.refresh()

    def _show_current(self) -> None:
        assert self._layout is not None
        ref = self._layout.hunks[self.current_hunk]
        height = min(ref.end_row - ref.row, max(self.scrollable_content_region.height, 1))
        # Keep the file header in view when moving to a file's first hunk.
        top = ref.row - 1 if ref.index_in_file == 0 and ref.row > 0 else ref.row
        self.scroll_to_region(
            Region(0, top, 1, height + ref.row - top), animate=False, immediate=True
        )

    # -- rendering ------------------------------------------------------------------------------

    def _gutter_width(self) -> int:
        return 1 + 2 * self._number_width() + 4

    def _number_width(self) -> int:
        return self._layout.number_width if self._layout else 3

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        layout = self._layout
        if layout is None:
            return Strip.blank(width, self.rich_style)
        if not layout.rows:
            if y == 0:
                note = self.get_component_rich_style("diff-view--note")
                return Strip([Segment(" No changes.", note)]).adjust_cell_length(width, note)
            return Strip.blank(width, self.rich_style)
        if index >= len(layout.rows):
            return Strip.blank(width, self.rich_style)
        row = layout.rows[index]
        current = row.hunk is not None and row.hunk == self.current_hunk
        skipped = row.hunk in self._skipped
        key = (index, scroll_x, width, current, skipped, self.has_focus)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(index, row, scroll_x, width, current, skipped)
            self._cache[key] = strip
        return strip

    def _render_row(
        self, row_index: int, row: Row, scroll_x: int, width: int, current: bool, skip: bool
    ) -> Strip:
        style = self.get_component_rich_style
        if row.kind == "file":
            return self._file_header(row, width)
        if row.kind in ("note", "error"):
            line_style = style(f"diff-view--{row.kind}")
            return Strip([Segment(f" {row.text}", line_style)]).adjust_cell_length(
                width, line_style
            )
        if row.kind == "blank":
            return Strip.blank(width, self.rich_style)
        if row.kind == "raw":
            code = Strip([Segment(row.text)]).crop_extend(scroll_x, scroll_x + width, None)
            return code.apply_style(style("diff-view--context"))
        marker = Segment("▌" if current else " ", style("diff-view--marker"))
        if row.kind == "hunk":
            kind = "diff-view--hunk-header-current" if current else "diff-view--hunk-header"
            line_style = style(kind) + (style("diff-view--skipped") if skip else Style())
            tick = ("[ ] skipped " if skip else "[x] ") if self.selectable else ""
            text = f" {tick}{row.text}"
            return Strip([marker, Segment(text, line_style)]).adjust_cell_length(width, line_style)
        digits = self._number_width()
        kind_style = style(f"diff-view--{row.kind}") if row.kind in _SIGNS else Style()
        gutter_kind = f"diff-view--gutter-{row.kind}" if row.kind in ("added", "removed") else ""
        gutter_style = style("diff-view--gutter") + (style(gutter_kind) if gutter_kind else Style())
        if skip:
            kind_style += style("diff-view--skipped")
            gutter_style += style("diff-view--skipped")
        old = str(row.old_no) if row.old_no is not None else ""
        new = str(row.new_no) if row.new_no is not None else ""
        sign = _SIGNS.get(row.kind, " ")
        gutter = Segment(f"{old:>{digits}} {new:>{digits}} {sign} ", gutter_style)
        code_width = max(width - self._gutter_width(), 0)
        if row.kind == "nonewline":
            segments: list[Segment] = [Segment(row.text, style("diff-view--note"))]
        else:
            index = row_index
            found = self._segments.get(index) or self._old_segments.get(index)
            segments = list(found) if found else [Segment(row.text)]
        code = Strip(segments).crop_extend(scroll_x, scroll_x + code_width, None)
        code = code.apply_style(kind_style)
        return Strip.join([Strip([marker, gutter]), code])

    def _file_header(self, row: Row, width: int) -> Strip:
        assert self._layout is not None
        header_style = self.get_component_rich_style("diff-view--file-header")
        file = self._layout.files[row.file_index]
        hunks = enumerate(self._layout.hunks)
        numbers = [n for n, ref in hunks if ref.file_index == row.file_index]
        chosen = sum(1 for n in numbers if n not in self._skipped)
        text = file_header_text(file, chosen)
        return Strip([Segment(text, header_style)]).adjust_cell_length(width, header_style)
