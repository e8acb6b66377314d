"""Folding the Markdown blocks of long answers that lie far out of view.

Textual's compositor places every displayed widget on each layout, on screen or not, and a
streamed answer needs a layout each time its last block grows. A long answer is many widgets
(about 1,100 for 20,000 tokens of paragraphs, lists, code and tables), so every frame of the
stream, and the key press waiting behind it, paid for the whole answer. ``refold`` hides runs
of top-level blocks more than a screen away from the view behind one ``BlockFold`` of exactly
their height (their margins included), so the scroll position and the scrollbar stay where they
are; it shows them again before they come near the view, and when the width changed (their
height then changes too). Nothing is re-parsed or re-rendered: folded blocks stay mounted, hidden.

Heights come from each widget's last layout (``Widget._size``) and the vertical layout's rule
(adjacent margins collapse to the larger), with no compositor look-ups, so a check costs a pass
over the answer's top-level blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

#: blocks within this many screens of the view stay shown (unfolded at half of it: hysteresis)
NEAR_SCREENS = 1.0
#: at most this many blocks behind one fold, so scrolling onto one shows a bounded amount
MAX_FOLD = 40
#: a run shorter than this is not worth a widget of its own (unless it extends a fold)
MIN_RUN = 4


class BlockFold(Widget):
    """Stands in for a run of hidden top-level Markdown blocks, taking up their space."""

    DEFAULT_CSS = "BlockFold { height: 0; }"

    def __init__(self, blocks: list[Widget], height: int, top: int, bottom: int, width: int):
        super().__init__()
        self.blocks = blocks
        self.span = height
        #: the answer's width when folded: the blocks' heights hold only at that width
        self.width_at_fold = width
        self.styles.height = height
        self.styles.margin = (top, 0, bottom, 0)


@dataclass
class Placed:
    """A widget's place in a vertical stack: top and bottom edges (margins excluded)."""

    widget: Widget
    top: int
    bottom: int


def _height(widget: Widget) -> int:
    return widget.span if isinstance(widget, BlockFold) else widget._size.height


def stacked(children: Iterable[Widget]) -> list[Placed]:
    """Where the displayed ``children`` sit in a vertical (or stream) layout, from their sizes at
    the last layout: the first child's top margin, then the larger of adjacent margins."""
    placed: list[Placed] = []
    y = 0
    previous: int | None = None
    for child in children:
        if not child.display:
            continue
        margin = child.styles.margin
        y += margin.top if previous is None else max(previous, margin.top)
        height = _height(child)
        placed.append(Placed(child, y, y + height))
        y += height
        previous = margin.bottom
    return placed


async def _unfold(fold: BlockFold) -> None:
    with fold.app.batch_update():  # the blocks and their fold never show together
        await fold.remove()
        for block in fold.blocks:
            block.display = True


async def _fold(markdown: Markdown, run: Sequence[Placed], width: int) -> None:
    """Hide ``run`` (consecutive items: blocks, and folds to merge) behind one new fold."""
    first, last = run[0].widget, run[-1].widget
    blocks: list[Widget] = []
    for item in run:
        if isinstance(item.widget, BlockFold):
            blocks += item.widget.blocks
        else:
            blocks.append(item.widget)
    fold = BlockFold(
        blocks,
        run[-1].bottom - run[0].top,
        first.styles.margin.top,
        last.styles.margin.bottom,
        width,
    )
    with markdown.app.batch_update():  # no frame shows the blocks and their fold together
        await markdown.mount(fold, before=first)
        for item in run:
            if isinstance(item.widget, BlockFold):
                await item.widget.remove()
            else:
                item.widget.display = False


def _runs(placed: list[Placed], far: list[bool]) -> list[list[Placed]]:
    """Maximal runs of far items, cut so that no fold holds more than ``MAX_FOLD`` blocks."""
    runs: list[list[Placed]] = []
    current: list[Placed] = []
    count = 0
    for item, is_far in zip(placed, far, strict=True):
        size = len(item.widget.blocks) if isinstance(item.widget, BlockFold) else 1
        if not is_far or count + size > MAX_FOLD:
            if current:
                runs.append(current)
            current, count = [], 0
        if is_far:
            current.append(item)
            count += size
    if current:
        runs.append(current)
    return runs


async def unfold_all(markdown: Markdown) -> None:
    """Show every folded block of ``markdown`` again."""
    async with markdown.lock:  # the lock Markdown's own update and append hold
        for fold in list(markdown.query_children(BlockFold)):
            await _unfold(fold)


async def refold(markdown: Markdown, top: int, view_top: int, view_bottom: int) -> None:
    """Fold ``markdown``'s blocks far from the view, unfold those near it.

    ``top`` is where the widget's content starts, and ``view_top``/``view_bottom`` the visible
    lines, all in the scrolling container's virtual lines. The last block (the one a stream
    still writes) never folds.
    """
    async with markdown.lock:  # not while Markdown's own update or append changes the blocks
        await _refold(markdown, top, view_top, view_bottom)


async def _refold(markdown: Markdown, top: int, view_top: int, view_bottom: int) -> None:
    width = markdown._size.width
    if not width:
        return
    reach = int((view_bottom - view_top) * NEAR_SCREENS) + 1
    children = list(markdown.children)
    placed = stacked(children)
    folds_changed = False
    for item in placed:
        fold = item.widget
        if isinstance(fold, BlockFold):
            near = (
                top + item.bottom >= view_top - reach // 2
                and top + item.top <= view_bottom + reach // 2
            )
            if near or fold.width_at_fold != width:
                await _unfold(fold)
                folds_changed = True
    if folds_changed:
        return  # the shown blocks get their sizes at the next layout; fold again after it
    blocks = [item for item in placed if isinstance(item.widget, (MarkdownBlock, BlockFold))]
    if len(blocks) < 2:
        return
    last = blocks[-1]
    far = [
        item is not last
        and (isinstance(item.widget, BlockFold) or item.widget._size.height > 0)  # laid out
        and (top + item.bottom < view_top - reach or top + item.top > view_bottom + reach)
        for item in blocks
    ]
    positions = {id(item.widget): index for index, item in enumerate(placed)}
    for run in _runs(blocks, far):
        indices = [positions[id(item.widget)] for item in run]
        if indices != list(range(indices[0], indices[-1] + 1)):
            continue  # something other than a block sits between them: leave it be
        has_fold = any(isinstance(item.widget, BlockFold) for item in run)
        new_blocks = sum(1 for item in run if not isinstance(item.widget, BlockFold))
        if new_blocks and (len(run) >= MIN_RUN or has_fold) and not (has_fold and len(run) == 1):
            await _fold(markdown, run, width)
