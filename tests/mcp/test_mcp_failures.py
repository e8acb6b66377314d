"""MCP servers that fail: one that cannot start and one that dies during a call are each
reported once, with their stderr tail, and the session goes on with the others."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mcp_support import ListApprover, collect, request_payloads, sent_outputs

from codeagent.agent.events import Notice, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.agent.mcp.manager import describe_status
from codeagent.server.script import Episode, Script, Step, function_call, text

TIME = {
    "command": sys.executable,
    "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
    "approval": "allow",
}

#: A real MCP server (the SDK's MCPServer over stdio) whose one tool kills its process.
CRASHY = '''
import os, sys
from mcp.server.mcpserver import MCPServer

server = MCPServer("crashy")

@server.tool()
def crash() -> str:
    """Stop the server."""
    sys.stderr.write("crashy: out of memory, giving up\\n")
    sys.stderr.flush()
    os._exit(3)

server.run()
'''

BROKEN = "import sys; sys.stderr.write('broken: no API token configured\\n'); sys.exit(2)"


async def test_failed_and_dying_servers_are_reported_once_and_the_session_goes_on(
    make_server, settings_for, repo: Path, tmp_path: Path
) -> None:
    crashy = tmp_path / "crashy.py"
    crashy.write_text(CRASHY)
    server = make_server(
        Script(
            [
                Episode(
                    [
                        Step([function_call("mcp__crashy__crash", {})]),
                        Step([function_call("mcp__time__get_current_time", {"timezone": "UTC"})]),
                        Step([text("It is late.")]),
                    ],
                    match="time",
                ),
                Episode([Step([text("Still here.")])], match="again"),
            ]
        )
    )
    settings = settings_for(
        server,
        mcp_servers={
            "broken": {"command": sys.executable, "args": ["-c", BROKEN]},
            "crashy": {"command": sys.executable, "args": [str(crashy)], "approval": "allow"},
            "time": TIME,
        },
    )
    agent = Agent(settings, repo, ListApprover())
    first = await collect(agent.submit("what time is it?"))
    second = await collect(agent.submit("again"))
    status = describe_status(agent.mcp_status())
    await agent.close()

    assert isinstance(first[-1], TurnCompleted) and isinstance(second[-1], TurnCompleted)
    assert second[-1].final_text == "Still here."
    notices = [e.text for e in first + second if isinstance(e, Notice) and "MCP" in e.text]
    assert len(notices) == 2, notices
    broken, dead = notices
    assert broken.startswith("MCP server broken is not available")
    assert "broken: no API token configured" in broken  # its stderr tail
    assert dead.startswith("MCP server crashy is not available: it stopped answering")
    assert "crashy: out of memory, giving up" in dead
    crash_out, time_out = [
        o["output"] for o in sent_outputs(server) if o["type"] == "function_call_output"
    ][:2]
    assert crash_out == "The MCP server crashy stopped; mcp__crashy__crash did not complete"
    assert json.loads(time_out)["timezone"] == "UTC"
    # the dead server's tools leave the requests after it died; the others stay
    tools = [{t.get("name", "") for t in p.get("tools") or []} for p in request_payloads(server)]
    assert "mcp__crashy__crash" in tools[0] and "mcp__crashy__crash" not in tools[-1]
    assert "mcp__time__get_current_time" in tools[-1]
    assert not any(name.startswith("mcp__broken") for names in tools for name in names)
    assert "broken (stdio): failed" in status and "crashy (stdio): failed" in status
    assert "time (stdio): ready" in status


async def test_a_missing_program_is_named(make_server, settings_for, repo: Path) -> None:
    server = make_server(Script([Episode([Step([text("ok")])])]))
    settings = settings_for(
        server, mcp_servers={"ghost": {"command": "/nonexistent/mcp-ghost-server"}}
    )
    agent = Agent(settings, repo, ListApprover())
    events = await collect(agent.submit("hi"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    [notice] = [e for e in events if isinstance(e, Notice) and "MCP" in e.text]
    assert "MCP server ghost is not available" in notice.text
    assert "/nonexistent/mcp-ghost-server" in notice.text
    assert "Traceback" not in notice.text


#: A real MCP server whose ``slow`` tool outlasts any sensible timeout; ``quick`` answers.
SLOW = '''
import time
from mcp.server.mcpserver import MCPServer

server = MCPServer("slow")

@server.tool()
def slow() -> str:
    """Take far too long."""
    time.sleep(60)
    return "finally"

@server.tool()
def quick() -> str:
    """Answer at once."""
    return "quick answer"

server.run()
'''


async def test_a_call_past_its_timeout_is_stopped_and_the_model_told(
    make_server, settings_for, repo: Path, tmp_path: Path
) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text(SLOW)
    server = make_server(
        Script(
            [
                Episode(
                    [
                        Step([function_call("mcp__slow__slow", {})]),
                        Step([function_call("mcp__slow__quick", {})]),
                    ]
                )
            ]
        )
    )
    settings = settings_for(
        server,
        mcp_servers={
            "slow": {
                "command": sys.executable,
                "args": [str(slow)],
                "approval": "allow",
                "timeout": 1,
            }
        },
    )
    agent = Agent(settings, repo, ListApprover())
    events = await collect(agent.submit("go"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    timed_out, quick = [
        o["output"] for o in sent_outputs(server) if o["type"] == "function_call_output"
    ]
    assert timed_out == "mcp__slow__slow timed out after 1 s (it may still be running)"
    assert quick == "quick answer"  # the server is still usable after the timeout
