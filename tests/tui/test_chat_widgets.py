"""Conversation widgets on their own: pruning, tool block states, the status bar."""

from __future__ import annotations

from textual.app import App, ComposeResult

from codeagent.agent.events import TurnMetrics
from codeagent.agent.status import AgentStatus
from codeagent.responses.catalog import DEFAULT_MODEL
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


def agent_status(**fields) -> AgentStatus:
    values = dict(
        model=DEFAULT_MODEL, policy="ask", transport="connected", session_id="s1",
        sandbox="none", busy=False, model_calls=2, input_tokens=2200, cached_tokens=900,
        output_tokens=50, context_tokens=1250, last_metrics=None, bytes_sent=700,
        bytes_full_resend=11000, context_window=400_000,
    )  # fmt: skip
    values.update(fields)
    return AgentStatus(**values)


async def test_status_bar_renders_the_agents_figures_and_the_last_turn_when_idle() -> None:
    app = Host()
    async with app.run_test():
        bar = app.query_one(StatusBar)
        last = TurnMetrics(time_to_first_delta=0.25, total_time=3.5)
        bar.status = agent_status(cost=0.0123, last_turn=last, transport="http")
        text = str(bar.render())
        assert "in 2.2k (900 cached) out 50" in text
        assert "last turn 3.50s (first token 0.25s)" in text
        assert "sent 700 B/11.0 kB" in text and "$0.0123" in text and "ctx 100% left" in text
        assert bar.transport == "HTTP" and "⠋" not in text


async def test_status_bar_during_a_turn_shows_what_happens_not_the_last_turn() -> None:
    app = Host()
    async with app.run_test():
        bar = app.query_one(StatusBar)
        bar.clock = lambda: 1000.0 + 75.0
        last = TurnMetrics(time_to_first_delta=0.25, total_time=3.5)
        bar.status = agent_status(
            last_turn=last,
            turn_started=1000.0,
            activity="running make test",
            turn_cost=0.5,
            cost=1.25,
            transport="connecting",
        )
        bar.busy = True
        text = str(bar.render())
        assert "running make test · 1m 15s" in text
        assert "last turn" not in text and "ttft" not in text
        assert "turn $0.5000 · $1.2500" in text and "connecting…" in text
        bar.busy = False
        bar.status = agent_status(transport="connecting")
        assert "connecting" not in str(bar.render())  # idle: nothing is connecting


def test_number_formats() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(12_345) == "12.3 kB"
    assert human_bytes(5_000_000) == "5.0 MB"
    assert human_tokens(999) == "999"
    assert human_tokens(12_345) == "12.3k"
