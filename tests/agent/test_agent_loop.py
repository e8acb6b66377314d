"""The agent end to end against the local Responses server over a loopback socket, in a real git
repository: patches approved and rejected, policies, session scopes, errors, resume."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from agent_support import API_KEY, ListApprover, collect, git, kinds, sent_outputs

from codeagent.agent.approvals import Decision, Policy, Scope
from codeagent.agent.events import (
    AgentError,
    ModelCallCompleted,
    Notice,
    PlanUpdated,
    TextDone,
    ToolCallProposed,
    ToolOutput,
    TransportState,
    TurnCompleted,
)
from codeagent.agent.loop import Agent
from codeagent.server.script import (
    Episode,
    Script,
    Step,
    apply_patch,
    function_call,
    shell,
    update_plan,
)
from codeagent.sessions import SessionError, SessionStore
from codeagent.workspace.git import NotAGitRepository

GREET_DIFF = '@@ def greet():\n-    print("Hi")\n+    print("Hello")\n'


def one_episode(*steps: list) -> Script:
    return Script([Episode([Step(items) for items in steps])])


async def test_text_turn_streams_and_records_transcript_without_key(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(api_key=API_KEY)
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await collect(agent.submit("hello there"))
    await agent.close()
    assert kinds(events)[0] == "turn_started"
    assert "text_delta" in kinds(events)
    done = [e for e in events if isinstance(e, TextDone)]
    assert done and done[-1].text == "You said: hello there"
    final = events[-1]
    assert isinstance(final, TurnCompleted)
    assert final.final_text == "You said: hello there"
    assert final.model_calls == 1 and final.tool_calls == 0
    assert final.metrics.bytes_sent > 0 and final.metrics.transport == "websocket"
    # the transcript has the turn and no key, anywhere in the state directory
    transcript = agent.session.path.read_text()
    assert "You said: hello there" in transcript
    assert API_KEY not in transcript
    assert [e["kind"] for e in agent.transcript if e["kind"] == "turn_completed"]
    status = agent.status()
    assert status.model_calls == 1 and status.session_id == agent.session.id


async def test_patch_approved_under_ask(make_server, settings_for, repo: Path) -> None:
    server = make_server(one_episode([apply_patch("update_file", "app.py", GREET_DIFF)]))
    approver = ListApprover(Decision.approve())
    agent = Agent(settings_for(server), repo, approver)
    events = await collect(agent.submit("say hello"))
    await agent.close()
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hello")\n'
    [request] = approver.requests
    assert request.kind == "patch" and request.files == ("app.py",)
    assert request.hunks == {"app.py": 1}
    assert '+    print("Hello")' in request.diff
    proposed = next(e for e in events if isinstance(e, ToolCallProposed))
    assert proposed.diff == request.diff
    [output] = [o for o in sent_outputs(server) if o["type"] == "apply_patch_call_output"]
    assert output["status"] == "completed" and "app.py" in output["output"]
    final = events[-1]
    assert isinstance(final, TurnCompleted)
    assert final.files_changed == ("app.py",) and final.tool_calls == 1
    assert final.model_calls == 2
    # undo restores the file exactly
    assert agent.undo().ok
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'


async def test_patch_rejected_reason_reaches_the_model(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(one_episode([apply_patch("update_file", "app.py", GREET_DIFF)]))
    approver = ListApprover(Decision.reject("keep the greeting short"))
    agent = Agent(settings_for(server), repo, approver)
    events = await collect(agent.submit("say hello"))
    await agent.close()
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'
    [output] = [o for o in sent_outputs(server) if o["type"] == "apply_patch_call_output"]
    assert output["status"] == "failed"
    assert "keep the greeting short" in output["output"]
    rejected = next(e for e in events if isinstance(e, ToolOutput))
    assert rejected.rejected and not rejected.success
    assert isinstance(events[-1], TurnCompleted)


async def test_bad_patch_fails_without_asking_or_writing(
    make_server, settings_for, repo: Path
) -> None:
    bad = "@@ def nowhere():\n-    nothing\n+    something\n"
    server = make_server(one_episode([apply_patch("update_file", "app.py", bad)]))
    approver = ListApprover()
    agent = Agent(settings_for(server), repo, approver)
    events = await collect(agent.submit("edit"))
    await agent.close()
    assert approver.requests == []
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'
    [output] = sent_outputs(server)
    assert output["status"] == "failed" and "not applied" in output["output"]
    assert isinstance(events[-1], TurnCompleted)


async def test_read_only_policy_refuses_writes_and_runs_reads(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        one_episode(
            [apply_patch("update_file", "app.py", GREET_DIFF)],
            [shell(["touch created.txt"])],
            [shell(["ls"])],
        )
    )
    approver = ListApprover()
    agent = Agent(settings_for(server, approval_policy="read-only"), repo, approver)
    events = await collect(agent.submit("look around"))
    await agent.close()
    assert approver.requests == []
    assert not (repo / "created.txt").exists()
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'
    outputs = [e for e in events if isinstance(e, ToolOutput)]
    assert [o.rejected for o in outputs] == [True, True, False]
    assert "read-only" in outputs[0].output
    assert "app.py" in outputs[2].output  # ls ran
    shell_outputs = [o for o in sent_outputs(server) if o["type"] == "shell_call_output"]
    assert shell_outputs[1]["output"][0]["outcome"] == {"type": "exit", "exit_code": 0}


async def test_auto_edit_applies_patches_and_asks_for_commands(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        one_episode(
            [apply_patch("create_file", "new.txt", "+fresh\n")],
            [shell(["touch made.txt"])],
        )
    )
    approver = ListApprover(Decision.reject())
    agent = Agent(settings_for(server, approval_policy="auto-edit"), repo, approver)
    await collect(agent.submit("go"))
    await agent.close()
    assert (repo / "new.txt").read_text() == "fresh\n"
    [request] = approver.requests
    assert request.kind == "command" and request.command == "touch made.txt"
    assert not (repo / "made.txt").exists()


async def test_session_scopes_stop_asking(make_server, settings_for, repo: Path) -> None:
    server = make_server(
        one_episode(
            [shell(["touch a.txt"])],
            [shell(["touch a.txt"])],  # exact command: approved for the session
            [shell(["mkdir d1"])],
            [shell(["mkdir d2"])],  # prefix "mkdir": approved for the session
            [apply_patch("create_file", "p1.txt", "+1\n")],
            [apply_patch("create_file", "p2.txt", "+2\n")],  # all patches
        )
    )
    approver = ListApprover(
        Decision(True, scope=Scope.EXACT_COMMAND),
        Decision(True, scope=Scope.COMMAND_PREFIX),
        Decision(True, scope=Scope.ALL_PATCHES),
    )
    agent = Agent(settings_for(server), repo, approver)
    events = await collect(agent.submit("make things"))
    await agent.close()
    assert [r.title for r in approver.requests] == ["touch a.txt", "mkdir d1", "Edit p1.txt"]
    assert (repo / "d2").is_dir() and (repo / "p2.txt").read_text() == "2\n"
    assert isinstance(events[-1], TurnCompleted) and events[-1].tool_calls == 6
    assert "commands starting with: mkdir" in agent.status().grants


async def test_update_plan_and_unknown_function(make_server, settings_for, repo: Path) -> None:
    server = make_server(
        one_episode(
            [update_plan([("Read", "completed"), ("Fix", "in_progress")], "two steps")],
            [function_call("launch_rockets", {"count": 3})],
        )
    )
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await collect(agent.submit("plan it"))
    await agent.close()
    [plan] = [e for e in events if isinstance(e, PlanUpdated)]
    assert [(s.step, s.status) for s in plan.steps] == [
        ("Read", "completed"),
        ("Fix", "in_progress"),
    ]
    outputs = [o for o in sent_outputs(server) if o["type"] == "function_call_output"]
    assert "unknown tool 'launch_rockets'" in outputs[-1]["output"]
    assert isinstance(events[-1], TurnCompleted)


async def test_function_tools_mode(make_server, settings_for, repo: Path) -> None:
    patch = "*** Begin Patch\n*** Update File: app.py\n" + GREET_DIFF + "*** End Patch\n"
    server = make_server(
        one_episode(
            [function_call("apply_patch", {"input": patch})],
            [function_call("shell", {"commands": ["cat app.py"]})],
        )
    )
    agent = Agent(settings_for(server, approval_policy="auto-edit", function_tools=True), repo,
                  ListApprover())  # fmt: skip
    events = await collect(agent.submit("edit via functions"))
    await agent.close()
    first = server.record[0].payload
    assert {t["type"] for t in first["tools"]} == {"function"}
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hello")\n'
    outputs = [o for o in sent_outputs(server) if o["type"] == "function_call_output"]
    assert 'print("Hello")' in outputs[-1]["output"]
    assert isinstance(events[-1], TurnCompleted)


async def test_server_error_is_a_readable_agent_error(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    server.faults.error("invalid_request_error", 400, "Unknown parameter: 'frobnicate'.")
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await collect(agent.submit("hello"))
    [error] = [e for e in events if isinstance(e, AgentError)]
    assert error.fatal and "frobnicate" in error.message
    assert "Traceback" not in error.message
    # the conversation is still usable: the next turn works and carries both messages
    events = await collect(agent.submit("again"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    assert events[-1].final_text == "You said: again"


async def test_resume_restores_conversation_and_transcript(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    settings = settings_for(server)
    agent = Agent(settings, repo, ListApprover())
    await collect(agent.submit("remember the word pineapple"))
    await agent.close()
    session_id = agent.session.id

    resumed = Agent.resume(settings, repo, ListApprover(), "last")
    assert resumed.session.id == session_id
    assert any(e.get("text") == "remember the word pineapple" for e in resumed.transcript)
    events = await collect(resumed.submit("what was the word?"))
    await resumed.close()
    assert isinstance(events[-1], TurnCompleted)
    # store=false on a new connection: the full history is resent, the old message included
    last = json.dumps(server.record[-1].payload)
    assert "pineapple" in last and "what was the word?" in last
    assert "previous_response_id" not in server.record[-1].payload
    assert API_KEY not in resumed.session.path.read_text()


async def test_model_call_metrics_per_call(make_server, settings_for, repo: Path) -> None:
    server = make_server(one_episode([shell(["ls"])]))
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await collect(agent.submit("list"))
    await agent.close()
    calls = [e for e in events if isinstance(e, ModelCallCompleted)]
    assert len(calls) == 2
    assert calls[1].metrics.chained  # the second call sent only the tool output
    final = events[-1]
    assert final.metrics.bytes_sent == sum(c.metrics.bytes_sent for c in calls)
    assert final.metrics.bytes_full_resend >= final.metrics.bytes_sent


def test_policy_change_and_status(settings_for, repo: Path, responses_server) -> None:
    agent = Agent(settings_for(responses_server), repo, ListApprover())
    agent.set_policy(Policy.FULL_AUTO)
    agent.set_model("other-model")
    status = agent.status()
    assert status.policy == "full-auto" and status.model == "other-model"
    assert status.transport == "connecting"
    old = agent.session.id
    agent.new_session()
    assert agent.status().session_id != old and agent.transcript == []


async def test_no_sandbox_warns_and_full_auto_still_asks_for_writes(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(one_episode([shell(["touch made.txt"])]))
    approver = ListApprover(Decision.approve())
    settings = settings_for(server, approval_policy="full-auto", sandbox="none")
    agent = Agent(settings, repo, approver)
    events = await collect(agent.submit("make a file"))
    await agent.close()
    warnings = [e for e in events if isinstance(e, Notice) and e.category == "warning"]
    assert warnings and "without a sandbox" in warnings[0].text
    [request] = approver.requests
    assert "no sandbox" in request.reason
    assert (repo / "made.txt").exists()


async def test_websocket_refused_falls_back_to_http(make_server, settings_for, repo: Path) -> None:
    server = make_server()
    server.faults.reject_websocket(426)
    agent = Agent(settings_for(server, transport="auto"), repo, ListApprover())
    events = await collect(agent.submit("over http"))
    await agent.close()
    assert events[-1].final_text == "You said: over http"
    assert any(isinstance(e, Notice) and e.category == "fallback" for e in events)
    assert TransportState("http-fallback") in events
    assert agent.status().transport == "http-fallback"
    assert events[-1].metrics.transport == "http"


async def test_compaction_threshold_compacts_before_the_next_turn(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    agent = Agent(settings_for(server, compact_threshold=1), repo, ListApprover())
    await collect(agent.submit("first message"))
    events = await collect(agent.submit("second message"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted)
    [compact_request] = [f for f in server.record if f.transport == "http"]  # POST /compact
    assert "first message" in json.dumps(compact_request.payload["input"])
    # the next call starts from the compacted window: kept user messages, then the compaction
    types = [item["type"] for item in server.record[-1].payload["input"]]
    assert types == ["message", "compaction", "message"]
    assert "previous_response_id" not in server.record[-1].payload
    assert any(isinstance(e, Notice) and "Compacted" in e.text for e in events)


async def test_patch_refused_during_a_merge(make_server, settings_for, repo: Path) -> None:
    """A merge in progress: the patch is not applied and the model is told why."""
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "notes.txt").write_text("one\nother\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "notes.txt").write_text("one\nmain\n")
    git(repo, "commit", "-qam", "main")
    subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True)
    conflicted = (repo / "notes.txt").read_text()
    server = make_server(one_episode([apply_patch("update_file", "app.py", GREET_DIFF)]))
    agent = Agent(settings_for(server, approval_policy="auto-edit"), repo, ListApprover())
    events = await collect(agent.submit("edit during merge"))
    await agent.close()
    [output] = sent_outputs(server)
    assert output["status"] == "failed" and "merge" in output["output"].lower()
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'
    assert (repo / "notes.txt").read_text() == conflicted
    assert isinstance(events[-1], TurnCompleted)


async def test_damaged_saved_state_is_a_clear_resume_error(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    agent = Agent(settings_for(server), repo, ListApprover())
    await collect(agent.submit("hello"))
    await agent.close()
    agent.session.save_state({"conversation": {"version": 99}})
    before = agent.session.path.read_text()
    with pytest.raises(SessionError, match="cannot be resumed"):
        Agent.resume(settings_for(server), repo, ListApprover(), agent.session.id)
    assert agent.session.path.read_text() == before  # nothing rewritten


def test_failed_start_leaves_no_session(settings_for, tmp_path: Path, responses_server) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepository):
        Agent(settings_for(responses_server), plain, ListApprover())
    assert SessionStore().list() == []


async def test_patch_escaping_the_repository_is_refused(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(one_episode([apply_patch("create_file", "../escape.txt", "+out\n")]))
    approver = ListApprover()
    agent = Agent(settings_for(server, approval_policy="full-auto"), repo, approver)
    events = await collect(agent.submit("write outside"))
    await agent.close()
    assert not (repo.parent / "escape.txt").exists()
    assert approver.requests == []
    [output] = sent_outputs(server)
    assert output["status"] == "failed" and "escape.txt" in output["output"]
    assert isinstance(events[-1], TurnCompleted)


async def test_only_selected_hunks_are_applied(make_server, settings_for, repo: Path) -> None:
    lines = [f"line {i}" for i in range(1, 21)]
    (repo / "long.txt").write_text("\n".join(lines) + "\n")
    git(repo, "add", "long.txt")
    git(repo, "commit", "-qm", "long file")
    diff = (
        "@@\n line 1\n-line 2\n+LINE TWO\n line 3\n"
        "@@\n line 17\n-line 18\n+LINE EIGHTEEN\n line 19\n"
    )
    server = make_server(one_episode([apply_patch("update_file", "long.txt", diff)]))
    approver = ListApprover(Decision(True, selected_hunks={"long.txt": frozenset({1})}))
    agent = Agent(settings_for(server), repo, approver)
    await collect(agent.submit("edit two places"))
    await agent.close()
    assert approver.requests[0].hunks == {"long.txt": 2}
    text_after = (repo / "long.txt").read_text()
    assert "LINE EIGHTEEN" in text_after and "line 2\n" in text_after
    assert "LINE TWO" not in text_after
    [output] = sent_outputs(server)
    assert "only some of the hunks" in output["output"]


async def test_resume_with_store_chains_to_the_stored_response(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    settings = settings_for(server, store=True)
    agent = Agent(settings, repo, ListApprover())
    first = await collect(agent.submit("stored turn"))
    await agent.close()
    resumed = Agent.resume(settings, repo, ListApprover(), agent.session.id)
    events = await collect(resumed.submit("continue"))
    await resumed.close()
    assert isinstance(events[-1], TurnCompleted)
    payload = server.record[-1].payload
    assert payload["previous_response_id"] == first[-1].metrics.response_id
    assert "stored turn" not in json.dumps(payload["input"])  # only the new message was sent


async def test_unwritable_transcript_warns_once_and_work_goes_on(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(one_episode([shell(["ls"])]))
    agent = Agent(settings_for(server), repo, ListApprover())
    # Make both session files impossible to write (a directory where the file should be).
    agent.session.path.unlink()
    agent.session.path.mkdir()
    agent.session.state_path.mkdir()
    events = await collect(agent.submit("list files"))
    await agent.close()
    warnings = [e for e in events if isinstance(e, Notice) and "transcript" in e.text]
    assert len(warnings) == 1
    assert any(isinstance(e, AgentError) and not e.fatal for e in events)
    assert isinstance(events[-1], TurnCompleted) and events[-1].tool_calls == 1
    assert any(e["kind"] == "turn_completed" for e in agent.transcript)  # kept in memory


async def test_instructions_reach_the_server(
    make_server, settings_for, repo: Path, isolated_state: Path
) -> None:
    """Base prompt, the repository's AGENTS.md and the user's default instructions file."""
    (repo / "AGENTS.md").write_text("Run tests with make check.")
    user_dir = isolated_state.parent / "userconf"
    user_dir.mkdir()
    (user_dir / "instructions.md").write_text("Answer like a pirate.")
    server = make_server()
    agent = Agent(settings_for(server), repo, ListApprover(), cwd=repo)
    await collect(agent.submit("hi"))
    await agent.close()
    instructions = server.record[0].payload["instructions"]
    assert instructions.startswith("You are codeagent")
    assert instructions.index("make check") < instructions.index("pirate")


async def test_model_and_reasoning_settings_reach_the_server(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server()
    settings = settings_for(server, model="gpt-6.2-sol", reasoning_effort="high", store=True)
    agent = Agent(settings, repo, ListApprover())
    await collect(agent.submit("hi"))
    agent.set_model("gpt-6.2-astra")
    await collect(agent.submit("again"))
    await agent.close()
    first, second = server.record[0].payload, server.record[-1].payload
    assert first["model"] == "gpt-6.2-sol" and first["store"] is True
    assert first["reasoning"] == {"effort": "high", "summary": "auto"}
    assert {t["type"] for t in first["tools"]} == {"apply_patch", "shell", "function"}
    assert second["model"] == "gpt-6.2-astra"
    assert "previous_response_id" not in second  # a changed model never chains


async def test_resume_with_unreadable_undo_history_says_so_at_start(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(api_key=API_KEY)
    first = Agent(settings_for(server), repo, ListApprover())
    session_id = first.session.id
    await first.close()
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"{not json", capture_output=True
    ).stdout.decode()
    git(repo, "update-ref", f"refs/codeagent/{session_id}/state", blob.strip())

    again = Agent(
        settings_for(server), repo, ListApprover(), session=SessionStore().load(session_id)
    )
    try:
        [notice] = [n for n in again.startup_notices if "undo history" in n.text]
        assert notice.category == "warning"
        assert "could not be read" in notice.text and "starting afresh" in notice.text
    finally:
        await again.close()
