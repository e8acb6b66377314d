"""Full garbage collections paced around streaming turns, so they do not stall key presses.

Python starts a full (generation 2) collection whenever enough objects have survived the young
generations, and that pass walks every tracked object. A streaming answer keeps many alive
(each rendered line is a Textual ``Strip`` with seven small caches), so in the TUI benchmark a
20,000-token answer triggered 20-40 full collections of 150-600 ms each (a quarter of the
stream's time), and any key pressed then waited for them. ``PacedCollection`` holds automatic
full collections back while a turn runs (the young generations, which take a millisecond or
two, still run and free most short-lived cycles) and does one at most every ``EVERY`` seconds of
a long turn, so memory stays bounded. After the turn it collects once, when the user has not
typed for ``AFTER_TURN`` seconds (``activity`` postpones it, for ``EVERY`` seconds at most), and
gives Python its thresholds back: with a long answer on screen that pass takes most of a second,
and letting Python choose the moment put it right on the keys typed after the answer.
"""

from __future__ import annotations

import asyncio
import gc

#: seconds between the full collections a long turn still gets
EVERY = 60.0
#: seconds after a turn ends before its one full collection
AFTER_TURN = 2.0
#: generation-2 threshold while paced: Python's automatic full collection never comes due
HELD = 1 << 30


class PacedCollection:
    """``begin`` when a turn starts and ``end`` when it ends (one instance for the app)."""

    def __init__(self, every: float = EVERY, after_turn: float = AFTER_TURN) -> None:
        self._every = every
        self._after_turn = after_turn
        self._saved: tuple[int, int, int] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: when the last turn ended, while its collection waits (loop time), else None
        self._ended_at: float | None = None

    @property
    def holding(self) -> bool:
        """Whether automatic full collections are held back now."""
        return self._saved is not None

    def begin(self) -> None:
        """Hold automatic full collections back (needs a running event loop)."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop and self._loop.is_closed():
            self.release()  # the app that held them is gone without its after-turn pass
        self._cancel()
        self._loop = loop
        self._ended_at = None
        if self._saved is None:
            if not gc.isenabled():
                return
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, HELD)
        self._timer = loop.call_later(self._every, self._periodic)

    def end(self) -> None:
        """The turn ended: collect once the user is quiet, then let Python decide again."""
        self._cancel()
        if self._saved is not None:
            loop = asyncio.get_running_loop()
            self._ended_at = loop.time()
            self._timer = loop.call_later(self._after_turn, self._finish)

    def activity(self) -> None:
        """The user typed: the after-turn collection waits (at most ``EVERY`` s after the turn)."""
        if self._ended_at is None or self._loop is None or self._loop.is_closed():
            return
        if self._loop.time() - self._ended_at < self._every:
            self._cancel()
            self._timer = self._loop.call_later(self._after_turn, self._finish)

    def release(self) -> None:
        """Give Python its thresholds back now, without collecting."""
        self._cancel()
        self._ended_at = None
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _periodic(self) -> None:
        gc.collect()
        if self._loop is not None:
            self._timer = self._loop.call_later(self._every, self._periodic)

    def _finish(self) -> None:
        self._timer = None
        self._ended_at = None
        gc.collect()
        self.release()


#: the app's one pacer: a turn's pass must know whether the next turn already began
PACED_GC = PacedCollection()
