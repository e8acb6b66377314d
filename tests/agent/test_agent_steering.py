"""Steering: a message typed while a turn runs (``Agent.steer``) reaches that turn.

Over WebSocket, on a model the catalog marks as steerable, it goes at once as
``response.steer``: accepted, then applied by the response that carries it (an automatic
successor, or our next request, to which the server prepends it). Otherwise -- a model without
steering, HTTP, a refused steer -- it rides with the next model call, after the tool outputs;
when no call follows, it comes back unapplied so the UI can send it as the next message.
Everything runs against the local server over loopback; nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from agent_support import ListApprover, collect, kinds

from codeagent.agent.approvals import Decision
from codeagent.agent.events import (
    AgentEvent,
    SteerSubmitted,
    SteerUpdate,
    TextDelta,
    TurnCompleted,
    TurnInterrupted,
)
from codeagent.agent.loop import Agent
from codeagent.server.script import Episode, Script, Step, echo, shell, text

#: An active model without steering (catalog: ``steering = false``).
PLAIN_MODEL = "gpt-5.6-sol"
LONG = " ".join(f"word{i}" for i in range(300))
#: Slow enough that the response is still streaming when the test reacts to its first delta.
SLOW = 30


def creates(server: Any) -> list[dict[str, Any]]:
    """The ``response.create`` requests the server received (WebSocket frames, HTTP bodies)."""
    return [
        f.payload
        for f in server.record
        if f.payload.get("type") == "response.create" or "stream" in f.payload
    ]


def steer_frames(server: Any) -> list[dict[str, Any]]:
    return [f.payload for f in server.record if f.payload.get("type") == "response.steer"]


def updates(events: list[AgentEvent]) -> list[str]:
    return [e.state for e in events if isinstance(e, SteerUpdate)]


def message_texts(items: list[dict[str, Any]], role: str = "user") -> list[str]:
    found = []
    for item in items:
        if item.get("type", "message") == "message" and item.get("role") == role:
            content = item["content"]
            parts = [content] if isinstance(content, str) else [p.get("text", "") for p in content]
            found.append("".join(parts))
    return found


def steered_reply_script(*steps: Step, match: str = "fix") -> Script:
    """``steps`` for the user's message; a message containing "Paris" (the steer) is answered
    by quoting it, so the answer shows what the model was given."""
    return Script(
        [
            Episode([Step([echo("Steered: {user}")])], match="Paris"),
            Episode(list(steps), match=match),
        ]
    )


# ---------------------------------------------------------------------- path B: next call


@pytest.mark.parametrize(
    "model, transport",
    [(PLAIN_MODEL, "websocket"), ("gpt-6-astra", "http")],
    ids=["model-without-steering", "http"],
)
async def test_a_steer_during_a_tool_call_rides_with_the_next_call_after_the_output(
    make_server, settings_for, repo: Path, model: str, transport: str
) -> None:
    server = make_server(
        steered_reply_script(Step([shell(["touch made.txt"])]), Step([text("Made it.")]))
    )
    steer_ids: list[str] = []
    # The command needs approval: the user types the steer while it waits for the key.
    approver = ListApprover(
        Decision.approve(), on_ask=lambda _r: steer_ids.append(agent.steer("mention Paris"))
    )
    agent = Agent(
        settings_for(server, model=model, transport=transport, approval_policy="ask"),
        repo,
        approver,
    )
    events = await collect(agent.submit("fix it"))
    await agent.close()

    submitted = [e for e in events if isinstance(e, SteerSubmitted)]
    assert submitted == [SteerSubmitted(steer_ids[0], "mention Paris", "next_call")]
    assert updates(events) == ["applied"]
    order = kinds(events)
    applied_at = order.index("steer_update")
    assert order.index("tool_output") < applied_at < order.index("model_call", applied_at)
    assert steer_frames(server) == []  # nothing went as response.steer
    _first, second = creates(server)
    # The next request: the command's output, then the steer as a user message.
    assert [i["type"] for i in second["input"]][-2:] == ["shell_call_output", "message"]
    assert message_texts(second["input"])[-1] == "mention Paris"
    assert isinstance(events[-1], TurnCompleted)
    assert events[-1].final_text == "Steered: mention Paris"
    # The history holds it where the model saw it, and the transcript says what happened.
    history = [i.get("type") for i in agent.conversation.items]
    assert history[-3:] == ["shell_call_output", "message", "message"]
    assert any(e["kind"] == "steer_submitted" for e in agent.transcript)


async def test_a_steer_during_the_final_answer_comes_back_unapplied(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(Script([Episode([Step([text(LONG)], tokens_per_second=SLOW)])]))
    agent = Agent(settings_for(server, model=PLAIN_MODEL), repo, ListApprover())
    events: list[AgentEvent] = []
    async for event in agent.submit("tell me a story"):
        events.append(event)
        if isinstance(event, TextDelta) and not any(isinstance(e, SteerSubmitted) for e in events):
            agent.steer("in Paris, please")
    await agent.close()

    [submitted] = [e for e in events if isinstance(e, SteerSubmitted)]
    assert submitted.via == "next_call"
    assert updates(events) == ["unapplied"]  # no call followed: the UI sends it next
    order = kinds(events)
    assert order.index("steer_update") < order.index("turn_completed") == len(order) - 1
    assert len(creates(server)) == 1 and steer_frames(server) == []
    assert "in Paris, please" not in message_texts(agent.conversation.items)


async def test_interrupting_a_turn_with_a_waiting_steer_returns_it_unapplied(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(steered_reply_script(Step([shell(["touch made.txt"])])))

    class SteerWhileWaiting:
        async def decide(self, request: Any) -> Decision:
            agent.steer("mention Paris")
            await asyncio.Event().wait()  # the key never comes
            raise AssertionError("unreachable")

    agent = Agent(settings_for(server, model=PLAIN_MODEL), repo, SteerWhileWaiting())
    events = []
    async for event in agent.submit("fix it"):
        events.append(event)
        if isinstance(event, SteerSubmitted):
            agent.interrupt()  # Esc while the approval waits
    await agent.close()
    assert isinstance(events[-1], TurnInterrupted)
    assert updates(events) == ["unapplied"]
    assert kinds(events).index("steer_update") < len(events) - 1
    assert len(creates(server)) == 1


async def test_steering_needs_a_running_turn_and_some_text(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(steered_reply_script(Step([shell(["touch made.txt"])])))
    problems: list[str] = []

    def try_empty(_request: Any) -> None:
        with pytest.raises(ValueError, match="needs some text"):
            agent.steer("   ")
        problems.append("empty refused")

    agent = Agent(
        settings_for(server, model=PLAIN_MODEL, approval_policy="ask"),
        repo,
        ListApprover(Decision.approve(), on_ask=try_empty),
    )
    try:
        with pytest.raises(RuntimeError, match="no turn is running"):
            agent.steer("too late")
        events = await collect(agent.submit("fix it"))
    finally:
        await agent.close()
    assert problems == ["empty refused"]
    assert not [e for e in events if isinstance(e, SteerSubmitted | SteerUpdate)]


# ---------------------------------------------------------------------- path A: response.steer


async def submit_steering_at_first_delta(agent: Agent, prompt: str, steer: str) -> list[AgentEvent]:
    """Run a turn, steering once when its answer starts streaming."""
    events: list[AgentEvent] = []
    async for event in agent.submit(prompt):
        events.append(event)
        if isinstance(event, TextDelta) and not any(isinstance(e, SteerSubmitted) for e in events):
            agent.steer(steer)
    return events


async def test_a_steer_mid_stream_is_accepted_and_applied_by_the_successor(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        steered_reply_script(Step([text(LONG)], tokens_per_second=SLOW), match="story")
    )
    agent = Agent(settings_for(server), repo, ListApprover())  # gpt-6-astra steers
    events = await submit_steering_at_first_delta(agent, "tell me a story", "set it in Paris")
    followup = await collect(agent.submit("thanks"))
    await agent.close()

    [submitted] = [e for e in events if isinstance(e, SteerSubmitted)]
    assert submitted.via == "steer"
    assert updates(events) == ["accepted", "applied"]
    assert all(u.steer_id == submitted.steer_id for u in events if isinstance(u, SteerUpdate))
    [frame] = steer_frames(server)
    assert set(frame) == {"type", "previous_response_id", "input"}
    assert frame["input"] == "set it in Paris"
    done = events[-1]
    assert isinstance(done, TurnCompleted) and done.final_text == "Steered: set it in Paris"
    assert done.model_calls == 1  # the successor continued the same call
    successor = done.metrics.response_id
    assert successor != frame["previous_response_id"]
    # The server started the successor by itself: one create for the turn, one for "thanks".
    _first, second = creates(server)
    assert second["previous_response_id"] == successor  # chained from the successor
    assert message_texts(second["input"]) == ["thanks"]  # only what is new
    # The history: the steered answer, the steer where the server applied it, the successor.
    assert message_texts(agent.conversation.items) == [
        "tell me a story",
        "set it in Paris",
        "thanks",
    ]
    assert not [e for e in events if e.kind == "notice" and "cut short" in e.text]
    assert isinstance(followup[-1], TurnCompleted)


async def test_a_steer_after_a_tool_call_is_pending_and_the_server_prepends_it(
    make_server, settings_for, repo: Path
) -> None:
    # The tool call comes first, so the response runs to its end for our output.
    server = make_server(
        steered_reply_script(Step([shell(["cat notes.txt"]), text(LONG)], tokens_per_second=SLOW))
    )
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await submit_steering_at_first_delta(agent, "fix it", "mention Paris")
    await agent.close()

    assert updates(events) == ["accepted", "applied"]
    order = kinds(events)
    assert order.index("tool_output") < order.index("steer_update", order.index("tool_output"))
    [frame] = steer_frames(server)
    _first, second = creates(server)
    # Our request carries only the tool output; the steer is not resent...
    assert [i["type"] for i in second["input"]] == ["shell_call_output"]
    assert second["previous_response_id"] == frame["previous_response_id"]
    # ...and the server put it before the output.
    done = events[-1]
    assert isinstance(done, TurnCompleted) and done.final_text == "Steered: mention Paris"
    taken = server.inputs.of(done.metrics.response_id)
    assert [i["type"] for i in taken.items] == ["message", "shell_call_output"]
    assert message_texts(taken.items) == ["mention Paris"]
    # Our history matches what the model saw.
    types = [i.get("type") for i in agent.conversation.items]
    assert types[-3:] == ["message", "shell_call_output", "message"]
    assert message_texts(agent.conversation.items) == ["fix it", "mention Paris"]


async def test_a_refused_steer_is_rescheduled_and_goes_with_the_next_call(
    make_server, settings_for, repo: Path
) -> None:
    # Our catalog says the model steers; the server does not agree.
    server = make_server(
        steered_reply_script(Step([shell(["cat notes.txt"]), text(LONG)], tokens_per_second=SLOW))
    )
    settings = settings_for(server, model=PLAIN_MODEL, models={PLAIN_MODEL: {"steering": True}})
    agent = Agent(settings, repo, ListApprover())
    events = await submit_steering_at_first_delta(agent, "fix it", "mention Paris")
    await agent.close()

    [submitted] = [e for e in events if isinstance(e, SteerSubmitted)]
    assert submitted.via == "steer" and len(steer_frames(server)) == 1
    assert updates(events) == ["rescheduled", "applied"]
    rescheduled = next(e for e in events if isinstance(e, SteerUpdate))
    assert "does not take steering" in rescheduled.detail
    assert "_" not in rescheduled.detail.split("(")[1]  # words, not an error code
    _first, second = creates(server)
    assert [i["type"] for i in second["input"]] == ["shell_call_output", "message"]
    assert message_texts(second["input"]) == ["mention Paris"]
    assert events[-1].final_text == "Steered: mention Paris"


async def test_a_steerable_model_over_http_steers_with_the_next_call(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        steered_reply_script(Step([shell(["cat notes.txt"]), text(LONG)], tokens_per_second=SLOW))
    )
    agent = Agent(settings_for(server, transport="http"), repo, ListApprover())
    events = await submit_steering_at_first_delta(agent, "fix it", "mention Paris")
    await agent.close()
    [submitted] = [e for e in events if isinstance(e, SteerSubmitted)]
    assert submitted.via == "next_call" and steer_frames(server) == []
    assert updates(events) == ["applied"]
    assert events[-1].final_text == "Steered: mention Paris"


# ---------------------------------------------------------------------- compaction vs steering


async def test_a_steerable_model_compacts_itself_between_the_calls_of_a_turn(
    make_server, settings_for, repo: Path
) -> None:
    """No context_management (the API would refuse to steer), so the client compacts, and not
    only at turn start: before the call after the tool output too."""
    server = make_server(
        steered_reply_script(Step([shell(["cat notes.txt"])]), Step([text("Read it.")]))
    )
    agent = Agent(settings_for(server, compact_threshold=1), repo, ListApprover())
    events = await collect(agent.submit("fix it"))
    await agent.close()
    assert isinstance(events[-1], TurnCompleted) and events[-1].final_text == "Read it."
    calls = creates(server)
    assert len(calls) == 2 and not any("context_management" in body for body in calls)
    compactions = [f for f in server.record if f.transport == "http" and "stream" not in f.payload]
    assert len(compactions) == 1  # between the two calls of this one turn
    assert "shell_call_output" in str(compactions[0].payload["input"])
    assert "compaction" in [item["type"] for item in calls[1]["input"]]
    assert "previous_response_id" not in calls[1]  # a new chain from the compacted window


async def test_after_a_lost_cache_the_full_resend_holds_the_steer_where_the_model_saw_it(
    make_server, settings_for, repo: Path
) -> None:
    server = make_server(
        steered_reply_script(Step([text(LONG)], tokens_per_second=SLOW), match="story")
    )
    agent = Agent(settings_for(server), repo, ListApprover())
    events = await submit_steering_at_first_delta(agent, "tell me a story", "set it in Paris")
    server.state.faults.forget_cached_responses()
    await collect(agent.submit("thanks"))
    await agent.close()
    shown = [e.text for e in events if e.kind == "text_done"]  # the answer, then the successor's
    resend = creates(server)[-1]
    assert "previous_response_id" not in resend
    said = [(i.get("role"), text_of(i)) for i in resend["input"] if i.get("type") == "message"]
    assert said[:4] == [
        ("user", "tell me a story"),
        ("assistant", shown[0]),
        ("user", "set it in Paris"),
        ("assistant", shown[1]),
    ]
    assert said[-1] == ("user", "thanks")


def text_of(item: dict[str, Any]) -> str:
    content = item["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
