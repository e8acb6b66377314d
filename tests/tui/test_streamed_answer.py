"""A long streamed answer: it looks exactly like the same answer shown at once (far blocks fold
away while it streams, and come back when scrolled to), typing goes on while it streams, and full
garbage collections wait for the turn's end."""

from __future__ import annotations

import asyncio
import gc

from codeagent.agent import events as ev
from codeagent.tui.gc_pacing import HELD, PacedCollection
from codeagent.tui.widgets.block_fold import BlockFold
from codeagent.tui.widgets.chat import AssistantMessage
from tests.tui.conftest import until

SIZE = (100, 30)


def long_markdown(sections: int = 10) -> str:
    """An answer with what the pane must render: headings, links, lists, code, tables."""
    parts = []
    for n in range(sections):
        parts.append(
            f"## {n + 1}. `mod{n}.py`\n\n"
            f"I read [`mod{n}.py`](https://example.invalid/mod{n}.py) and the **bug** is in "
            f"`op_{n}`: it *scales* first. " + " ".join(f"word{i}" for i in range(40)) + ".\n\n"
            f"- `op_{n}` is called from `report()`\n- the signature stays\n- see the log\n\n"
            "```python\n"
            f"def op_{n}(values: list[float]) -> float:\n"
            '    """Sum, then scale."""\n'
            "    total = 0.0\n"
            "    for value in values:\n"
            "        total += value\n"
            "    return total * 2\n"
            "```\n\n"
            f"| function | calls |\n|---|---|\n| `op_{n}` | {n} |\n| `other` | 3 |\n\n"
        )
    return "".join(parts)


async def show(app, pilot, text: str, *, streamed: bool) -> None:
    """Put ``text`` in the chat as one answer: streamed in odd-sized deltas, or whole."""
    if streamed:
        step = 37  # cuts through words, fences and table rows
        for index, start in enumerate(range(0, len(text), step)):
            await app.conversation.handle(ev.TextDelta("msg_1", text[start : start + step]))
            if index % 8 == 0:
                await pilot.pause()  # layouts (and folds) happen while it streams
    await app.conversation.handle(ev.TextDone("msg_1", text))
    await app.conversation.end_turn()
    await pilot.pause()


async def settle(pilot) -> None:
    """Let layouts, folds and unfolds finish: a fold waits for the next layout's sizes, and an
    unfold shows its blocks for the layout after it."""
    chat = pilot.app.chat
    for _ in range(10):
        await pilot.pause(0.02)
    for _ in range(200):
        if not chat._refold_pending:
            break
        await pilot.pause(0.02)


async def screens(app, pilot) -> list[str]:
    """The screen at the end of the chat, in its middle and at its top (and the chat height)."""
    app.prompt.cursor_blink = False
    chat = app.chat
    shots = [f"{chat.virtual_size.height} lines, at {chat.scroll_y}", app.export_screenshot()]
    chat.scroll_to(y=chat.max_scroll_y // 2, animate=False)
    await settle(pilot)
    shots.append(app.export_screenshot())
    chat.scroll_home(animate=False)
    await settle(pilot)
    shots.append(app.export_screenshot())
    return shots


async def test_a_streamed_long_answer_looks_exactly_like_the_same_answer_shown_at_once(
    make_app,
) -> None:
    text = long_markdown()
    at_once = make_app()
    async with at_once.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await show(at_once, pilot, text, streamed=False)
        await settle(pilot)
        expected = await screens(at_once, pilot)

    streamed = make_app()
    async with streamed.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await show(streamed, pilot, text, streamed=True)
        await settle(pilot)
        [answer] = streamed.query(AssistantMessage)
        assert answer.text == answer.streamed == answer.source == text
        # The blocks far above the view are folded away, and the chat is exactly as tall.
        assert streamed.chat.query(BlockFold)
        actual = await screens(streamed, pilot)
        assert actual == expected  # as tall; at the end, the middle and the top: the same
        # Scrolled to the top, the first blocks are shown again.
        assert answer.children[0].display


async def test_typing_while_a_long_answer_streams_shows_the_keys_in_the_prompt(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.load_text("slow answer please")
        await pilot.press("enter")
        await until(pilot, lambda: any(a.text for a in app.query(AssistantMessage)), "stream")
        await pilot.press(*"hello")
        await pilot.pause()
        assert app.turn_running  # still streaming while the keys went in
        assert app.prompt.text == "hello"
        app.prompt.cursor_blink = False
        assert "hello" in app.export_screenshot()  # painted, not only in the widget's text
        await app.action_interrupt()
        await until(pilot, lambda: not app.turn_running, "the interrupted turn ends")


async def test_full_collections_wait_for_the_end_of_a_turn_then_python_decides_again() -> None:
    before = gc.get_threshold()
    pacer = PacedCollection(after_turn=0.0)
    pacer.begin()
    assert gc.get_threshold()[2] == HELD and pacer.holding
    pacer.end()
    assert pacer.holding  # the collection comes a moment after the turn, not inside it
    for _ in range(100):
        if not pacer.holding:
            break
        await asyncio.sleep(0)
    assert not pacer.holding
    assert gc.get_threshold() == before


async def test_a_turn_that_starts_before_the_last_ones_collection_keeps_holding() -> None:
    before = gc.get_threshold()
    pacer = PacedCollection(after_turn=3600.0)
    pacer.begin()
    pacer.end()
    pacer.begin()  # the next turn: still held, and only one set of thresholds to give back
    assert gc.get_threshold()[2] == HELD
    pacer.release()
    assert gc.get_threshold() == before


async def test_typing_after_a_turn_postpones_its_full_collection() -> None:
    before = gc.get_threshold()
    pacer = PacedCollection(after_turn=0.5)
    pacer.begin()
    pacer.end()
    for _ in range(5):  # the user keeps typing: no pass yet
        pacer.activity()
        assert pacer.holding
        await asyncio.sleep(0.01)
    for _ in range(100):  # quiet: the pass runs and Python decides again
        if not pacer.holding:
            break
        await asyncio.sleep(0.05)
    assert not pacer.holding
    assert gc.get_threshold() == before


async def test_after_a_resize_the_folded_answer_still_looks_like_the_whole_one(make_app) -> None:
    text = long_markdown()
    narrow = (70, 30)
    at_once = make_app()
    async with at_once.run_test(size=narrow) as pilot:
        await pilot.pause()
        await show(at_once, pilot, text, streamed=False)
        await settle(pilot)
        expected = await screens(at_once, pilot)

    streamed = make_app()
    async with streamed.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await show(streamed, pilot, text, streamed=True)
        await settle(pilot)
        assert streamed.chat.query(BlockFold)  # folded at the old width
        await pilot.resize_terminal(*narrow)
        await settle(pilot)
        streamed.chat.scroll_end(animate=False)
        await settle(pilot)
        assert await screens(streamed, pilot) == expected
