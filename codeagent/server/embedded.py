"""``EmbeddedServer``: the local Responses server in a background thread, for tests and demos.

uvicorn runs with its own event loop in a daemon thread, so the server works the same from sync
code, from pytest-asyncio tests and from inside a Textual app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from pathlib import Path

import uvicorn

from codeagent.server.app import build_app
from codeagent.server.backends.base import Backend
from codeagent.server.faults import Faults
from codeagent.server.records import FrameLog, InputLog, TimelineEntry
from codeagent.server.script import Script
from codeagent.server.state import DEFAULT_MAX_FRAME_BYTES, ServerState, resolve_script

START_TIMEOUT = 15.0


class _DenialLogFilter(logging.Filter):
    """uvicorn's sans-io WebSocket protocol logs an error after every handshake denial (401,
    injected 426) although the denial response was sent correctly; drop that false alarm."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


class _WakeableServer(uvicorn.Server):
    """uvicorn's server, whose main loop can be woken from another thread, so ``stop()`` does
    not wait for the next 0.1 s tick (tests start and stop many servers)."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def request_exit(self) -> None:
        """Ask the server to stop now (thread-safe)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's sans-io WebSocket protocol sends a 1012 close on shutdown even to a
        # connection that is already closing, and websockets raises InvalidState, which aborts
        # the whole shutdown in the server thread. Such a connection needs no shutdown.
        for connection in list(self.server_state.connections):
            state = getattr(getattr(connection, "conn", None), "state", None)
            if state is not None and state.name in ("CLOSING", "CLOSED"):
                connection.transport.close()
                self.server_state.connections.discard(connection)
        await super().shutdown(sockets)


def _quiet_denials() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DenialLogFilter) for f in logger.filters):
        logger.addFilter(_DenialLogFilter())


class EmbeddedServer:
    """A started-on-demand local Responses API server (WebSocket + HTTP/SSE on one port).

    ``backend`` replaces the scripted model (anything with ``async respond(ModelRequest) ->
    Step``); by default the scripted model plays ``script``. The server is as strict as the real
    API: a model outside the catalog gets ``model_not_found`` unless ``any_model``; a frame
    above ``max_frame_bytes`` closes the socket with 1009 (HTTP: 413).
    """

    def __init__(
        self,
        script: Script | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        max_connection_age: float = 3600.0,
        ssl_context: ssl.SSLContext | None = None,
        backend: Backend | None = None,
        any_model: bool = False,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ):
        self.state = ServerState(
            script,
            api_key=api_key,
            max_connection_age=max_connection_age,
            backend=backend,
            any_model=any_model,
            max_frame_bytes=max_frame_bytes,
        )
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._server: _WakeableServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> EmbeddedServer:
        """Bind, start serving in the background and return once requests are accepted."""
        if self._thread is not None:
            return self
        _quiet_denials()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        context = self.ssl_context
        config = uvicorn.Config(
            build_app(self.state),
            ws="websockets-sansio",
            ws_max_size=self.state.max_frame_bytes,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            ssl_context_factory=(lambda _config, _default: context) if context else None,
        )
        self._server = _WakeableServer(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="codeagent-server",
            daemon=True,
        )
        self._thread.start()
        deadline = threading.Event()
        for _ in range(int(START_TIMEOUT / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            deadline.wait(0.01)
        if not self._server.started:
            self.stop()
            sock.close()
            raise RuntimeError(
                f"the local Responses server did not start on {self.host}:{self.port}"
            )
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and wait for the thread to end."""
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        self._server = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ access

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/v1"

    @property
    def script(self) -> Script:
        return self.state.script

    @script.setter
    def script(self, value: Script | str | Path | None) -> None:
        self.state.script = resolve_script(value)

    @property
    def record(self) -> FrameLog:
        return self.state.record

    @property
    def timeline(self) -> list[TimelineEntry]:
        return self.state.timeline

    @property
    def inputs(self) -> InputLog:
        """Each WebSocket response's input as the server took it (prepended steers included)."""
        return self.state.inputs

    @property
    def connections_opened(self) -> int:
        return self.state.connections_opened

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def set_max_connection_age(self, seconds: float, *, new_connections: bool = False) -> None:
        """Change the lifetime of the connections open now (enforced at their next request), so
        a test can age out the current socket while its reconnect gets a fresh lifetime. With
        ``new_connections=True`` it also becomes the lifetime of connections opened later."""
        for connection in self.state.open_connections():
            connection.max_age = seconds
        if new_connections:
            self.state.max_connection_age = seconds
