"""Focus stays where the user types, and the conversation scrolls from the keyboard.

Driven through the pilot as a person would: keys one at a time, clicks on blocks, a resize to
80x24. Everything runs against the real Agent and the local Responses server.
"""

from __future__ import annotations

from textual.widgets import Footer

from codeagent.tui.widgets.chat import AssistantMessage, ToolBlock
from tests.tui.conftest import until
from tests.tui.test_app_flows import SIZE, finish, notices, panel, send
from tests.tui.test_input_safety import type_text


def footer_text(app) -> str:
    return " ".join(str(key.render()) for key in app.query_one(Footer).query("FooterKey"))


def footer_fits(app) -> bool:
    """Every footer key lies inside the screen (none pushed off the right edge)."""
    width = app.size.width
    return all(key.region.right <= width for key in app.query_one(Footer).query("FooterKey"))


async def test_keys_typed_after_a_click_on_a_tool_block_go_to_the_prompt(make_app) -> None:
    app = make_app(approval_policy="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "shell please")
        await finish(pilot, app)
        block = app.query_one(ToolBlock)
        await pilot.click(block)  # opens the block, and focus moves to its title
        assert not app.prompt.has_focus
        await type_text(pilot, "why did it say that")
        assert app.prompt.has_focus
        assert app.prompt.text == "why did it say that"


async def test_tab_with_nothing_to_complete_keeps_focus_and_text(make_app) -> None:
    app = make_app(approval_policy="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "shell please")  # a tool block Tab could move focus to
        await finish(pilot, app)
        app.prompt.focus()
        await pilot.press("tab")  # empty prompt, no approval waiting
        assert app.prompt.has_focus
        await type_text(pilot, "plain words")
        await pilot.press("tab")
        assert app.prompt.has_focus and app.prompt.text == "plain words"


async def test_escape_returns_focus_first_then_interrupts(make_app) -> None:
    """Esc steps back one level: from a tool block to the prompt (the turn goes on), and from
    the prompt it interrupts the running turn."""
    app = make_app(approval_policy="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "shell please")
        await finish(pilot, app)
        await send(pilot, app, "slow please")
        await until(pilot, lambda: any(a.text for a in app.query(AssistantMessage)), "stream")
        await pilot.click(app.query_one(ToolBlock))
        assert not app.prompt.has_focus
        await pilot.press("escape")
        assert app.prompt.has_focus and app.turn_running
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "turn stopped")
        assert any("interrupted" in n for n in notices(app, "warning"))
        assert app.prompt.has_focus


async def test_page_keys_home_and_end_scroll_the_conversation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "long please")
        await finish(pilot, app)
        chat = app.chat
        await until(pilot, lambda: chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y,
                    "at the bottom")  # fmt: skip
        bottom = chat.max_scroll_y
        app.prompt.focus()
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        assert chat.scroll_y < bottom and app.prompt.has_focus
        await pilot.press("home")  # the prompt is empty: Home goes to the top
        await pilot.pause()
        assert chat.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert chat.scroll_y > 0
        await pilot.press("end")  # back to the latest output, following it again
        await pilot.pause()
        assert chat.scroll_y == chat.max_scroll_y and not chat._anchor_released
        # With text in the prompt, Home/End move the cursor; Ctrl+Home still scrolls.
        await type_text(pilot, "draft")
        await pilot.press("home")
        await pilot.pause()
        assert app.prompt.cursor_location == (0, 0) and chat.scroll_y == chat.max_scroll_y
        await pilot.press("ctrl+home")
        await pilot.pause()
        assert chat.scroll_y == 0 and app.prompt.text == "draft"


async def test_footer_fits_80_columns_and_shows_esc_and_quit(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert footer_fits(app)
        assert "esc" in footer_text(app) and "^q" in footer_text(app)
        # While an approval waits, and with the approval focused, the footer still fits.
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None and panel(app).diff_view.prepared, "diff")
        await pilot.pause()
        assert "f2" in footer_text(app) and footer_fits(app)
        assert "esc" in footer_text(app) and "^q" in footer_text(app)
        await pilot.press("f2")
        await pilot.pause()
        text = footer_text(app)
        assert "Approve" in text and "esc" in text and "^q" in text, text
        assert footer_fits(app), text
