"""Small things seen in a real terminal: shortened titles and the approval notice's wording."""

from __future__ import annotations

from codeagent.agent.approvals import Decision, Scope
from codeagent.tui.widgets.approval_panel import scope_phrase
from codeagent.tui.widgets.chat import ReasoningBlock, shorten
from tests.tui.conftest import until


def test_shorten_cuts_at_a_word_boundary_and_says_so() -> None:
    assert shorten("Let me confirm directory layout", 80) == "Let me confirm directory layout"
    assert shorten("Let me confirm directory layout", 20) == "Let me confirm…"
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"
    assert len(shorten("word " * 40, 80)) <= 80


def test_scope_phrases_are_words_not_enum_values() -> None:
    assert scope_phrase(Decision(True, scope=Scope.ALL_PATCHES)) == "all patches"
    assert scope_phrase(Decision(True, scope=Scope.EXACT_COMMAND)) == "this exact command"
    prefix = Decision(True, scope=Scope.COMMAND_PREFIX, prefix="pytest")
    assert scope_phrase(prefix) == "commands starting with `pytest`"
    assert scope_phrase(Decision(True)) == ""


async def test_a_long_reasoning_title_ends_with_an_ellipsis_in_a_narrow_pane(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(40, 30)) as pilot:
        block = ReasoningBlock("rs_1")
        await app.chat.add(block)
        block.finish("Let me confirm directory layout before editing anything here")
        await pilot.pause()
        line = block._title.render_line(0).text.rstrip()
        assert line.endswith("…") and "Let me confirm" in line


async def test_approving_all_patches_for_the_session_is_worded_plainly(make_app, repo) -> None:
    from codeagent.tui.widgets.approval_panel import ApprovalPanel
    from codeagent.tui.widgets.chat import NoticeLine

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.load_text("patch it")
        await pilot.press("enter")
        await until(pilot, lambda: app.query(ApprovalPanel), "approval panel")
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: app.turns_completed == 1 and not app.turn_running, "turn")
        approvals = [str(n.render()) for n in app.query(NoticeLine) if n.has_class("approval")]
        assert approvals and approvals[0].endswith("(for the session: all patches)")
        assert "hello" in (repo / "greet.py").read_text()
