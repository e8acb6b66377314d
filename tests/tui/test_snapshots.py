"""SVG snapshots of the main screens (pytest-textual-snapshot), driven by the real Agent.

Numbers that vary between runs (times, byte counts that include temp paths) are pinned before
each snapshot, and the prompt cursor does not blink.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text

from codeagent.tui.widgets.chat import NoticeLine
from tests.tui.conftest import until
from tests.tui.test_app_flows import finish, panel, send

SIZE = (120, 34)


def still(app):
    """No cursor blink from the start (its timer never runs, so the cursor is always drawn)."""
    app.prompt.cursor_blink = False
    return app


def pinned(status):
    """``status`` with the figures that differ between runs fixed (tokens, bytes, cost, times)."""
    last = status.last_turn and replace(status.last_turn, time_to_first_delta=0.42, total_time=1.5)
    started = None if status.turn_started is None else 100.0
    return replace(
        status, bytes_sent=2048, bytes_full_resend=8192, input_tokens=1200, cached_tokens=800,
        output_tokens=64, context_tokens=1264, last_turn=last, turn_started=started,
        cost=None if status.cost is None else 0.0123,
        turn_cost=None if status.turn_cost is None else 0.0045,
    )  # fmt: skip


def pin_text(app) -> None:
    """The temporary repository path and the session id in notices, as fixed words."""
    session_id = app.agent.status().session_id
    for notice in app.query(NoticeLine):
        text = str(notice.render())
        fixed = text.replace(str(app.root), "/work/sample").replace(session_id, "SESSION")
        if fixed != text:
            notice.update(Text(fixed))


async def pin(pilot, app) -> None:
    """Freeze everything that differs between runs, then let every pending repaint happen."""
    bar = app.status_bar
    bar.source = lambda: pinned(app.agent.status())
    bar.clock = lambda: 112.0  # a turn started at 100.0 shows 12s and the spinner's first frame
    bar.pull()
    pin_text(app)
    app.prompt.refresh()  # the prompt moved when the menu opened; repaint it at its final place
    app.screen.refresh(layout=True)
    await pilot.wait_for_scheduled_animations()
    # Markdown finishes its last blocks and the anchored log re-scrolls a few frames later:
    # wait until two consecutive frames are identical.
    previous = None
    for _ in range(40):
        await pilot.pause(0.05)
        current = app.export_screenshot()
        if current == previous:
            break
        previous = current


def test_main_screen_after_an_answer(snap_compare, make_app) -> None:
    """A user message, a collapsed reasoning block, the streamed Markdown answer with a
    highlighted code fence, the status bar (model, transport, tokens, times, bytes) and the
    footer with Send/Newline/Quit keys."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_patch_awaiting_approval(snap_compare, make_app) -> None:
    """The side pane shows the patch to greet.py as a highlighted diff with two hunks, bordered
    and titled 'F2 or click to answer'; the prompt keeps focus (the panel never takes it), and
    the footer offers f2 Approval and esc Interrupt."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None and panel(app).diff_view.prepared, "diff")
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_slash_command_menu(snap_compare, make_app) -> None:
    """Typing "/" opens the command menu above the prompt, listing every command with help."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        app.prompt.focus()
        await pilot.press("/")
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_light_theme(snap_compare, make_app) -> None:
    """The same conversation in the light theme (configured, so the start-up theme is tested
    here; the live `/theme` switch is covered by the pilot tests)."""
    app = still(make_app(theme="light"))

    async def run_before(pilot) -> None:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_approval_waiting_while_text_is_in_the_prompt(snap_compare, make_app) -> None:
    """The patch waits in the side pane with an orange border and 'F2 or click to answer'; the
    chat says an approval is waiting (bold, warning colour); the prompt still has focus and
    holds the half-typed sentence; the footer offers f2 Approval and esc Interrupt."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None and panel(app).diff_view.prepared, "diff")
        for char in "yes, and a note about naming":
            await pilot.press("space" if char == " " else char)
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_main_screen_at_80x24(snap_compare, make_app) -> None:
    """At 80x24 the answer wraps, the status bar fits one line and the footer still shows
    Enter Send, Ctrl+Q Quit and Esc."""
    app = still(make_app())

    async def run_before(pilot) -> None:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        await pin(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
