"""A model stuck in a loop is stopped: the per-turn model-call cap, the repeat guard, and a
model that keeps sending malformed tool calls. The user reads a sentence saying why and what to
do, every call that did not run is answered, and the next message continues normally."""

from __future__ import annotations

from pathlib import Path

from agent_support import ListApprover, collect, sent_outputs

from codeagent.agent.approvals import Policy
from codeagent.agent.events import AgentError, ToolOutput, TurnCompleted
from codeagent.agent.loop import Agent
from codeagent.server.script import Episode, Script, Step, function_call, shell, text


def looping(step_for) -> Script:
    """An episode for "loop" with 200 steps made by ``step_for(i)``, then a plain answer."""
    return Script(
        [
            Episode([step_for(i) for i in range(200)], match="loop"),
            Episode([Step([text("All done.")])]),
        ]
    )


async def test_the_call_cap_stops_a_turn_and_the_next_message_continues(
    make_server, settings_for, repo: Path
):
    server = make_server(looping(lambda i: Step([shell([f"echo step {i}"])])))
    settings = settings_for(server, approval_policy=Policy.FULL_AUTO, max_model_calls_per_turn=5)
    agent = Agent(settings, repo, ListApprover())
    try:
        events = await collect(agent.submit("loop please"))
        errors = [e for e in events if isinstance(e, AgentError)]
        assert len(errors) == 1 and errors[0].code == "call_cap" and errors[0].fatal
        assert "after 5 model calls" in errors[0].message
        assert "Send another message" in errors[0].message
        assert "Internal error" not in errors[0].message
        ran = [e for e in events if isinstance(e, ToolOutput)]
        assert len(ran) == 5  # each of the 5 responses' command ran once, none twice

        follow = await collect(agent.submit("something else"))
        assert isinstance(follow[-1], TurnCompleted)
        assert follow[-1].final_text == "All done."
    finally:
        await agent.close()
    # Nothing lost: the 5th command's output went with the next message.
    assert len({o["call_id"] for o in sent_outputs(server)}) == 5


async def test_the_same_call_three_times_in_a_row_is_stopped(make_server, settings_for, repo):
    server = make_server(looping(lambda i: Step([shell(["cat notes.txt"])])))
    settings = settings_for(server, approval_policy=Policy.FULL_AUTO)
    agent = Agent(settings, repo, ListApprover())
    try:
        events = await collect(agent.submit("loop please"))
        errors = [e for e in events if isinstance(e, AgentError)]
        assert len(errors) == 1 and errors[0].code == "repeat_guard"
        assert "same shell call with the same arguments 3 times in a row" in errors[0].message
        assert "cat notes.txt" in errors[0].message
        assert len([e for e in events if isinstance(e, ToolOutput)]) == 2  # the third did not run
        follow = await collect(agent.submit("go on"))
        assert isinstance(follow[-1], TurnCompleted)
    finally:
        await agent.close()


async def test_a_model_sending_malformed_calls_is_told_what_was_wrong_then_capped(
    make_server, settings_for, repo
):
    # A shell function call whose arguments are not JSON, different each time.
    server = make_server(
        looping(lambda i: Step([function_call("shell", {"command": f"echo {i}"})]))
    )
    settings = settings_for(
        server, approval_policy=Policy.FULL_AUTO, function_tools=True, max_model_calls_per_turn=4
    )
    agent = Agent(settings, repo, ListApprover())
    try:
        events = await collect(agent.submit("loop please"))
    finally:
        await agent.close()
    failed = [e for e in events if isinstance(e, ToolOutput)]
    assert len(failed) == 4 and not any(e.success for e in failed)
    # The model was told what was wrong with its call, in words.
    told = sent_outputs(server)[0]["output"]
    assert "shell" in told and "command" in told
    errors = [e for e in events if isinstance(e, AgentError)]
    assert [e.code for e in errors] == ["call_cap"]
