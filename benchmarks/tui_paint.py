"""How the TUI benchmark sees a paint, and how it presses a key like a terminal would.

``PaintClock`` wraps ``App._display``: Textual's screen update timer hands it each compositor
update; in headless mode ``_display`` skips the terminal write, so the wrapper serialises the
update to escape codes itself (``render_segments``) and timestamps it.

``press_x`` types a key the way Textual receives one from a terminal: ``TerminalInput`` is a
thread like ``LinuxDriver``'s input thread, blocked in ``select`` on a pipe; the benchmark writes
the byte ``x`` into the pipe (the key press, timestamped), the thread parses it with Textual's
``XTermParser`` and hands the ``Key`` to ``Driver.process_message``, which posts it to the app
with ``run_coroutine_threadsafe``. So the thread's wait for the GIL while the UI works counts,
as it does in a terminal. The key counts as painted at the first paint after the prompt's
``render_lines`` drew the typed character: the character is in the strips the compositor sent to
the terminal, not merely in the prompt's text.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import threading
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


class PromptDrawn:
    """Counts the "x"s of the prompt's text each time the compositor renders the prompt."""

    def __init__(self, prompt: Any) -> None:
        self.count = prompt.text.count("x")
        original = prompt.render_lines

        def render_lines(crop: Any) -> Any:
            self.count = prompt.text.count("x")
            return original(crop)

        prompt.render_lines = render_lines


class TerminalInput:
    """A pipe standing in for the terminal's stdin, read by a driver-like input thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._read, self._write = os.pipe()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-terminal-input", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        # The shape of LinuxDriver.run_input_thread: select, read, parse, process_message.
        from textual._xterm_parser import XTermParser

        parser = XTermParser(False)
        selector = selectors.SelectSelector()
        selector.register(self._read, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for _key, _mask in selector.select(0.1):
                    data = os.read(self._read, 4096).decode()
                    for event in parser.feed(data):
                        self.app._driver.process_message(event)
                for event in parser.tick():
                    self.app._driver.process_message(event)
        finally:
            selector.close()

    def type(self, text: str) -> float:
        """Write ``text`` to the "terminal"; returns the time it was written."""
        now = time.perf_counter()
        os.write(self._write, text.encode())
        return now

    def close(self) -> None:
        """Stop the thread and close the pipe."""
        self._stop.set()
        self.thread.join(timeout=2)
        os.close(self._read)
        os.close(self._write)


def _drawn(app: Any) -> tuple[PromptDrawn, TerminalInput]:
    state = getattr(app, "_bench_input", None)
    if state is None:
        state = app._bench_input = (PromptDrawn(app.prompt), TerminalInput(app))
    return state


def close_input(app: Any) -> None:
    """Stop the input thread ``press_x`` started for ``app`` (if any)."""
    state = getattr(app, "_bench_input", None)
    if state is not None:
        state[1].close()
        app._bench_input = None


async def press_x(app: Any, clock: PaintClock) -> float:
    """Type "x" like a terminal would; seconds until the paint that shows it."""
    drawn, terminal = _drawn(app)
    want = app.prompt.text.count("x") + 1
    painted = clock.next_paint_when(lambda: drawn.count >= want)
    start = terminal.type("x")
    # No short timeout: a key queued behind a backlog of stream events is exactly what we measure.
    done = await asyncio.wait_for(painted, timeout=90)
    return done - start
