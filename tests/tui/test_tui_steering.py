"""Steering, as a person does it: typing while the agent works.

Enter while a turn runs steers it: the message shows as "↪ steer" and its receipt follows what
the agent did with it. Tab with text queues the message for after the turn, as before. A steer
typed while the final answer streams has no later step to go in with: it is not applied, and is
sent as the next message. All against the real Agent and the local Responses server. On a
model without steering (``PLAIN``) a steer rides with the next model call; on the default
model, which the catalog marks steerable, it goes as ``response.steer`` on the socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from codeagent.agent import events as ev
from codeagent.server import script as s
from codeagent.tui.messages import AgentEventReceived
from codeagent.tui.widgets.chat import ToolBlock, UserMessage
from codeagent.tui.widgets.steer import SteerMessage
from tests.tui.conftest import PATCH_BOTH, until
from tests.tui.test_app_flows import SIZE, finish, panel
from tests.tui.test_focus_and_scroll import footer_fits, footer_text
from tests.tui.test_input_safety import type_text

#: the model takes a moment per step, as a real one does, so there is time to type
THINK = 0.25
#: the tool loop: many steps, so it is still running when the user has finished typing; it
#: ends as soon as the user's steer reaches the model (the script answers the steer)
LOOP_STEPS = 60
#: a loop that runs its course: long enough to type a short message in
FEW_STEPS = 20
STEER = "also check the docs"
#: a catalog model that does not take response.steer
PLAIN = "gpt-5.6-sol"
LATER = "then summarise"
#: typed with Tab in the middle: Tab completes the file name first, then queues the message
LATER_WITH_FILE = "and read @greet.py too"


@pytest.fixture
def server() -> Iterator:
    from codeagent.server.embedded import EmbeddedServer

    loop = [s.Step([s.shell([f"echo check {i}"])], THINK) for i in range(LOOP_STEPS)]
    script = s.Script(
        [
            s.Episode(loop, "run the checks"),
            s.Episode(loop[:FEW_STEPS], "run a few checks"),
            s.Episode([s.Step([s.text("Checked the docs too.")])], "also check"),
            # A long final answer, streamed at a readable pace: the user types while it streams.
            s.Episode([s.Step([s.text("word " * 400)], tokens_per_second=120.0)], "explain"),
            s.Episode([s.Step([s.apply_patch("update_file", "greet.py", PATCH_BOTH)])], "patch"),
        ],
        default_reply="Okay.",
    )
    srv = EmbeddedServer(script)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def requests(server) -> list[str]:
    """The input of each model request the server received, as JSON text."""
    return [json.dumps(f.payload["input"]) for f in server.record if "input" in f.payload]


def requests_with(server, text: str) -> list[int]:
    """Indexes of the model requests whose input carried ``text``."""
    return [n for n, sent in enumerate(requests(server)) if text in sent]


class Receipts:
    """A message hook: the steering events the app received, in order."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, message) -> None:
        steering = (ev.SteerSubmitted, ev.SteerUpdate)
        if isinstance(message, AgentEventReceived) and isinstance(message.event, steering):
            self.events.append(message.event)

    def states(self) -> list[str]:
        return [getattr(e, "state", f"via {getattr(e, 'via', '')}") for e in self.events]


async def start(pilot, app, text: str) -> None:
    app.prompt.load_text(text)
    await pilot.press("enter")
    await until(pilot, lambda: app.agent.busy, "the turn runs")


def steers(app) -> list[SteerMessage]:
    return list(app.query(SteerMessage))


async def test_enter_while_a_tool_loop_runs_steers_it(make_app, server) -> None:
    app = make_app(approval_policy="full-auto", model=PLAIN)
    receipts = Receipts()
    async with app.run_test(size=SIZE, message_hook=receipts) as pilot:
        await start(pilot, app, "run the checks")
        await until(pilot, lambda: app.query(ToolBlock), "the tools run")
        await type_text(pilot, STEER)
        await pilot.press("enter")
        await until(pilot, lambda: steers(app), "the steer is shown")
        (steer,) = steers(app)
        assert steer.text == STEER and "↪ steer" in str(steer.render())
        assert app.queue == []  # steered, not queued
        await until(pilot, lambda: steer.state == "applied", "the steer is applied")
        assert str(steer.render()).endswith("↪ steer · applied ✓")
        assert receipts.states() == ["via next_call", "applied"]
        await finish(pilot, app)
        # The next request of this same turn carried it, after the tool's output, and the
        # model answered it (the script's reply to the steer ends the loop).
        (carried,) = requests_with(server, STEER)
        assert "output" in requests(server)[carried]
        assert app.turns_completed == 1 and len(app.query(ToolBlock)) < LOOP_STEPS
        assert any("Checked the docs too." in a.text for a in app.query("AssistantMessage"))
        assert app.status_bar.steering == 0 and app.queue == []
        # Resumed later, the session shows the steer as it ended, from the transcript.
        await app.resume_session(app.agent.status().session_id)
        (resumed,) = steers(app)
        assert resumed is not steer and str(resumed.render()) == f"{STEER}\n↪ steer · applied ✓"


