"""The scripted model: plays the step of a :class:`Script` that fits the conversation."""

from __future__ import annotations

from collections.abc import Callable

from codeagent.server.backends.base import ModelRequest
from codeagent.server.script import Script, Step


class ScriptedBackend:
    """Asks the current script (it may be replaced between requests) for the next step."""

    def __init__(self, script: Callable[[], Script]):
        self._script = script

    async def respond(self, request: ModelRequest) -> Step:
        return self._script().choose(request.items)
