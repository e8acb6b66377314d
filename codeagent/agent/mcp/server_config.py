"""``[mcp_servers.NAME]`` in the config files: how to reach one MCP server and what its tools may
do without asking.

A server is either a local program spoken to over stdio (``command``, ``args``, ``env``,
``cwd``) or a streamable HTTP endpoint (``url``, ``headers``). ``approval`` is ``ask`` (the
default: every call needs the user's approval) or ``allow``; ``tool_approval`` overrides it per
tool. ``timeout`` bounds one tool call, ``startup_timeout`` the connection and tool listing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from codeagent.sanitize import register_secret

#: Server names become part of the tool names the model sees (``mcp__NAME__tool``).
SERVER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,32}$")

Approval = Literal["ask", "allow"]


class McpServerConfig(BaseModel):
    """One ``[mcp_servers.NAME]`` table (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    approval: Approval = "ask"
    #: per-tool override of ``approval``, by the tool's name on its server
    tool_approval: dict[str, Approval] = Field(default_factory=dict)
    #: seconds one tool call may take
    timeout: float = Field(default=60.0, gt=0)
    #: seconds to connect and list the tools
    startup_timeout: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("an MCP server needs either command (stdio) or url (HTTP), not both")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("an MCP server url must start with http:// or https://")
        if self.command is not None and not self.command.strip():
            raise ValueError("an MCP server command must not be empty")
        for value in self.headers.values():  # tokens: scrubbed from every message, like the key
            if len(value) >= 8:
                register_secret(value)
        return self

    @property
    def transport(self) -> str:
        """``stdio`` or ``http``."""
        return "stdio" if self.command is not None else "http"

    def approval_for(self, tool: str) -> Approval:
        """The configured approval of ``tool`` (its own entry, else the server's)."""
        return self.tool_approval.get(tool, self.approval)


def check_server_names(servers: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
    """Raise ``ValueError`` for a server name that cannot be part of a tool name."""
    for name in servers:
        if not SERVER_NAME.match(name):
            raise ValueError(
                f"MCP server name {name!r} may use only letters, digits, _ and - "
                "(at most 32 characters)"
            )
    return servers


__all__ = ["Approval", "McpServerConfig", "check_server_names"]
