"""`codeagent` paints its welcome before the agent exists (issue 15); nothing typed is lost.

The app built by ``launch.build_app`` imports and builds the agent in a thread after the first
paint. These tests hold that build on an Event, so what the user does "too early" is really
done before the agent is there, and check that it is handled once the agent is ready.
"""

from __future__ import annotations

import threading
from pathlib import Path

from codeagent.tui.widgets.chat import AssistantMessage, NoticeLine, UserMessage
from tests.tui.conftest import ANSWER, DEFAULT_MODEL, until
from tests.tui.test_conversation_status import settings_for

SIZE = (120, 40)


def held_app(repo: Path, server):
    """The app ``codeagent`` runs, whose agent is built only once the returned Event is set."""
    from codeagent.tui.launch import build_app

    app = build_app(settings_for(repo, server), repo)
    build, release = app._build_agent, threading.Event()

    def build_when_released():
        release.wait(30)
        return build()

    app._build_agent = build_when_released
    return app, release


def notices(app, category: str) -> list[str]:
    return [str(n.render()) for n in app.query(NoticeLine) if n.has_class(category)]


async def test_the_welcome_shows_before_the_agent_is_built(repo, server) -> None:
    app, release = held_app(repo, server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "welcome"), "the welcome")
        welcome = notices(app, "welcome")[0]
        assert f"codeagent in {repo}" in welcome and DEFAULT_MODEL in welcome
        assert "approvals: ask" in welcome
        assert not app.ready  # the welcome did not wait for the agent
        release.set()
        await until(pilot, lambda: app.ready, "the agent")
        await until(pilot, lambda: DEFAULT_MODEL in str(app.status_bar.render()), "status")
        await pilot.press("ctrl+q")


async def test_a_message_sent_before_the_agent_is_ready_is_sent_once_it_is(repo, server) -> None:
    app, release = held_app(repo, server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello there")  # typed at once after start
        await pilot.press("enter")
        await pilot.press(*"/status")
        await pilot.press("enter")
        assert not app.ready and not app.query(UserMessage)
        release.set()
        await until(pilot, lambda: app.query(AssistantMessage), "the answer")
        await until(pilot, lambda: app.turns_completed >= 1 and not app.turn_running, "turn end")
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hello there"]
        assert app.query(AssistantMessage).first().text == ANSWER
        assert any("hello there" in str(frame.payload) for frame in server.record)
        # The command typed after it was kept too, and ran once the agent was there.
        assert any("Session" in text for text in notices(app, "info")), notices(app, "info")
        await pilot.press("ctrl+q")


def test_an_agent_that_cannot_be_built_ends_the_app_with_its_reason(tmp_path, server, capsys):
    from codeagent.tui.launch import run_app

    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()

    async def wait(pilot) -> None:
        for _ in range(200):
            await pilot.pause(0.05)

    code = run_app(settings_for(not_a_repo, server), not_a_repo, headless=True, auto_pilot=wait)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("codeagent: ") and "Traceback" not in captured.err
    assert "codeagent resume" not in captured.out
