"""``/mcp`` in the real app: the servers started after the first paint, listed with their state
and tools (a real mcp-server-time over stdio, and one that cannot start, with its stderr)."""

from __future__ import annotations

import sys

from tests.tui.conftest import until
from tests.tui.test_app_flows import SIZE, notices, send

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
BROKEN = {"command": sys.executable, "args": ["-c", "import sys; sys.exit('bad config: port')"]}


async def test_mcp_lists_servers_with_state_and_tools(make_app) -> None:
    app = make_app(mcp_servers={"time": TIME, "broken": BROKEN})
    async with app.run_test(size=SIZE) as pilot:
        # started in the background once the app is up, without a turn
        await until(
            pilot,
            lambda: all(s.state in ("ready", "failed") for s in app.agent.mcp_status()),
            "the MCP servers settle",
            limit=3000,
        )
        await send(pilot, app, "/mcp")
        await until(pilot, lambda: any("time (stdio)" in n for n in notices(app, "info")), "/mcp")
        [listing] = [n for n in notices(app, "info") if "time (stdio)" in n]
        assert "time (stdio): ready" in listing
        assert "mcp__time__get_current_time" in listing and "mcp__time__convert_time" in listing
        assert "broken (stdio): failed" in listing and "bad config: port" in listing
