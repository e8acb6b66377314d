"""Snapshots of the welcome screen, live status while a command runs, and a resumed session.

The spinner and the elapsed time are pinned (a turn that started at 100.0 seen at 112.0), as are
tokens, bytes, cost, the temporary repository path and the session id (see ``test_snapshots.pin``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codeagent.server import script as s
from codeagent.tui.widgets.chat import ToolBlock
from tests.tui.conftest import tui_script, until
from tests.tui.test_app_flows import finish, send
from tests.tui.test_snapshots import SIZE, pin, still

#: a command that runs until the test creates the file ``go``
BLOCKING = "while [ ! -e go ]; do sleep 0.05; done; echo released"


@pytest.fixture
def server() -> Iterator:
    from codeagent.server.embedded import EmbeddedServer

    script = tui_script()
    script.episodes.insert(0, s.Episode([s.Step([s.shell([BLOCKING])])], "block"))
    srv = EmbeddedServer(script)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_welcome_screen(snap_compare, make_app) -> None:
    """The first screen: 'codeagent in /work/sample (branch main)', the model, 'approvals: ask'
    and 'transport: WebSocket (HTTP if refused)', a hint naming /help, @path, Esc and
    Ctrl+Q; the status bar shows the model, WebSocket (never 'connecting…' while idle), 'ctx
    100% left' and $0.0000; the prompt has focus."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_live_status_while_a_command_runs(snap_compare, make_app, repo) -> None:
    """A command runs: its tool row shows '$ while [ ! -e go ]…  …' (running), and the status
    bar starts with the spinner '⠋ running while [ ! -e go ]; do sleep 0.05;… ·
    12s', then the turn's cost and the session's; no 'ttft' or last-turn figures."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await send(pilot, app, "block please")
        await until(pilot, lambda: app.query("ApprovalPanel"), "approval")
        await pilot.press("f2")
        await pilot.press("y")
        await until(pilot, lambda: "running" in app.agent.status().activity, "running")
        await until(pilot, lambda: app.query(ToolBlock), "its block")
        await pin(pilot, app)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        (repo / "go").write_text("")  # let the command end so the agent closes cleanly


def test_resumed_session(snap_compare, make_app) -> None:
    """`/resume ID` of a session with one answered question (the screen is cleared for it):
    'hello there', the collapsed 'Thought: Look at the greeting.' block, the Markdown answer
    with its code fence, and 'Resumed session SESSION.'; the status bar shows the model, idle."""
    first = make_app()
    app = still(make_app())

    async def run_before(pilot) -> None:
        async with first.run_test(size=SIZE) as first_pilot:
            await send(first_pilot, first, "hello there")
            await finish(first_pilot, first)
            session_id = first.agent.status().session_id
            await first_pilot.press("ctrl+q")
        await send(pilot, app, f"/resume {session_id}")
        await until(pilot, lambda: "Resumed session" in str(app.chat.children[-1].render()), "r")
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
