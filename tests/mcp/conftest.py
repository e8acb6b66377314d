"""Fixtures for MCP tests: a real git repository, settings for a local Responses server,
isolated state, and a streamable HTTP MCP server built with the SDK's ``MCPServer`` on a
loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp_support import API_KEY

from codeagent.config import Settings


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Sessions and user config of each test live in its own tmp directory."""
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "userconf"))
    return tmp_path / "state"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit: ``app.py``."""
    root = tmp_path / "repo"
    root.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"],
                 ["config", "user.name", "Test"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    (root / "app.py").write_text('print("Hi")\n')
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True, capture_output=True)
    return root


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """Settings for a server: ``settings_for(server, mcp_servers={...}, ...)``."""

    def make(server: Any, **fields: Any) -> Settings:
        fields.setdefault("api_key", API_KEY)
        fields.setdefault("transport", "websocket")
        return Settings(base_url=server.base_url, **fields)

    return make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_mcp_server() -> Iterator[str]:
    """The URL of a real streamable HTTP MCP server with an ``add`` and a ``shout`` tool."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("calc")

    @server.tool()
    def add(a: int, b: int) -> str:
        """Add two integers."""
        return f"{a} + {b} = {a + b}"

    @server.tool()
    def shout(text: str) -> str:
        """Repeat text in capitals, many times (for the output cap)."""
        return text.upper() * 5000

    port = _free_port()
    config = uvicorn.Config(
        server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning"
    )
    web = uvicorn.Server(config)
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not web.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP HTTP server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        web.should_exit = True
        thread.join(timeout=10)
