"""What the conversation and the status line show, driven as a user would: the welcome, resuming a
session (``codeagent resume``, ``resume ID``, ``/resume``), live status and cost, the goodbye."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeagent.responses.catalog import DEFAULT_MODEL, load_catalog
from codeagent.server import script as s
from codeagent.tui.widgets.chat import AssistantMessage, NoticeLine, ToolBlock, UserMessage
from tests.tui.conftest import ANSWER, tui_script, until

SIZE = (160, 40)
#: a command that runs until the test creates the file ``go`` (no timing involved)
BLOCKING = "while [ ! -e go ]; do sleep 0.05; done; echo released"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@pytest.fixture
def server() -> Iterator:
    """The TUI script plus a command that blocks until released."""
    from codeagent.server.embedded import EmbeddedServer

    script = tui_script()
    script.episodes.insert(0, s.Episode([s.Step([s.shell([BLOCKING])])], "block"))
    srv = EmbeddedServer(script)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def send(pilot, app, text: str) -> None:
    app.prompt.focus()
    app.prompt.load_text(text)
    await pilot.press("enter")


async def finish(pilot, app, turns: int = 1) -> None:
    await until(pilot, lambda: app.turns_completed >= turns and not app.turn_running, "turn end")


def status_text(app) -> str:
    return str(app.status_bar.render())


def notices(app, category: str | None = None) -> list[str]:
    return [
        str(n.render()) for n in app.query(NoticeLine) if category is None or n.has_class(category)
    ]


def settings_for(repo: Path, server, **overrides):
    from codeagent.config import load_settings

    values = {
        "base_url": server.base_url,
        "api_key": "sk-test-secret",
        "approval_policy": "ask",
        "sandbox": "none",
        "model": DEFAULT_MODEL,
        **overrides,
    }
    return load_settings(repo, values)


async def one_turn_session(make_app, text: str = "hello there"):
    """Run one turn in a first app and quit; returns the session's last ``AgentStatus``."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, text)
        await finish(pilot, app)
        status = app.agent.status()
        await pilot.press("ctrl+q")
    return status


# --- resume -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["latest", "by id"])
async def test_codeagent_resume_opens_with_the_transcript(make_app, repo, server, which) -> None:
    """``codeagent resume`` (the latest session) and ``codeagent resume ID`` show what was said."""
    from codeagent.tui.launch import build_app

    first = await one_turn_session(make_app)
    session_id = first.session_id
    settings = settings_for(repo, server)
    app = build_app(settings, repo, session_id="last" if which == "latest" else session_id)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query(AssistantMessage), "the old answer")
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hello there"]
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER]
        assert any(f"Resumed session {session_id}" in n for n in notices(app))
        # the session's figures come back with it
        status = app.agent.status()
        assert (status.turns, status.output_tokens) == (1, first.output_tokens)
        assert f"{first.cost:.4f}" in status_text(app)
        await send(pilot, app, "/earlier")
        await until(pilot, lambda: "shown already" in notices(app)[-1], "earlier answered")


async def test_slash_resume_shows_the_transcript_like_codeagent_resume(make_app) -> None:
    session_id = (await one_turn_session(make_app)).session_id
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, f"/resume {session_id}")
        await until(pilot, lambda: app.query(AssistantMessage), "the old answer")
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hello there"]
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER]
        # and the conversation goes on from there
        await send(pilot, app, "hello again")
        await finish(pilot, app)
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER, ANSWER]


async def test_a_resumed_long_session_pages_with_earlier(make_app, repo, server) -> None:
    from codeagent.sessions import SessionStore
    from codeagent.tui.launch import build_app
    from codeagent.tui.widgets.pages import PAGE_BLOCKS

    session = SessionStore().create(repo)
    for n in range(PAGE_BLOCKS + 5):
        session.append_event({"kind": "turn_started", "text": f"Question {n}"})
        session.append_event({"kind": "text_done", "item_id": f"m{n}", "text": f"Answer {n}"})
    app = build_app(settings_for(repo, server), repo, session_id=session.id)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query(AssistantMessage), "answers")
        assert app.query(AssistantMessage).last().text == f"Answer {PAGE_BLOCKS + 4}"
        await send(pilot, app, "/earlier")
        await send(pilot, app, "/earlier")
        await until(pilot, lambda: len(app.query(UserMessage)) == PAGE_BLOCKS + 5, "all pages")
        questions = [str(m.render()) for m in app.query(UserMessage)]
        assert questions == [f"Question {n}" for n in range(PAGE_BLOCKS + 5)]


# --- live status, cost, counters ---------------------------------------------------------------


async def test_live_status_says_what_happens_now(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        idle = status_text(app)
        assert "connecting" not in idle and "working" not in idle
        await send(pilot, app, "slow please")
        await until(pilot, lambda: "streaming" in status_text(app), "streaming")
        live = status_text(app)
        assert re.search(f"[{SPINNER}] streaming · \\d+s", live), live
        assert "ttft –" not in live and "working" not in live
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "interrupted")

        await send(pilot, app, "block please")
        await until(pilot, lambda: "waiting for your approval" in status_text(app), "approval")
        assert "working" not in status_text(app)
        await pilot.press("f2")
        await pilot.press("y")
        await until(pilot, lambda: "running" in status_text(app), "running the command")
        assert "while [ ! -e go ]" in status_text(app)
        (repo / "go").write_text("")
        await finish(pilot, app, turns=2)
        done = status_text(app)
        assert not re.search(f"[{SPINNER}]", done) and "connecting" not in done


