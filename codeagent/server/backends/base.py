"""The interface between the server and whatever plays the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from codeagent.server.script import Step


@dataclass(frozen=True)
class ModelRequest:
    """Everything a backend may look at: the full expanded conversation and request settings."""

    model: str
    instructions: str | None
    items: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    body: dict[str, Any]


class Backend(Protocol):
    """Produces the next model response as a :class:`Step` (items + pacing)."""

    async def respond(self, request: ModelRequest) -> Step: ...
