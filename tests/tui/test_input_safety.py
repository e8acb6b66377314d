"""Input safety: an approval never takes keys typed for the prompt.

A person types their next message while the agent works; an approval appears in the middle of
it. The sentences below are full of y, a, n and spaces (the keys an approval answers to), typed
at about 30 characters a second across the moment the panel appears. Nothing may be approved or
rejected, and every character must end up in the prompt. Only a deliberate move to the panel
(F2, Tab on an empty prompt, a click) lets y/n/a act.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codeagent.server import script as s
from codeagent.tui.messages import ApprovalRequested, TurnFinished
from codeagent.tui.widgets.chat import NoticeLine, ToolBlock
from tests.tui.conftest import GREET, PATCH_BOTH, until
from tests.tui.test_app_flows import SIZE, notices, panel

#: the model "thinks" this long before it proposes the edit, so the approval lands mid-sentence
THINK = 0.6

SENTENCE = "yes yes, any note you add is nice: yay, a note and no more."


@pytest.fixture
def server() -> Iterator:
    """The local server, with a pause before each tool call (as a real model takes)."""
    from codeagent.server.embedded import EmbeddedServer

    script = s.Script(
        [
            s.Episode(
                [s.Step([s.apply_patch("update_file", "greet.py", PATCH_BOTH)], THINK)], "patch"
            ),
            s.Episode([s.Step([s.shell(["mkdir -p build && echo from-shell"])], THINK)], "shell"),
        ],
        default_reply="Okay.",
    )
    srv = EmbeddedServer(script)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def type_text(pilot, text: str, pause: float = 0.03) -> None:
    """Type like a person: one key at a time, about 30 keys a second."""
    for char in text:
        await pilot.press("space" if char == " " else char)
        await pilot.pause(pause)


class Recorder:
    """A message hook: what the prompt held when the approval arrived, every decision, and
    the turns that finished (tests wait on these Messages, not on the app's flags)."""

    def __init__(self, app) -> None:
        self.app = app
        self.prompt_at_request: str | None = None
        self.decisions: list = []
        self._seen: list = []
        self.turns_finished = 0

    def __call__(self, message) -> None:
        if isinstance(message, TurnFinished):
            self.turns_finished += 1
        if isinstance(message, ApprovalRequested) and self.prompt_at_request is None:
            self.prompt_at_request = self.app.prompt.text
        # A bubbling message reaches the hook once per node it passes: count each one once.
        if type(message).__name__ == "Decided" and all(m is not message for m in self._seen):
            self._seen.append(message)
            self.decisions.append(message.decision)


async def start_turn_and_type(pilot, app, request: str, sentence: str) -> None:
    """Send ``request`` and keep typing ``sentence`` while the agent works."""
    app.prompt.focus()
    await type_text(pilot, request)
    await pilot.press("enter")
    await type_text(pilot, sentence)


@pytest.mark.parametrize("request_text", ["patch it", "shell please"])
async def test_typing_across_an_approval_never_answers_it(make_app, repo, request_text) -> None:
    app = make_app()
    hook = Recorder(app)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await start_turn_and_type(pilot, app, request_text, SENTENCE)
        # The approval really arrived while the sentence was half typed ...
        assert hook.prompt_at_request is not None, "no approval was requested"
        assert 0 < len(hook.prompt_at_request) < len(SENTENCE), hook.prompt_at_request
        # ... and nothing answered it: no decision, the agent still waits, the file is as it was.
        await pilot.pause(0.2)
        assert hook.decisions == []
        assert app.prompt.text == SENTENCE  # every character, in order
        assert panel(app) is not None and not panel(app).decided
        assert not panel(app).future.done()
        assert hook.turns_finished == 0  # the agent still waits
        assert (repo / "greet.py").read_text() == GREET
        assert app.prompt.has_focus
        # The user is told, on screen, that an approval waits and how to reach it.
        assert any("F2" in n for n in notices(app, "waiting"))
        # A deliberate F2, then y, approves; the typed text is still there.
        await pilot.press("f2")
        await pilot.press("y")
        await until(pilot, lambda: hook.turns_finished == 1, "turn end")
        assert [d.approved for d in hook.decisions] == [True]
        assert app.prompt.text == SENTENCE and app.prompt.has_focus
        if request_text == "patch it":
            assert "return 'hello'" in (repo / "greet.py").read_text()
        else:
            assert "from-shell" in str(app.query_one(ToolBlock).output.render())


async def test_tab_on_an_empty_prompt_or_a_click_moves_to_the_approval(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_turn_and_type(pilot, app, "patch it", "")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await type_text(pilot, "an")  # Tab with text queues it; focus stays in the prompt
        await pilot.press("tab")
        assert app.prompt.has_focus and app.queue == ["an"] and not panel(app).decided
        await pilot.press("tab")  # empty prompt: Tab goes to it
        assert panel(app).has_focus_within
        await pilot.press("escape")  # Esc: back to the prompt, the approval still waits
        assert app.prompt.has_focus and panel(app) is not None and app.turn_running
        await pilot.click(panel(app))
        assert panel(app).has_focus_within
        await pilot.press("n", "enter")  # reject (empty reason)
        await until(pilot, lambda: not app.turn_running, "turn end")
        assert (repo / "greet.py").read_text() == GREET
        assert app.prompt.has_focus


async def test_the_bell_rings_when_an_approval_waits(make_app) -> None:
    app = make_app()
    rings: list[str] = []
    app.bell = lambda: rings.append("bell")  # the terminal bell is the app's own method
    async with app.run_test(size=SIZE) as pilot:
        await start_turn_and_type(pilot, app, "patch it", "")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        assert rings == ["bell"]


async def test_the_approval_is_recorded_above_the_result(make_app) -> None:
    """'Approved: …' reads before the command's result, not after it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_turn_and_type(pilot, app, "shell please", "")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2", "y")
        await until(pilot, lambda: not app.turn_running, "turn end")
        blocks = list(app.chat.children)
        approved = next(
            b for b in blocks if isinstance(b, NoticeLine) and "Approved" in str(b.render())
        )
        tool = app.query_one(ToolBlock)
        assert "from-shell" in str(tool.output.render())
        assert blocks.index(approved) < blocks.index(tool)


async def test_two_waiting_approvals_are_answered_one_deliberate_move_at_a_time(make_app) -> None:
    """Two requests at once (as from a future parallel tool runner): one panel shows, the
    other waits behind it; answering the first returns focus to the prompt, so a second 'y'
    typed on goes into the prompt instead of approving the next request."""
    import asyncio

    from codeagent.agent.approvals import ApprovalRequest

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = ApprovalRequest("call_a", "command", "first", command="make one")
        second = ApprovalRequest("call_b", "command", "second", command="make two")
        answers = [asyncio.ensure_future(app.approver.decide(r)) for r in (first, second)]
        await until(pilot, lambda: len(app.query("ApprovalPanel")) == 2, "two panels")
        shown = [p for p in app.query("ApprovalPanel") if p.display]
        assert [p.request.title for p in shown] == ["first"]
        await pilot.press("f2", "y", "y")  # the second y is typed on, into the prompt
        await until(pilot, lambda: answers[0].done(), "first answered")
        assert answers[0].result().approved and not answers[1].done()
        assert app.prompt.has_focus and app.prompt.text == "y"
        assert [p.request.title for p in app.query("ApprovalPanel") if p.display] == ["second"]
        await pilot.press("f2", "n", "enter")
        await until(pilot, lambda: answers[1].done(), "second answered")
        assert not answers[1].result().approved
        assert not app.query("ApprovalPanel") and not app.side.display


async def test_a_paste_while_an_approval_has_focus_goes_to_the_prompt(make_app, repo) -> None:
    from textual import events

    app = make_app()
    hook = Recorder(app)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await start_turn_and_type(pilot, app, "patch it", "")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")
        app.post_message(events.Paste("yes, any name and no tests"))
        await pilot.pause()
        await pilot.pause()
        assert app.prompt.has_focus and app.prompt.text == "yes, any name and no tests"
        assert hook.decisions == [] and (repo / "greet.py").read_text() == GREET


async def test_the_click_that_moves_to_an_approval_only_focuses_it(make_app) -> None:
    """A click on a hunk header of a waiting patch moves focus there and toggles nothing; the
    next click on it does toggle."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_turn_and_type(pilot, app, "patch it", "")
        await until(pilot, lambda: panel(app) is not None and panel(app).diff_view.prepared, "diff")
        view = panel(app).diff_view

        def header_row() -> int | None:
            rows = (y for y in range(20) if "@@" in "".join(s.text for s in view.render_line(y)))
            return next(rows, None)

        # prepared is set before the first layout; the rows exist once the view has painted
        await until(pilot, lambda: header_row() is not None, "hunk header painted")
        header = header_row()
        assert header is not None
        await pilot.click(view, offset=(6, header))
        await pilot.pause()
        assert view.has_focus and view.all_selected
        await pilot.click(view, offset=(6, header))
        await pilot.pause()
        assert not view.all_selected
