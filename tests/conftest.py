"""Project-wide fixtures: a real local Responses server on a loopback port.

The server is as strict as the real API (models outside the catalog get ``model_not_found``,
unknown parameters and unpaired tool items are rejected), so a client bug fails here as it would
against api.openai.com. Send ``codeagent.responses.catalog.DEFAULT_MODEL`` (or another catalog
model); ``make_server(any_model=True)`` is for a test that needs a made-up model name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codeagent.server.embedded import EmbeddedServer


@pytest.fixture
def responses_server() -> Iterator[EmbeddedServer]:
    """A started local Responses server with no script (it echoes the user); stopped after."""
    server = EmbeddedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_server() -> Iterator[Callable[..., EmbeddedServer]]:
    """A factory of started servers (``EmbeddedServer`` keyword arguments); all stopped after."""
    started: list[EmbeddedServer] = []

    def make(script: Any = None, **kwargs: Any) -> EmbeddedServer:
        server = EmbeddedServer(script, **kwargs).start()
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()
