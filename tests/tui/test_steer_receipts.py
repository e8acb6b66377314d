"""Steer receipts in the conversation, fed the agent's steering events directly.

A steer shows as the user's message marked "↪ steer"; its receipt changes in place as the
``SteerUpdate`` events arrive. A resumed session's transcript renders the same events the same
way, through the one ``BlockBuilder``. (The end-to-end sessions are in test_tui_steering.py.)
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from codeagent.agent import events as ev
from codeagent.tui.widgets.chat import UserMessage
from codeagent.tui.widgets.conversation import ConversationView
from codeagent.tui.widgets.steer import SteerMessage


class Host(App):
    def compose(self) -> ComposeResult:
        yield ConversationView()


def shown(app) -> list[str]:
    """The user's blocks as the screen reads them, in chat order."""
    return [str(block.render()) for block in app.query(UserMessage)]


async def test_a_steer_shows_sent_then_accepted_then_applied_in_place() -> None:
    app = Host()
    async with app.run_test() as pilot:
        view = app.query_one(ConversationView)
        view.begin_turn()
        await view.handle(ev.TurnStarted("refactor the parser"))
        await view.add_steer("s1", "also keep the old API")
        (steer,) = app.query(SteerMessage)
        assert shown(app)[-1] == "also keep the old API\n↪ steer · sent"
        await view.handle(ev.SteerSubmitted("s1", "also keep the old API", "steer"))
        await view.handle(ev.SteerUpdate("s1", "accepted"))
        assert steer.receipt == "↪ steer · accepted" and steer.has_class("accepted")
        await view.handle(ev.SteerUpdate("s1", "applied"))
        await pilot.pause()
        assert len(app.query(SteerMessage)) == 1  # updated in place, never a second block
        assert shown(app)[-1] == "also keep the old API\n↪ steer · applied ✓"
        assert steer.has_class("applied") and not steer.has_class("accepted")


async def test_a_refused_steer_says_why_and_that_it_goes_with_the_next_step() -> None:
    app = Host()
    async with app.run_test():
        view = app.query_one(ConversationView)
        await view.add_steer("s1", "use tabs")
        await view.handle(ev.SteerSubmitted("s1", "use tabs", "steer"))
        await view.handle(ev.SteerUpdate("s1", "rescheduled", "the response already finished"))
        (steer,) = app.query(SteerMessage)
        assert steer.receipt == (
            "↪ steer · rescheduled: the response already finished — goes with the next step"
        )
        await view.handle(ev.SteerUpdate("s1", "applied"))
        assert steer.receipt == "↪ steer · applied ✓"
        await view.add_steer("s2", "and spaces")  # the agent's sentence already says where
        refused = "The steer was not applied (too many); it goes with the next model call."
        await view.handle(ev.SteerUpdate("s2", "rescheduled", refused))
        assert app.query(SteerMessage)[-1].receipt == f"↪ steer · rescheduled: {refused}"


async def test_a_steer_riding_with_the_next_call_says_so() -> None:
    app = Host()
    async with app.run_test():
        view = app.query_one(ConversationView)
        await view.add_steer("s1", "skip the docs")
        await view.handle(ev.SteerSubmitted("s1", "skip the docs", "next_call"))
        (steer,) = app.query(SteerMessage)
        assert steer.receipt == "↪ steer · sent: goes in with the next step"


async def test_an_unapplied_steer_waits_first_and_is_the_next_message() -> None:
    """The turn ended before the steer could go in: it becomes the first waiting message, ahead
    of one queued with Tab; when its own turn starts it stays where it was typed and the new
    turn's message follows."""
    app = Host()
    async with app.run_test():
        view = app.query_one(ConversationView)
        await view.add_user_message("write the tests")
        view.begin_turn()
        await view.handle(ev.TurnStarted("write the tests"))
        await view.add_user_message("then commit", queued=True)
        await view.add_steer("s1", "name them after the feature")
        await view.handle(ev.SteerSubmitted("s1", "name them after the feature", "next_call"))
        await view.handle(ev.SteerUpdate("s1", "unapplied"))
        (steer,) = app.query(SteerMessage)
        assert steer.has_class("queued") and steer.queued
        assert "queued first" in steer.receipt
        assert [m.text for m in view.waiting] == ["name them after the feature", "then commit"]
        await view.end_turn()
        view.begin_turn()
        await view.handle(ev.TurnStarted("name them after the feature"))
        assert not steer.has_class("queued")
        assert steer.receipt == (
            "↪ steer · not applied before the turn ended — sent as the next message"
        )
        assert [m.text for m in app.query(UserMessage)] == [
            "write the tests",
            "then commit",
            "name them after the feature",
            "name them after the feature",  # the steer as typed, then its own turn
        ]
        assert [m.text for m in view.waiting] == ["then commit"]


async def test_a_resumed_session_shows_the_steer_receipts_it_ended_with() -> None:
    transcript = [
        ev.event_to_dict(e)
        for e in (
            ev.TurnStarted("fix the bug"),
            ev.SteerSubmitted("s1", "only in parser.py", "steer"),
            ev.SteerUpdate("s1", "accepted"),
            ev.ToolCallProposed("c1", "shell", "ls", "ls"),
            ev.SteerUpdate("s1", "applied"),
            ev.SteerSubmitted("s2", "and add a test", "next_call"),
            ev.SteerUpdate("s2", "unapplied"),
            ev.TurnStarted("and add a test"),
        )
    ]
    app = Host()
    async with app.run_test():
        view = app.query_one(ConversationView)
        await view.show_transcript(transcript)
        assert shown(app) == [
            "fix the bug",
            "only in parser.py\n↪ steer · applied ✓",
            "and add a test\n↪ steer · not applied before the turn ended — sent as the next "
            "message",
            "and add a test",
        ]
