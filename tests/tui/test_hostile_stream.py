"""An answer with a lone UTF-16 surrogate (a valid JSON escape, but not text any file or
terminal can encode) reaches the TUI as U+FFFD: the turn completes, the answer is shown and
recorded, no error."""

from __future__ import annotations

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.server import script as s
from codeagent.tui.widgets.chat import AssistantMessage, NoticeLine
from tests.tui.conftest import until

SIZE = (120, 40)


async def test_a_lone_surrogate_in_a_delta_does_not_fail_the_turn(make_app, server) -> None:
    # The server sends it JSON-escaped ("\ud800"), as the real API could.
    server.script = s.Script([s.Episode([s.Step([s.text("broken \ud800 text")])])])
    app = make_app(model=DEFAULT_MODEL)
    async with app.run_test(size=SIZE) as pilot:

        def errors() -> list[str]:
            return [str(n.render()) for n in app.query(NoticeLine) if n.has_class("error")]

        before = errors()  # e.g. a theme problem at start, not this test's business
        app.prompt.focus()
        app.prompt.load_text("hello there")
        await pilot.press("enter")
        await until(pilot, lambda: app.turns_completed >= 1 and not app.turn_running, "turn end")
        assert errors() == before
        texts = [a.text for a in app.query(AssistantMessage)]
        assert texts == ["broken \ufffd text"]
        assert "broken \ufffd text" in app.agent.session.path.read_text(encoding="utf-8")
