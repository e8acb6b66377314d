"""Sessions against the local Responses server whose scripted model calls the tools of real MCP
servers: mcp-server-time and mcp-server-git over stdio, an SDK-built server over streamable
HTTP. The outputs must reach the server as ``function_call_output`` items."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mcp_support import ListApprover, collect, request_payloads, sent_outputs

from codeagent.agent.approvals import Decision
from codeagent.agent.events import ToolCallProposed, ToolOutput, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.agent.mcp.manager import describe_status
from codeagent.server.script import Episode, Script, Step, function_call

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def script(*calls) -> Script:
    return Script([Episode([Step([c]) for c in calls])])


def outputs_by_call(server) -> dict[str, str]:
    return {o["call_id"]: o["output"] for o in sent_outputs(server)
            if o["type"] == "function_call_output"}  # fmt: skip


async def test_tools_of_three_real_servers_reach_the_model(
    make_server, settings_for, repo: Path, http_mcp_server: str
) -> None:
    server = make_server(
        script(
            function_call("mcp__time__get_current_time", {"timezone": "UTC"}),
            function_call("mcp__git__git_status", {"repo_path": str(repo)}),
            function_call("mcp__calc__add", {"a": 2, "b": 40}),
            function_call("mcp__calc__shout", {"text": "hey "}),
        )
    )
    (repo / "new.txt").write_text("untracked\n")
    settings = settings_for(
        server,
        mcp_servers={
            "time": {**TIME, "approval": "allow"},
            "git": {
                "command": sys.executable,
                "args": ["-m", "mcp_server_git", "--repository", str(repo)],
                "approval": "allow",
            },
            "calc": {"url": http_mcp_server, "approval": "allow"},
        },
    )
    agent = Agent(settings, repo, ListApprover())
    events = await collect(agent.submit("what time is it, and what changed?"))
    status = describe_status(agent.mcp_status())
    await agent.close()
    assert isinstance(events[-1], TurnCompleted), events[-1]
    assert events[-1].tool_calls == 4
    outputs = list(outputs_by_call(server).values())
    assert len(outputs) == 4
    time_out, git_out, add_out, shout_out = outputs
    assert json.loads(time_out)["timezone"] == "UTC"
    assert "new.txt" in git_out  # the git server saw the untracked file of the temp repo
    assert add_out == "2 + 40 = 42"
    # capped like shell output: head and tail kept, the middle said to be omitted
    assert "bytes of output omitted" in shout_out and len(shout_out) < 12_000
    assert shout_out.startswith("HEY HEY")
    # the first request already offered every server's tools, namespaced
    first = request_payloads(server)[0]
    first_names = {t.get("name") for t in first.get("tools") or []}
    assert {"mcp__time__get_current_time", "mcp__git__git_status", "mcp__calc__add"} <= first_names
    # the chat shows them as tool blocks
    proposed = [e for e in events if isinstance(e, ToolCallProposed)]
    assert [p.title for p in proposed] == [
        "time: get_current_time", "git: git_status", "calc: add", "calc: shout"
    ]  # fmt: skip
    assert all(o.success for o in events if isinstance(o, ToolOutput))
    assert "time (stdio): ready" in status and "mcp__calc__add" in status


async def test_ask_rejected_reaches_the_model_and_allow_runs(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        script(
            function_call(
                "mcp__time__convert_time",
                {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
            ),
            function_call("mcp__time__get_current_time", {"timezone": "UTC"}),
        )
    )
    settings = settings_for(
        server,
        approval_policy="full-auto",  # even full-auto asks for MCP tools configured as ask
        mcp_servers={"time": {**TIME, "tool_approval": {"get_current_time": "allow"}}},
    )
    approver = ListApprover(Decision.reject("not now"))
    agent = Agent(settings, repo, approver)
    events = await collect(agent.submit("convert noon"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    [request] = approver.requests  # only the tool configured as ask was asked about
    assert request.title == "time: convert_time"
    assert request.command.startswith("mcp__time__convert_time ")
    rejected, allowed = outputs_by_call(server).values()
    assert rejected.startswith("The user rejected this MCP tool call. Their reason: not now")
    assert json.loads(allowed)["timezone"] == "UTC"
    [refusal] = [e for e in events if isinstance(e, ToolOutput) and e.rejected]
    assert refusal.tool == "mcp__time__convert_time"


async def test_read_only_policy_refuses_tools_not_configured_allow(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(script(function_call("mcp__time__get_current_time", {"timezone": "UTC"})))
    settings = settings_for(server, approval_policy="read-only", mcp_servers={"time": TIME})
    agent = Agent(settings, repo, ListApprover())
    events = await collect(agent.submit("time?"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    [output] = outputs_by_call(server).values()
    assert output.startswith("The MCP tool call was refused: the read-only policy")


def test_no_servers_offer_no_mcp_tools_and_mcp_says_how_to_add_one() -> None:
    assert describe_status([]).startswith("No MCP servers are configured.")
