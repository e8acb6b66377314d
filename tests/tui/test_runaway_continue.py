"""A runaway turn stopped by the repeat guard in the TUI: the reason is on screen as a sentence,
the prompt is usable again, and the next message continues the session."""

from __future__ import annotations

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.server import script as s
from codeagent.tui.widgets.chat import AssistantMessage, NoticeLine
from tests.tui.conftest import until

SIZE = (120, 40)


async def test_a_stopped_runaway_turn_can_be_continued_with_a_message(make_app, server) -> None:
    server.script = s.Script(
        [
            s.Episode([s.Step([s.shell(["cat README.md"])]) for _ in range(50)], "loop"),
            s.Episode([s.Step([s.text("Continuing where we left off.")])]),
        ]
    )
    app = make_app(model=DEFAULT_MODEL, approval_policy="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        app.prompt.focus()
        app.prompt.load_text("loop forever")
        await pilot.press("enter")

        def errors() -> list[str]:
            notices = [str(n.render()) for n in app.query(NoticeLine) if n.has_class("error")]
            return [n for n in notices if "Stopped this turn" in n]

        await until(pilot, errors, "the stop is reported")
        await until(pilot, lambda: not app.turn_running, "the turn ended")
        assert "3 times in a row" in errors()[0] and "Internal error" not in errors()[0]

        app.prompt.focus()
        app.prompt.load_text("please continue")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(
                a.text == "Continuing where we left off." for a in app.query(AssistantMessage)
            ),
            "the next message is answered",
        )
