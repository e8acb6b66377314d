"""Conversation widgets on their own: pruning, tool block states, status bar numbers."""

from __future__ import annotations

from textual.app import App, ComposeResult

from codeagent.agent.events import TurnMetrics
from codeagent.tui.widgets import chat
from codeagent.tui.widgets.chat import ChatLog, NoticeLine, ToolBlock
from codeagent.tui.widgets.status_bar import StatusBar, human_bytes, human_tokens


class Host(App):
    def compose(self) -> ComposeResult:
        yield ChatLog()
        yield StatusBar()


async def test_long_conversations_are_pruned_keeping_the_newest_blocks() -> None:
    app = Host()
    async with app.run_test() as pilot:
        log = app.query_one(ChatLog)
        for n in range(chat.MAX_BLOCKS + 5):
            await log.add(NoticeLine("info", f"line {n}"))
        await pilot.pause()
        lines = [str(child.render()) for child in log.children]
        assert len(lines) <= chat.MAX_BLOCKS
        assert lines[-1] == f"line {chat.MAX_BLOCKS + 4}"
        assert "line 0" not in lines


async def test_tool_block_titles_say_how_the_call_ended() -> None:
    app = Host()
    async with app.run_test():
        log = app.query_one(ChatLog)
        ok, failed, rejected = (ToolBlock(f"c{n}", "shell", "make") for n in range(3))
        await log.add(ok, failed, rejected)
        ok.finish("built", success=True, exit_code=0)
        failed.finish("boom", success=False, exit_code=2)
        rejected.finish("the user said no", success=False, exit_code=None, rejected=True)
        assert "✓ exit 0" in str(ok.title) and ok.has_class("ok")
        assert "✗ exit 2" in str(failed.title) and failed.has_class("failed")
        assert "rejected" in str(rejected.title) and rejected.has_class("failed")
        assert not ok.has_class("running")


async def test_status_bar_sums_calls_and_shows_the_last_turn() -> None:
    app = Host()
    async with app.run_test():
        bar = app.query_one(StatusBar)
        bar.add_call(TurnMetrics(input_tokens=1000, cached_tokens=900, output_tokens=50,
                                 bytes_sent=300, bytes_full_resend=5000))  # fmt: skip
        bar.add_call(TurnMetrics(transport="http", input_tokens=1200, bytes_sent=400,
                                 bytes_full_resend=6000))  # fmt: skip
        bar.finish_turn(TurnMetrics(time_to_first_delta=0.25, total_time=3.5))
        text = str(bar.render())
        assert "in 2.2k (900 cached) out 50" in text
        assert "ttft 0.25s total 3.50s" in text
        assert "sent 700 B/11.0 kB" in text
        assert bar.transport == "HTTP"


def test_number_formats() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(12_345) == "12.3 kB"
    assert human_bytes(5_000_000) == "5.0 MB"
    assert human_tokens(999) == "999"
    assert human_tokens(12_345) == "12.3k"