async def test_cost_and_context_left_come_from_the_catalog_and_reset_on_new(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        status = app.agent.status()
        info = load_catalog().get(DEFAULT_MODEL)
        cost = info.cost(status.input_tokens, status.cached_tokens, status.output_tokens)
        assert status.cost == pytest.approx(cost) and status.turns == 1
        bar = status_text(app)
        assert f"${cost:.4f}" in bar and "% left" in bar
        left = round(100 * (1 - status.context_tokens / info.context_window))
        assert f"{left}% left" in bar

        await send(pilot, app, "/stats")
        await until(pilot, lambda: "Cost" in notices(app)[-1], "stats")
        stats = notices(app)[-1]
        assert "Turns: 1, model calls: 1" in stats
        assert f"{status.output_tokens} out" in stats and f"${cost:.4f}" in stats

        await send(pilot, app, "/new")
        await until(pilot, lambda: "New session" in notices(app)[-1], "new session")
        assert app.agent.status().output_tokens == 0
        assert f"${cost:.4f}" not in status_text(app) and "100% left" in status_text(app)
        await send(pilot, app, "/stats")
        await until(pilot, lambda: "Turns: 0" in notices(app)[-1], "stats after /new")


# --- welcome and goodbye -----------------------------------------------------------------------


async def test_the_first_screen_says_where_you_are_and_how_to_get_help(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        welcome = " ".join(notices(app))
        assert str(repo) in welcome
        assert "branch main" in welcome
        assert DEFAULT_MODEL in welcome and "ask" in welcome and "WebSocket" in welcome
        assert "/help" in welcome


def test_on_exit_the_terminal_shows_how_to_resume(repo, server, capsys) -> None:
    from codeagent.tui.launch import run_app

    async def quit_at_once(pilot) -> None:
        await pilot.pause()
        await pilot.press("ctrl+q")

    code = run_app(settings_for(repo, server), repo, headless=True, auto_pilot=quit_at_once)
    assert code == 0
    out = capsys.readouterr().out
    assert re.search(r"codeagent resume [0-9a-z-]+", out), out


# --- smaller items -----------------------------------------------------------------------------


async def test_an_interrupted_command_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "block please")
        await until(pilot, lambda: app.query("ApprovalPanel"), "approval")
        await pilot.press("f2")
        await pilot.press("y")
        await until(pilot, lambda: "running" in app.agent.status().activity, "the command runs")
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "interrupted")
        block = app.query_one(ToolBlock)
        assert not block.has_class("running")
        assert "interrupted" in str(block.title) and "…" not in str(block.title)


async def test_a_queued_message_says_it_is_queued_until_its_turn(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: app.query("ApprovalPanel"), "approval")
        app.prompt.load_text("hello after")
        await pilot.press("tab")  # Tab queues for after the turn (Enter would steer it)
        queued = [m for m in app.query(UserMessage) if "hello after" in str(m.render())]
        assert len(queued) == 1 and "queued" in str(queued[0].render())
        await pilot.press("f2")
        await pilot.press("y")
        await finish(pilot, app, turns=2)
        users = [str(m.render()) for m in app.query(UserMessage)]
        assert users == ["patch it", "hello after"]  # sent now, so no longer labelled


async def test_a_lost_connection_says_what_failed_and_where(make_app, server) -> None:
    app = make_app(transport="websocket")
    async with app.run_test(size=SIZE) as pilot:
        server.faults.drop_mid_stream(after_events=1, times=50)
        await send(pilot, app, "hello there")
        await until(pilot, lambda: notices(app, "error"), "error notice")
        await until(pilot, lambda: not app.turn_running, "turn ended")
        error = notices(app, "error")[-1]
        assert "[ConnectionClosed]" not in error and "Connection" not in error.split()[0]
        assert server.base_url in error and "check" in error.lower()


async def test_after_a_websocket_refusal_the_live_status_says_http_fallback(make_app, server):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        server.faults.reject_websocket(426)
        await send(pilot, app, "slow please")
        await until(pilot, lambda: "streaming" in status_text(app), "streaming over HTTP")
        assert "HTTP fallback" in status_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "interrupted")


def test_activity_follows_the_agents_events() -> None:
    """What the status line says for each stage of a turn, reconnects and fallbacks included."""
    from codeagent.agent import events as ev
    from codeagent.agent.metrics import UsageTotals
    from codeagent.agent.status import Activity

    activity, usage = Activity(clock=lambda: 5.0), UsageTotals()
    seen = []
    for event in [
        ev.TurnStarted("hi"),
        ev.ReasoningDelta("r1", "hm"),
        ev.TextDelta("m1", "a"),
        ev.Notice("reconnect", "The connection dropped; reconnecting."),
        ev.Notice("fallback", "WebSocket refused; using HTTP."),
        ev.ToolCallProposed("c1", "shell", "make test"),
        ev.ToolOutput("c1", "shell", "ok"),
        ev.TurnCompleted(ev.TurnMetrics(total_time=2.0)),
    ]:
        activity.observe(event, usage)
        seen.append(activity.label)
    assert seen == [
        "waiting for the model",
        "thinking",
        "streaming",
        "reconnecting",
        "HTTP fallback: waiting for the model",
        "running make test",
        "waiting for the model",
        "",
    ]
    assert usage.turns == 1 and activity.turn_started is None