async def test_on_a_steerable_model_the_steer_goes_on_the_socket(make_app, server) -> None:
    """While the answer streams, Enter sends response.steer; the server accepts it and
    continues the response with it (its successor), all in the one turn."""
    app = make_app(approval_policy="full-auto")
    receipts = Receipts()
    async with app.run_test(size=SIZE, message_hook=receipts) as pilot:
        await start(pilot, app, "explain the code")
        await until(pilot, lambda: app.query("AssistantMessage"), "the answer streams")
        app.prompt.load_text(STEER)  # loaded whole: keys wait for repaints while it streams
        await pilot.press("enter")
        await until(pilot, lambda: steers(app), "the steer is shown")
        (steer,) = steers(app)
        await finish(pilot, app)
        assert receipts.states() == ["via steer", "accepted", "applied"]
        assert steer.state == "applied" and str(steer.render()).endswith("applied ✓")
        steered = [f.payload for f in server.record if f.payload.get("type") == "response.steer"]
        assert len(steered) == 1 and STEER in json.dumps(steered[0])
        assert app.turns_completed == 1 and app.queue == []


async def test_tab_while_a_tool_loop_runs_queues_for_after_the_turn(make_app, server) -> None:
    app = make_app(approval_policy="full-auto", model=PLAIN)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.prompt.files, "the file list for @ completion")
        await start(pilot, app, "run a few checks")
        await until(pilot, lambda: app.query(ToolBlock), "the tools run")
        await type_text(pilot, "and read @gre")
        await pilot.press("tab")  # the completion menu is open: Tab completes
        assert app.prompt.text == "and read @greet.py " and app.queue == []
        await type_text(pilot, "too")
        await pilot.press("tab")  # nothing to complete: Tab queues
        assert app.queue == [LATER_WITH_FILE] and app.turns_completed == 0
        queued = [m for m in app.query(UserMessage) if m.has_class("queued")]
        assert [m.text for m in queued] == [LATER_WITH_FILE]
        assert "queued" in str(queued[0].render())
        assert not steers(app) and app.prompt.text == ""
        await finish(pilot, app, turns=2)
        # Not in the loop's requests: the first turn ran all its steps, then it went alone.
        assert len(app.query(ToolBlock)) == FEW_STEPS
        (sent,) = requests_with(server, LATER_WITH_FILE)
        assert sent > max(requests_with(server, "run a few checks"))
        assert [m.text for m in app.query(UserMessage)] == ["run a few checks", LATER_WITH_FILE]


async def test_a_steer_during_the_final_answer_is_sent_as_the_next_message(
    make_app, server
) -> None:
    app = make_app(approval_policy="full-auto", model=PLAIN)
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, "explain the code")
        await until(pilot, lambda: app.query("AssistantMessage"), "the answer streams")
        # Loaded whole: each key pressed while the answer streams waits for a repaint, so
        # typing it key by key could outlast the answer.
        app.prompt.load_text(LATER)
        await pilot.press("enter")
        await until(pilot, lambda: steers(app), "the steer is shown")
        (steer,) = steers(app)
        # No step follows the final answer: the steer is not applied, and goes next.
        await finish(pilot, app, turns=2)
        assert steer.state == "unapplied"
        assert "sent as the next message" in str(steer.render())
        (first, second) = (requests_with(server, "explain the code"), requests_with(server, LATER))
        assert second and min(second) > min(first)
        assert [m.text for m in app.query(UserMessage)] == ["explain the code", LATER, LATER]
        assert app.queue == [] and app.prompt.text == ""


async def test_tab_on_the_empty_prompt_still_focuses_a_waiting_approval(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        # While the turn runs the footer names the two ways to send, and still fits.
        text = footer_text(app)
        assert "Steer" in text and "Queue" in text and footer_fits(app), text
        await pilot.press("tab")
        assert panel(app).has_focus_within
        await pilot.press("n", "enter")
        await until(pilot, lambda: not app.turn_running, "turn end")
        assert "Send" in footer_text(app) and "Steer" not in footer_text(app)


def test_snapshot_a_steer_applied_after_an_approval(snap_compare, make_app) -> None:
    """The user asked for a patch and, while its approval waited, typed a steer and pressed
    Enter. You should see: "patch it", the approval and the patch's tool block (✓), then the
    steer in its own colour with "↪ steer · applied ✓" under it, and the model's answer to it;
    the footer back to Send."""
    from tests.tui.test_snapshots import pin, still

    app = still(make_app())

    async def run_before(pilot) -> None:
        await start(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await type_text(pilot, STEER)
        await pilot.press("enter")
        await until(pilot, lambda: steers(app), "the steer is shown")
        await pilot.press("f2", "y")
        await finish(pilot, app)
        await until(pilot, lambda: steers(app)[0].state == "applied", "applied")
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
