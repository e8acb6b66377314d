"""Project-wide fixtures: a real local Responses server on a loopback port."""

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
