"""One attempt of a model call: what it has streamed, its timings, and whether it finished.

A steered call can hold several responses: each automatic successor (``Attempt.successor``)
continues the same attempt, its timings and usage carried over."""

from __future__ import annotations

import time
from typing import Any

from codeagent.responses.errors import ConnectionClosed, error_from_payload
from codeagent.responses.events import OutputItemDone, ResponseLifecycleEvent, ServerEvent, Usage


class Attempt:
    """What one attempt of a call has streamed so far."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.streamed = False
        self.terminal: ResponseLifecycleEvent | None = None
        self.time_to_created: float | None = None
        self.time_to_first_delta: float | None = None
        self._done: dict[int, dict[str, Any]] = {}
        #: the usage of the responses this one succeeds (steered calls)
        self.earlier_usage: list[Usage] = []

    def observe(self, event: ServerEvent) -> None:
        """Note one server event of this attempt."""
        self.streamed = True
        now = time.monotonic() - self.started
        if event.type == "response.created" and self.time_to_created is None:
            self.time_to_created = now
        elif event.type.endswith(".delta") and self.time_to_first_delta is None:
            self.time_to_first_delta = now
        if isinstance(event, OutputItemDone):
            self._done[event.output_index] = event.item
        if event.is_terminal and isinstance(event, ResponseLifecycleEvent):
            self.terminal = event

    def check_finished(self) -> None:
        """Raise unless the attempt ended with a usable response."""
        if self.terminal is None:
            raise ConnectionClosed("The stream ended without a final response event.")
        if self.terminal.type == "response.failed":
            error = self.terminal.response.error
            raise error_from_payload(None, error.wire() if error else {"code": "server_error"})

    def items_done(self) -> list[dict[str, Any]]:
        """The output items announced by ``output_item.done``, in output order."""
        return [self._done[index] for index in sorted(self._done)]

    def successor(self) -> Attempt:
        """The attempt that goes on with the automatic successor of the response that ended."""
        after = Attempt()
        after.started, after.streamed = self.started, self.streamed
        after.time_to_created = self.time_to_created
        after.time_to_first_delta = self.time_to_first_delta
        ended = self.terminal.response.usage if self.terminal else None
        after.earlier_usage = [*self.earlier_usage, *([ended] if ended else [])]
        return after

    def usage(self) -> list[Usage]:
        """The usage of every response of this attempt (earlier ones first)."""
        last = self.terminal.response.usage if self.terminal else None
        return [*self.earlier_usage, *([last] if last else [])]
