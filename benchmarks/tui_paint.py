"""How the TUI benchmark sees a paint, and how it presses a key like a terminal would.

``PaintClock`` wraps ``App._display``: Textual's screen update timer hands it each compositor
update; in headless mode ``_display`` skips the terminal write, so the wrapper serialises the
update to escape codes itself (``render_segments``) and timestamps it. ``press_and_wait`` sends a
key through the driver and waits for the first paint at which its effect is visible.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any


class PaintClock:
    """Wraps ``app._display`` to timestamp every paint (and do the terminal serialisation)."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.times: list[float] = []
        self._waiters: list[tuple[Any, asyncio.Future[float]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                if isinstance(renderable, CompositorUpdate):
                    renderable.render_segments(app.console)
                now = time.perf_counter()
                self.times.append(now)
                for pair in list(self._waiters):
                    condition, fut = pair
                    if not fut.done() and condition():
                        fut.set_result(now)
                        self._waiters.remove(pair)
            original(screen, renderable)

        app._display = display

    def next_paint_when(self, condition: Any) -> asyncio.Future[float]:
        """A future resolved with the time of the first paint at which ``condition()`` holds."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((condition, fut))
        return fut


async def press_x(app: Any, clock: PaintClock) -> float:
    """Send "x" like a terminal would; seconds until the paint that shows it."""
    from textual import events

    prompt = app.prompt
    want = prompt.text.count("x") + 1
    painted = clock.next_paint_when(lambda: prompt.text.count("x") >= want)
    event = events.Key("x", "x")
    start = time.perf_counter()
    app._driver.send_message(event)
    # No short timeout: a key queued behind a backlog of stream events is exactly what we measure.
    done = await asyncio.wait_for(painted, timeout=90)
    return done - start
