"""Issue 11, hole 6 in the TUI: Textual and Rich hand ESC sequences in widget text to the
terminal as they are, so the chat widgets sanitise what the model, commands and the server
send. A key echoed in a 401 is not on the screen or in a screenshot."""

from __future__ import annotations

import re

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.server.script import Episode, Script, Step, reasoning, shell, text
from codeagent.tui.widgets.chat import NoticeLine, ReasoningBlock, ToolBlock
from tests.exec_support import realistic_key
from tests.tui.conftest import until

HOSTILE = "Done ✓ 日本語 \x1b]52;c;cm0gLXJmIH4K\x07 \x1b]0;pwned\x07 \x1b[2J\x1b[H \x9b2J end"
COMMAND = r"printf 'ran \033]0;owned\007 \033]52;c;ZXZpbA==\007 ok\n'"
#: sequences that would act on the terminal (Textual's own output only uses SGR and OSC 8)
ACTING = ("\x1b]52", "\x1b]0;", "\x1b[2J", "\x1b[H ", "\x9b", "\x07")
ACTIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def screen_output(app) -> str:
    """What the app writes to the terminal for a full repaint of the current screen."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


async def test_hostile_text_and_an_echoed_key_stay_off_the_terminal(repo, make_server) -> None:
    from codeagent.agent.loop import Agent
    from codeagent.config import load_settings
    from codeagent.tui.app import CodeAgentApp
    from codeagent.tui.approver import TuiApprover

    key = realistic_key()
    steps = [Step([shell([COMMAND])]), Step([reasoning(HOSTILE), text(HOSTILE)])]
    server = make_server(Script([Episode(steps)]), api_key=key)
    settings = load_settings(
        repo,
        {"base_url": server.base_url, "api_key": key, "approval_policy": "full-auto",
         "model": DEFAULT_MODEL},
    )  # fmt: skip
    approver = TuiApprover()
    app = CodeAgentApp(Agent(settings, repo, approver), approver, settings=settings, root=repo)
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.focus()
        app.prompt.load_text("go")
        await pilot.press("enter")
        await until(pilot, lambda: app.turns_completed >= 1 and not app.turn_running, "turn 1")
        shown = screen_output(app)
        assert "Done ✓ 日本語" in shown and "␛]52;c;cm0gLXJmIH4K␇" in shown
        for sequence in ACTING:
            assert sequence not in shown, repr(sequence)
        [tool] = app.query(ToolBlock)
        assert not ACTIVE.search(str(tool.output.render()))
        assert "ran ␛]0;owned␇" in str(tool.output.render())
        [thought] = app.query(ReasoningBlock)
        assert not ACTIVE.search(thought.text)

        server.state.faults.error("invalid_api_key", 401, f"Incorrect API key provided: {key}")
        app.prompt.load_text("again")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any("redacted" in str(n.render()) for n in app.query(NoticeLine)),
            "the 401 notice",
        )
        assert key not in screen_output(app)
        assert key not in app.export_screenshot()
