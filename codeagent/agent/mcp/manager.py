"""The MCP servers of one session: started in the background, their tools offered to the
model, their failures reported once, their state listed for ``/mcp``.

Before each model call ``prepare`` puts the ready servers' tools into the conversation's tool
list (a changed list makes the next call resend in full). Only the first call waits for the
servers to start, at most their ``startup_timeout``; a server that is slower joins later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from codeagent.agent.events import AgentEvent, Notice
from codeagent.agent.mcp.client import McpConnection, ServerGone, State, describe_error
from codeagent.agent.mcp.server_config import McpServerConfig
from codeagent.agent.mcp.tool_adapter import (
    PREFIX,
    OfferedTool,
    function_spec,
    result_text,
    tool_name,
)


@dataclass(frozen=True)
class McpServerStatus:
    """One server for ``/mcp``: its state, its tools (as the model calls them), its error."""

    name: str
    transport: str
    state: State
    tools: tuple[str, ...]
    error: str = ""


class McpManager:
    """Every configured MCP server of a session (see the module docstring)."""

    def __init__(self, servers: Mapping[str, McpServerConfig]):
        self.connections = {name: McpConnection(name, c) for name, c in servers.items()}
        self._started = False
        self._waited = False
        self._offered: dict[str, OfferedTool] = {}

    def start(self) -> None:
        """Start every enabled server in the background (needs a running event loop)."""
        if self._started or not self.connections:
            return
        self._started = True
        for connection in self.connections.values():
            connection.start()

    def start_soon(self) -> None:
        """``start`` when an event loop runs now; otherwise the first ``prepare`` starts them."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.start()

    async def prepare(self, conversation: Any, emit: Callable[[AgentEvent], None]) -> None:
        """Before a model call: report failures, offer the ready servers' tools."""
        if not self.connections:
            return
        self.start()
        if not self._waited:
            self._waited = True
            await self._wait_for_startup()
        self.report_failures(emit)
        self._offered = self._offer()
        base = [t for t in conversation.tools if not str(t.get("name", "")).startswith(PREFIX)]
        tools = base + [function_spec(o) for o in self._offered.values()]
        if tools != conversation.tools:
            conversation.update_settings(tools=tools)

    async def _wait_for_startup(self) -> None:
        waits = [c.settled() for c in self.connections.values()]
        limit = max(c.config.startup_timeout for c in self.connections.values()) + 1
        try:
            async with asyncio.timeout(limit):
                await asyncio.gather(*waits)
        except TimeoutError:  # a slow server's tools join a later call
            pass

    def _offer(self) -> dict[str, OfferedTool]:
        offered: dict[str, OfferedTool] = {}
        for name, connection in self.connections.items():
            if connection.state != "ready":
                continue
            for tool in connection.tools:
                function = tool_name(name, tool.name, set(offered))
                offered[function] = OfferedTool(function, name, tool)
        return offered

    def report_failures(self, emit: Callable[[AgentEvent], None]) -> None:
        """A warning for each server that failed since the last report (once per server)."""
        for connection in self.connections.values():
            if connection.state == "failed" and not connection.failure_reported:
                connection.failure_reported = True
                emit(Notice("warning", _failure_text(connection)))

    def owns(self, function: str) -> bool:
        """Whether ``function`` is an MCP tool offered to the model."""
        return function in self._offered

    def offered(self, function: str) -> OfferedTool:
        """The tool behind ``function`` (``owns`` must be true)."""
        return self._offered[function]

    def connection(self, server: str) -> McpConnection:
        """The connection of ``server``."""
        return self.connections[server]

    async def call(
        self, function: str, arguments: dict[str, Any], emit: Callable[[AgentEvent], None]
    ) -> tuple[str, bool]:
        """Run ``function``; the text for the model and whether it succeeded. A server that
        died on the way is marked failed and reported, and its tools leave the next call."""
        offered = self._offered[function]
        connection = self.connections[offered.server]
        try:
            result = await connection.call(offered.tool.name, arguments)
        except ServerGone as exc:
            return f"The MCP server {offered.server} is not running: {exc}", False
        except TimeoutError:
            timeout = connection.config.timeout
            return f"{function} timed out after {timeout:g} s (it may still be running)", False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            why = describe_error(exc)
            if await connection.alive():  # a server-side error; the server is fine
                return f"{function} failed: {why}", False
            connection.fail(f"it stopped answering ({why})")
            self.report_failures(emit)
            return f"The MCP server {offered.server} stopped; {function} did not complete", False
        return result_text(result)

    def status(self) -> list[McpServerStatus]:
        """Every configured server, in configuration order."""
        rows = []
        for name, connection in self.connections.items():
            tools = [o.name for o in self._offer().values() if o.server == name]
            rows.append(
                McpServerStatus(
                    name, connection.config.transport, connection.state, tuple(tools),
                    connection.error,
                )
            )  # fmt: skip
        return rows

    async def close(self) -> None:
        """Stop every server."""
        await asyncio.gather(*(c.close() for c in self.connections.values()))


def _failure_text(connection: McpConnection) -> str:
    text = f"MCP server {connection.name} is not available: {connection.error}"
    return text + "\nThe rest of codeagent keeps working; its tools are not offered."


def describe_status(rows: list[McpServerStatus]) -> str:
    """``/mcp``'s text: each server with its state and tools, or how to add one."""
    if not rows:
        return "No MCP servers are configured. Add [mcp_servers.NAME] to config.toml."
    lines = []
    for row in rows:
        lines.append(f"{row.name} ({row.transport}): {row.state}")
        if row.tools:
            lines.append("  tools: " + ", ".join(row.tools))
        if row.error:
            lines += ["  " + line for line in row.error.splitlines()]
    return "\n".join(lines)


__all__ = ["McpManager", "McpServerStatus", "describe_status"]
