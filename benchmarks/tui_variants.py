"""The two streaming paths the TUI benchmark compares, and what it records of a frame.

``variant("shipped")`` leaves the app as it is. ``variant("before")`` puts back, inside this
process only, the path the paint-latency work of issue 15 replaced: every Markdown block of the
answer stays laid out (no ``block_fold``), Python's full garbage collections run whenever they
come due (no ``PacedCollection``), and deltas are flushed 30 times a second. The two run
alternately (A B A B) against the same server in one benchmark run.

``FrameLog`` records, while it is active, how long each screen update took (Textual's
``Screen._on_timer_update``: layout, compositing and the write) and each full (generation 2)
garbage collection: the two things a key press waits behind while an answer streams.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from typing import Any

VARIANTS = ("before", "shipped")
LABELS = {
    "before": "before (every block laid out, GC unpaced, 30 flushes/s)",
    "shipped": "as shipped (far blocks folded, full GC paced, 10 flushes/s)",
}


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """Run the app's streaming path ``name`` (one of ``VARIANTS``) inside the block."""
    from codeagent.tui import coalesce, gc_pacing

    # Each run starts and ends with Python's own thresholds: a run's after-turn collection is
    # still pending when its event loop closes.
    gc_pacing.PACED_GC.release()
    if name == "shipped":
        try:
            yield
        finally:
            gc_pacing.PACED_GC.release()
        return
    from codeagent.tui.widgets.chat import ChatLog

    saved = (
        ChatLog.refold_soon,
        gc_pacing.PacedCollection.begin,
        coalesce.DeltaCoalescer.__init__.__defaults__,
    )
    ChatLog.refold_soon = lambda self: None  # type: ignore[method-assign]
    gc_pacing.PacedCollection.begin = lambda self: None  # type: ignore[method-assign]
    coalesce.DeltaCoalescer.__init__.__defaults__ = (1 / 30,)
    try:
        yield
    finally:
        ChatLog.refold_soon = saved[0]  # type: ignore[method-assign]
        gc_pacing.PacedCollection.begin = saved[1]  # type: ignore[method-assign]
        coalesce.DeltaCoalescer.__init__.__defaults__ = saved[2]
        gc_pacing.PACED_GC.release()


class FrameLog:
    """Screen update durations and full-GC pauses (seconds) while ``active``."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.full_gc: list[float] = []
        #: full collections after the stream (the paced pass a moment after the turn)
        self.after_gc: list[float] = []
        self.active = False
        self.after = False
        self._gc_start = 0.0

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self.active:
            self.full_gc.append(time.perf_counter() - self._gc_start)
        elif self.after:
            self.after_gc.append(time.perf_counter() - self._gc_start)

    @contextlib.contextmanager
    def installed(self) -> Iterator[FrameLog]:
        """Hook Textual's screen update and the collector for the duration of the block."""
        from textual.screen import Screen

        original = Screen._on_timer_update
        log = self

        def timed(screen: Any) -> None:
            start = time.perf_counter()
            original(screen)
            if log.active:
                log.frames.append(time.perf_counter() - start)

        Screen._on_timer_update = timed  # type: ignore[method-assign]
        gc.callbacks.append(self._on_gc)
        try:
            yield self
        finally:
            Screen._on_timer_update = original  # type: ignore[method-assign]
            gc.callbacks.remove(self._on_gc)
