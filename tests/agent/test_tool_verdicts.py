"""A tool call's approval verdict is decided on the files as they are when it runs: a read the
response's batching found harmless is asked about when an earlier call of the same response
made it reach outside the repository (issue 15 reuses verdicts only when nothing ran between)."""

from __future__ import annotations

from pathlib import Path

from agent_support import ListApprover, collect

from codeagent.agent.approvals import Decision
from codeagent.agent.events import ToolOutput, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.server.script import Episode, Script, Step, shell


async def test_a_read_made_to_reach_outside_by_an_earlier_call_is_asked_about(
    make_server, settings_for, repo: Path
) -> None:
    # When the response arrives, ``away/etc/hostname`` is a path inside the repository (it does
    # not exist yet); the first call makes ``away`` a link to the root of the machine.
    server = make_server(
        Script([Episode([Step([shell(["ln -s / away"]), shell(["cat away/etc/hostname"])])])])
    )
    approver = ListApprover(Decision.approve(), Decision.reject("not outside"))
    agent = Agent(settings_for(server, approval_policy="ask", sandbox="none"), repo, approver)
    events = await collect(agent.submit("link and read"))
    assert [r.command for r in approver.requests] == ["ln -s / away", "cat away/etc/hostname"]
    assert "outside the repository" in approver.requests[1].reason
    outputs = [e for e in events if isinstance(e, ToolOutput)]
    assert [o.rejected for o in outputs] == [False, True]
    assert isinstance(events[-1], TurnCompleted)
