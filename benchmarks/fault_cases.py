"""The cases of the fault sweep (``benchmarks/fault_sweep.py``): the rollout the model plays,
what one faulted run is, and how each fault is armed at the local server for exactly the model
call and event it targets."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from codeagent.server.backends.base import ModelRequest
from codeagent.server.backends.scripted import ScriptedBackend
from codeagent.server.embedded import EmbeddedServer
from codeagent.server.script import (
    Episode,
    Script,
    Step,
    apply_patch,
    reasoning,
    shell,
    text,
)

COUNTER = "counter.txt"
STREAM_FAULTS = ("drop", "malformed", "stall", "429", "500", "lifetime")
#: The client's idle timeout in the sweep; a stall lasts three times as long.
IDLE_TIMEOUT = 0.4


def rollout_script() -> Script:
    """Four model calls: read, a command with a side effect, a patch, the answer."""
    return Script(
        [
            Episode(
                [
                    Step([reasoning("Read the code first."), shell(["cat app.py"])]),
                    Step([text("Counting this run once. "), shell([f"echo ran >> {COUNTER}"])]),
                    Step([apply_patch("create_file", "notes.md", "+# Notes\n+counted once\n")]),
                    Step([text("Done: the run is counted and notes.md is written.")]),
                ]
            )
        ]
    )


CALLS = 4


@dataclass(frozen=True)
class Case:
    """One faulted run: ``fault`` at event ``index`` (-1: before any event) of model call
    ``call`` (0-based) over ``transport``."""

    fault: str
    transport: str
    call: int
    index: int

    def label(self) -> str:
        where = "before events" if self.index < 0 else f"event {self.index}"
        return f"{self.fault} over {self.transport} at call {self.call}, {where}"


@dataclass
class Outcome:
    case: Case
    completed: bool
    duplicated: bool
    lost: bool
    fired: bool
    detail: str = ""


class ArmingBackend:
    """The scripted model, plus a hook called with the number of each model call, so a fault
    can be armed exactly for the call it targets (or the request after it)."""

    def __init__(self, script: Script):
        self._inner = ScriptedBackend(lambda: script)
        self.calls = 0
        self.hook: Callable[[int], None] | None = None

    async def respond(self, request: ModelRequest) -> Step:
        number, self.calls = self.calls, self.calls + 1
        if self.hook is not None:
            self.hook(number)
        return await self._inner.respond(request)


def _error_event(code: str) -> str:
    if code == "429":
        return json.dumps(
            {
                "type": "error",
                "status": 429,
                "error": {
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                    "message": "Rate limit reached. Please try again in 20ms.",
                },
            }
        )
    if code == "500":
        failed = {
            "id": "resp_failed",
            "object": "response",
            "status": "failed",
            "output": [],
            "error": {"code": "server_error", "message": "The server had an error."},
        }
        return json.dumps({"type": "response.failed", "response": failed})
    return json.dumps(
        {
            "type": "error",
            "status": 400,
            "error": {
                "type": "invalid_request_error",
                "code": "websocket_connection_limit_reached",
                "message": "Responses websocket connection limit reached (60 minutes). "
                "Create a new websocket connection to continue.",
            },
        }
    )


def arming_hook(case: Case, server: EmbeddedServer) -> Callable[[int], None]:
    """The hook that arms ``case``'s fault exactly once, at the model call it targets (the
    backend calls it with each call's number, and with -1 before the run's first request)."""
    faults = server.faults
    armed = False

    def stream_fault() -> None:
        i = case.index
        if case.fault == "drop":
            faults.drop_mid_stream(after_events=i)
        elif case.fault == "malformed":
            faults.malformed_frame(at_event=i, text='{"type": "response.output_text.delta", ')
        elif case.fault == "stall":
            faults.stall(after_events=i, seconds=IDLE_TIMEOUT * 3)
        else:  # an error event (or failed response) at event i, then the stream is cut
            faults.malformed_frame(at_event=i, text=_error_event(case.fault))
            faults.drop_mid_stream(after_events=i + 1)

    def next_request_fault() -> None:
        if case.fault == "429":
            faults.error("rate_limit_exceeded", 429, "Slow down.", retry_after=0.02)
        elif case.fault == "500":
            faults.error("server_error", 500, "The server had an error.", retry_after=0.02)
        elif case.fault == "previous_response_not_found":
            faults.forget_cached_responses()
        elif case.fault in ("lifetime", "lifetime-silent"):
            faults.connection_limit(error_event=case.fault == "lifetime")
            server.set_max_connection_age(0.0)  # the open socket: at its next request

    def hook(number: int) -> None:  # -1: before the run's first request
        nonlocal armed
        if armed:
            return
        if case.index >= 0 and number == case.call:
            armed = True
            stream_fault()
        elif case.index < 0 and number == case.call - 1:
            armed = True
            next_request_fault()

    return hook


Pick = Callable[[int, int], list[int]]


def every_index(call: int, n: int) -> list[int]:
    """All event indices of a call with ``n`` events (the full sweep)."""
    return list(range(n))


def cases(transport: str, counts: list[int], pick: Pick = every_index) -> Iterator[Case]:
    """The cases of one transport; ``pick(call, n)`` chooses the event indices of a model call
    with ``n`` events (none: the call is not swept at all)."""
    for call, n in enumerate(counts):
        if not pick(call, n):
            continue
        for fault in STREAM_FAULTS:
            if fault == "lifetime" and transport != "websocket":
                continue
            for index in pick(call, n):
                yield Case(fault, transport, call, index)
        for fault in ("429", "500"):
            yield Case(fault, transport, call, -1)
        if transport == "websocket" and call > 0:
            for fault in ("previous_response_not_found", "lifetime", "lifetime-silent"):
                yield Case(fault, transport, call, -1)
