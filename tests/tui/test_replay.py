"""Opening a long session: the newest blocks in one batch, older ones on demand; resumed
events go through the live view's ``block_for`` (``event_from_dict`` reads them back)."""

from __future__ import annotations

from codeagent.agent.events import event_from_dict
from codeagent.tui.widgets.chat import AssistantMessage, ToolBlock, UserMessage
from codeagent.tui.widgets.pages import PAGE_BLOCKS as REPLAY_BLOCKS
from codeagent.tui.widgets.pages import EarlierMessages, group_blocks, last_plan
from tests.tui.conftest import until


def long_transcript(messages: int) -> list[dict]:
    """``messages`` entries: a question and its Markdown answer per turn."""
    entries: list[dict] = []
    for n in range(messages // 2):
        entries.append({"kind": "turn_started", "text": f"Question {n}"})
        entries.append({"kind": "text_done", "item_id": f"msg_{n}", "text": f"Answer **{n}**"})
    return entries


def write_session(root, entries: list[dict]) -> str:
    from codeagent.sessions import SessionStore

    session = SessionStore().create(root)
    for entry in entries:
        session.append_event(entry)
    return session.id


def test_a_transcript_groups_one_block_per_shown_entry_and_keeps_the_last_plan() -> None:
    transcript = [
        {"kind": "turn_started", "text": "fix it"},
        {"kind": "plan", "steps": [{"step": "Read", "status": "completed"}], "explanation": ""},
        {"kind": "tool_call", "call_id": "c1", "tool": "shell", "title": "ls", "detail": "ls"},
        {"kind": "tool_call", "call_id": "p1", "tool": "update_plan", "title": "plan"},
        {"kind": "model_call", "metrics": {}},
        {"kind": "tool_output", "call_id": "c1", "tool": "shell", "output": "a", "exit_code": 0},
        {"kind": "plan", "steps": [{"step": "Fix", "status": "in_progress"}], "explanation": "go"},
        {"kind": "error", "code": "server_error", "message": "boom"},
    ]
    events = [e for d in transcript if (e := event_from_dict(d)) is not None]
    groups = group_blocks(events)
    # user, shell call (with its output), error; no plan tool block, no metrics
    assert [[e.kind for e in g] for g in groups] == [
        ["turn_started"],
        ["tool_call", "tool_output"],
        ["error"],
    ]
    plan = last_plan(events)
    assert plan is not None and plan.explanation == "go"
    assert [step.step for step in plan.steps] == ["Fix"]


async def test_a_resumed_2000_message_session_shows_its_last_message(make_app, repo) -> None:
    session_id = write_session(repo, long_transcript(2000))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.resume_session(session_id)
        await pilot.pause()
        answers = list(app.query(AssistantMessage))
        assert answers[-1].text == "Answer **999**"
        # the newest page, the "earlier" line above it and the "Resumed session" notice below
        assert len(app.chat.children) == REPLAY_BLOCKS + 2
        earlier = app.query_one(EarlierMessages)
        assert app.chat.children[0] is earlier
        assert f"{2000 - REPLAY_BLOCKS:,} earlier messages" in str(earlier.render())
        await until(pilot, lambda: app.chat.is_vertical_scroll_end, "anchored at the end")

        app.chat.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        await pilot.click(EarlierMessages)
        await until(pilot, lambda: len(app.chat.children) == 2 * REPLAY_BLOCKS + 2, "page 2")
        questions = [str(m.render()) for m in app.query(UserMessage)]
        assert questions == [f"Question {n}" for n in range(1000 - REPLAY_BLOCKS, 1000)]  # in order
        assert f"{2000 - 2 * REPLAY_BLOCKS:,} earlier messages" in str(earlier.render())


async def test_loading_every_earlier_page_removes_the_line(make_app, repo) -> None:
    session_id = write_session(repo, long_transcript(2 * REPLAY_BLOCKS + 10))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.resume_session(session_id)
        earlier = app.query_one(EarlierMessages)
        await earlier.load_more()
        assert "10 earlier messages — click or /earlier to show 10 more" in str(earlier.render())
        app.prompt.load_text("/earlier")
        await pilot.press("enter")
        await until(pilot, lambda: not app.query(EarlierMessages), "last page loaded")
        questions = [str(m.render()) for m in app.query(UserMessage)]
        assert questions == [f"Question {n}" for n in range(REPLAY_BLOCKS + 5)]


async def test_a_resumed_tool_call_shows_how_it_ended(make_app, repo) -> None:
    session_id = write_session(
        repo,
        [
            {"kind": "turn_started", "text": "list"},
            {"kind": "tool_call", "call_id": "c1", "tool": "shell", "title": "ls", "detail": "ls"},
            {"kind": "tool_output", "call_id": "c1", "tool": "shell", "output": "", "exit_code": 2},
            {"kind": "turn_interrupted", "reason": "the user pressed Esc"},
        ],
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.resume_session(session_id)
        await pilot.pause()
        block = app.query_one(ToolBlock)
        assert "✗ exit 2" in str(block.title) and block.has_class("failed")
        assert not app.query(EarlierMessages)


async def test_earlier_says_so_when_everything_is_shown(make_app) -> None:
    from codeagent.tui.widgets.chat import NoticeLine

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.load_text("/earlier")
        await pilot.press("enter")
        await until(pilot, lambda: app.query(NoticeLine), "a notice")
        assert "shown already" in str(app.query(NoticeLine).last().render())
