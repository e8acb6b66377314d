"""``DeltaCoalescer``: fewer Messages for a fast stream, same text, same order."""

from __future__ import annotations

import asyncio

from codeagent.agent import events as ev
from codeagent.tui.coalesce import DeltaCoalescer
from tests.tui.conftest import LONG_ANSWER, LONG_REASONING, until

#: long enough that the timer never fires inside a test: only other events flush
NEVER = 3600.0


async def test_consecutive_deltas_of_one_item_become_one_event() -> None:
    out: list[ev.AgentEvent] = []
    coalescer = DeltaCoalescer(out.append, interval=NEVER)
    for i in range(1000):
        coalescer.push(ev.TextDelta("msg_1", f"{i} "))
    assert out == []  # held until something else arrives
    coalescer.push(ev.TextDone("msg_1", "whole"))
    assert out == [
        ev.TextDelta("msg_1", "".join(f"{i} " for i in range(1000))),
        ev.TextDone("msg_1", "whole"),
    ]


async def test_items_and_kinds_are_never_merged_or_reordered() -> None:
    out: list[ev.AgentEvent] = []
    coalescer = DeltaCoalescer(out.append, interval=NEVER)
    stream = [
        ev.ReasoningDelta("rs_1", "think "),
        ev.ReasoningDelta("rs_1", "more"),
        ev.TextDelta("msg_1", "a"),
        ev.TextDelta("msg_2", "b"),
        ev.TextDelta("msg_2", "c"),
        ev.Notice("reconnect", "again"),
        ev.TextDelta("msg_2", "d"),
    ]
    for event in stream:
        coalescer.push(event)
    coalescer.close()
    assert out == [
        ev.ReasoningDelta("rs_1", "think more"),
        ev.TextDelta("msg_1", "a"),
        ev.TextDelta("msg_2", "bc"),
        ev.Notice("reconnect", "again"),
        ev.TextDelta("msg_2", "d"),
    ]


async def test_a_held_delta_is_handed_on_when_the_stream_pauses() -> None:
    out: list[ev.AgentEvent] = []
    coalescer = DeltaCoalescer(out.append, interval=0.0)
    coalescer.push(ev.TextDelta("msg_1", "first words"))
    for _ in range(100):  # no new event arrives: the timer alone must flush
        if out:
            break
        await asyncio.sleep(0)
    assert out == [ev.TextDelta("msg_1", "first words")]
    coalescer.close()
    assert out == [ev.TextDelta("msg_1", "first words")]  # nothing sent twice


async def test_a_long_streamed_answer_arrives_complete_and_in_order(make_app) -> None:
    from codeagent.tui.widgets.chat import AssistantMessage, ReasoningBlock

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.load_text("a long one please")
        await pilot.press("enter")
        await until(pilot, lambda: app.turns_completed == 1 and not app.turn_running, "turn")
        [answer] = app.query(AssistantMessage)
        assert answer.streamed == LONG_ANSWER  # every delta, once, in order
        assert answer.text == LONG_ANSWER
        assert app.query_one(ReasoningBlock).text == LONG_REASONING
        # the anchored log followed the stream to its end
        assert app.chat.is_vertical_scroll_end
