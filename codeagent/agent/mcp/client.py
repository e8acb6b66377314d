"""One MCP server connection through the official ``mcp`` SDK: started in its own task, its
tools listed, calls made from any task, its failure described once with the stderr tail.

The SDK's transports are anyio context managers that must be left in the task that entered
them, so ``McpConnection`` keeps one task per server that holds them open until ``close``.
The SDK is imported (in a thread) only when a server starts: it takes about a second, which
a session without MCP servers should not pay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Literal

from codeagent.agent.mcp.server_config import McpServerConfig
from codeagent.sanitize import terminal_safe

State = Literal["starting", "ready", "failed", "disabled", "stopped"]

#: How much of a failed server's stderr the user sees.
STDERR_TAIL_LINES = 12
STDERR_TAIL_BYTES = 4000


@dataclass(frozen=True)
class RemoteTool:
    """A tool as its server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool


class ServerGone(Exception):
    """The server is not running (it failed to start, died, or was stopped)."""


class McpConnection:
    """The session with one configured server (see the module docstring)."""

    def __init__(self, name: str, config: McpServerConfig):
        self.name = name
        self.config = config
        self.state: State = "starting" if config.enabled else "disabled"
        self.error = ""
        self.tools: list[RemoteTool] = []
        self._session: Any = None  # mcp.ClientSession
        self._settled = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stderr: Any = None
        #: set when the failure was described; the manager reports it once
        self.failure_reported = False
        if not config.enabled:
            self._settled.set()

    def start(self) -> None:
        """Connect in the background (a no-op when disabled or started)."""
        if self.config.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp-{self.name}")

    async def settled(self) -> None:
        """Wait until the server is ready or has failed."""
        await self._settled.wait()

    async def _run(self) -> None:
        # A real file (the SDK hands it to the child as its stderr), kept past the transport so
        # a failure can quote it.
        self._stderr = tempfile.TemporaryFile(mode="w+b")  # noqa: SIM115 (closed in finally)
        try:
            sdk = await asyncio.to_thread(_load_sdk)
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(stack, sdk))
                session = await stack.enter_async_context(sdk.ClientSession(read, write))
                async with asyncio.timeout(self.config.startup_timeout):
                    await session.initialize()
                    self.tools = await _list_tools(session, sdk)
                self._session = session
                self.state = "ready"
                self._settled.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the SDK raises exception groups; one server's failure
            if self.state != "stopped":  # must never take the session down
                self.fail(describe_error(exc, self.config.startup_timeout))
        finally:
            self._session = None
            self._settled.set()
            self._stderr.close()

    def _transport(self, stack: contextlib.AsyncExitStack, sdk: Any) -> Any:
        config = self.config
        if config.command is not None:
            params = sdk.StdioServerParameters(
                command=config.command,
                args=config.args,
                env=config.env or None,
                cwd=config.cwd,
            )
            return sdk.stdio_client(params, errlog=self._stderr)
        client = sdk.create_mcp_http_client(headers=config.headers or None)
        stack.push_async_callback(client.aclose)
        return sdk.streamable_http_client(str(config.url), http_client=client)

    def fail(self, why: str) -> None:
        """Mark the server failed with ``why`` plus its stderr tail (kept for ``/mcp``)."""
        if self.state in ("failed", "stopped"):
            return
        self.state = "failed"
        self._session = None
        tail = self.stderr_tail()
        self.error = f"{why}\n{tail}" if tail else why
        self._stop.set()  # lets the task leave the transport (and end the process)
        self._settled.set()

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr, safe to show in a terminal."""
        if self._stderr is None or self._stderr.closed:
            return ""
        try:
            self._stderr.flush()
            size = os.fstat(self._stderr.fileno()).st_size
            self._stderr.seek(max(0, size - STDERR_TAIL_BYTES))
            data = self._stderr.read().decode("utf-8", errors="replace")
        except (OSError, ValueError):
            return ""
        lines = [terminal_safe(line) for line in data.splitlines() if line.strip()]
        return "\n".join(lines[-STDERR_TAIL_LINES:])

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call ``tool``; raises ``ServerGone``, ``TimeoutError`` or the SDK's error."""
        session = self._session
        if session is None or self.state != "ready":
            raise ServerGone(self.error or f"MCP server {self.name} is {self.state}")
        async with asyncio.timeout(self.config.timeout):
            return await session.call_tool(tool, arguments)

    async def alive(self) -> bool:
        """Whether the server still answers a ping (after a call failed)."""
        session = self._session
        if session is None:
            return False
        try:
            async with asyncio.timeout(3):
                await session.send_ping()
        except Exception:
            return False
        return True

    async def close(self) -> None:
        """Stop the server (its process ends with the transport)."""
        if self.state != "failed":
            self.state = "stopped" if self.config.enabled else "disabled"
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout(10):
                await asyncio.gather(task, return_exceptions=True)
        except TimeoutError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _load_sdk() -> Any:
    """The parts of the ``mcp`` SDK the client uses, as one namespace."""
    from types import SimpleNamespace

    from mcp import ClientSession, types
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    return SimpleNamespace(
        ClientSession=ClientSession,
        types=types,
        StdioServerParameters=StdioServerParameters,
        stdio_client=stdio_client,
        streamable_http_client=streamable_http_client,
        create_mcp_http_client=create_mcp_http_client,
    )


async def _list_tools(session: Any, sdk: Any) -> list[RemoteTool]:
    tools: list[RemoteTool] = []
    cursor: str | None = None
    while True:
        params = sdk.types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        for tool in page.tools:
            annotations = tool.annotations
            tools.append(
                RemoteTool(
                    tool.name,
                    tool.description or "",
                    dict(tool.input_schema or {}),
                    bool(annotations and annotations.read_only_hint),
                )
            )
        cursor = page.next_cursor
        if not cursor:
            return tools


def describe_error(exc: BaseException, timeout: float | None = None) -> str:
    """A one-line reason for a failure inside the SDK (exception groups unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, TimeoutError):
        return f"it did not answer within {timeout:g} s" if timeout else "it did not answer"
    if isinstance(exc, FileNotFoundError):
        return f"the program was not found ({exc.filename or exc})"
    text = terminal_safe(str(exc)).strip()
    if text == "Connection closed":  # the SDK's words when the server's end went away
        return "it closed the connection (the server exited)"

    return text or exc.__class__.__name__.lower()


__all__ = ["McpConnection", "RemoteTool", "ServerGone", "State", "describe_error"]
