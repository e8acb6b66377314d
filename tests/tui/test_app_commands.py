"""Every slash command, driven through the prompt of the real app against the local server."""

from __future__ import annotations

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.tui.widgets.chat import AssistantMessage, NoticeLine, UserMessage
from codeagent.tui.widgets.diff_view import DiffView
from tests.tui.conftest import ANSWER, GREET, until
from tests.tui.test_app_flows import SIZE, finish, notices, panel, send


def last(app, category: str) -> str:
    found = notices(app, category)
    return found[-1] if found else ""


async def command(pilot, app, text: str, category: str = "info") -> str:
    """Run ``text`` and return the notice of ``category`` it added."""
    before = len(notices(app, category))
    await send(pilot, app, text)
    await until(pilot, lambda: len(notices(app, category)) > before, f"{category} after {text}")
    return last(app, category)


async def test_help_status_stats_model_and_approvals(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "/help")
        await until(pilot, lambda: app.query(NoticeLine), "help")
        help_text = " ".join(str(m.source) for m in app.query("NoticeLine Markdown"))
        for name in ("/undo", "/theme [NAME]", "/resume [SESSION_ID]", "Ctrl+J", "Shift"):
            assert name in help_text
        status = await command(pilot, app, "/status")
        assert f"Model: {DEFAULT_MODEL}" in status and "Session:" in status
        assert "sk-test-secret" not in status
        assert "Bytes sent" in await command(pilot, app, "/stats")
        assert "gpt-x" in await command(pilot, app, "/model gpt-x")
        assert app.status_bar.model.startswith("gpt-x")
        assert "Model: gpt-x" in await command(pilot, app, "/model")
        assert "full-auto" in await command(pilot, app, "/approvals full-auto")
        assert app.agent.status().policy == "full-auto"
        error = await command(pilot, app, "/approvals yolo", "error")
        assert "Unknown policy 'yolo'" in error and "read-only" in error
        assert app.agent.status().policy == "full-auto"


async def test_unknown_commands_and_wrong_arguments(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "Unknown command /frobnicate" in await command(pilot, app, "/frobnicate", "error")
        assert "/clear takes no arguments" in await command(pilot, app, "/clear now", "error")
        assert "Usage: /theme [NAME]" in await command(pilot, app, "/theme a b", "error")
        assert "Usage: /diff" in await command(pilot, app, "/diff everything", "error")
        assert not app.turn_running and app.turns_completed == 0  # nothing went to the model


async def test_theme_switches_live_and_rejects_unknown_names(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "dark"
        listing = await command(pilot, app, "/theme")
        for name in ("dark", "light", "high-contrast"):
            assert name in listing
        await command(pilot, app, "/theme light")
        assert app.theme == "light"
        assert "Unknown theme 'neon'" in await command(pilot, app, "/theme neon", "error")
        assert app.theme == "light"


async def test_init_writes_agents_md_once(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await command(pilot, app, "/init")
        target = repo / "AGENTS.md"
        assert target.read_text().strip()
        target.write_text("my own notes\n")
        assert "already exists" in await command(pilot, app, "/init", "error")
        assert target.read_text() == "my own notes\n"


async def test_clear_keeps_the_conversation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        await send(pilot, app, "/clear")
        await until(pilot, lambda: not app.query(AssistantMessage), "cleared")
        assert not app.query(UserMessage)
        assert any(e.get("kind") == "turn_started" for e in app.agent.transcript)


async def test_new_then_resume_restores_the_old_session(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        old_id = app.agent.status().session_id
        new = await command(pilot, app, "/new")
        assert app.agent.status().session_id != old_id and old_id not in new
        assert not app.query(UserMessage) and app.status_bar.output_tokens == 0
        await send(pilot, app, "/resume")
        await until(pilot, lambda: old_id in " ".join(
            str(m.source) for m in app.query("NoticeLine Markdown")), "session list")  # fmt: skip
        assert "Could not resume" in await command(pilot, app, "/resume nope", "error")
        await send(pilot, app, f"/resume {old_id}")
        await until(pilot, lambda: f"Resumed session {old_id}" in last(app, "info"), "resumed")
        assert app.agent.status().session_id == old_id
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hello there"]
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER]


async def test_diff_shows_session_changes_and_escape_closes_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "No changes" in await command(pilot, app, "/diff")
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("y")
        await finish(pilot, app)
        await send(pilot, app, "/diff")
        await until(pilot, lambda: app.query(DiffView), "diff view")
        assert "farewell" in app.query_one(DiffView).diff
        await pilot.press("escape")
        await until(pilot, lambda: not app.side.display, "side closed")


async def test_undo_with_nothing_to_undo_is_explained(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        message = await command(pilot, app, "/undo", "error")
        assert message
        assert (repo / "greet.py").read_text() == GREET


async def test_compact_summarises_the_conversation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        await send(pilot, app, "/compact")
        await until(pilot, lambda: "ompact" in last(app, "info") and "…" not in last(app, "info"),
                    "compacted")  # fmt: skip
        assert not notices(app, "error")


async def test_quit_exits_cleanly(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "/quit")
        await pilot.pause()
    assert app.return_value == 0


async def test_unknown_configured_theme_is_reported_and_the_app_starts(make_app) -> None:
    app = make_app(theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "error"), "theme error")
        assert "Theme 'no-such-theme' not found" in last(app, "error")
        assert app.theme in app.available_themes
        await send(pilot, app, "hello there")
        await finish(pilot, app)


def diff_lines(view: DiffView) -> str:
    """The text of the diff rows on screen."""
    rows = range(view.scrollable_content_region.height)
    return "\n".join("".join(seg.text for seg in view.render_line(y)) for y in rows)


async def test_diff_review_is_read_only_says_esc_closes_and_new_closes_it(make_app) -> None:
    app = make_app(approval_policy="auto-edit")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await finish(pilot, app)
        await send(pilot, app, "/diff")
        await until(pilot, lambda: app.query(DiffView) and app.query_one(DiffView).prepared,
                    "diff view")  # fmt: skip
        await pilot.pause()
        review = app.query_one(DiffView)
        assert "Esc closes" in str(app.query_one(".side-title").render())
        shown = diff_lines(review)
        assert "@@" in shown and "[x]" not in shown and "[ ]" not in shown  # nothing to select
        review.focus()
        await pilot.press("space")  # no hunk toggling in a review
        assert review.all_selected and "selected" not in diff_lines(review)
        await send(pilot, app, "/new")
        await until(pilot, lambda: not app.side.display, "review closed by /new")
        assert not app.query(DiffView) and app.prompt.has_focus


async def test_approvals_lists_the_session_grants(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "Approved for this session: none" in await command(pilot, app, "/approvals")
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2", "a")
        await pilot.pause()
        await pilot.press("enter")  # the first (only) scope: all patches
        await finish(pilot, app)
        listing = await command(pilot, app, "/approvals")
        assert "Approved for this session:" in listing and "patches" in listing, listing
