"""Pilot tests of the main flows against the real Agent and the local Responses server."""

from __future__ import annotations

import json

from codeagent.tui.widgets.chat import (
    AssistantMessage,
    NoticeLine,
    ReasoningBlock,
    ToolBlock,
    UserMessage,
)
from tests.tui.conftest import ANSWER, GREET, until

SIZE = (120, 40)


async def send(pilot, app, text: str) -> None:
    """Type ``text`` into the prompt (loaded whole, to keep tests fast) and press Enter."""
    app.prompt.focus()
    app.prompt.load_text(text)
    await pilot.press("enter")


async def finish(pilot, app, turns: int = 1) -> None:
    await until(pilot, lambda: app.turns_completed >= turns and not app.turn_running, "turn end")


def notices(app, category: str) -> list[str]:
    return [str(n.render()) for n in app.query(NoticeLine) if n.has_class(category)]


def panel(app):
    from codeagent.tui.widgets.approval_panel import ApprovalPanel

    found = app.query(ApprovalPanel)
    return found.first() if found else None


def sent_payloads(server) -> str:
    return "\n".join(json.dumps(frame.payload) for frame in server.record)


async def test_submit_streams_markdown_reasoning_and_usage(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        assert [str(m.render()) for m in app.query(UserMessage)] == ["hello there"]
        answers = list(app.query(AssistantMessage))
        assert len(answers) == 1 and answers[0].text == ANSWER
        assert "Look at the greeting" in app.query_one(ReasoningBlock).text
        status = app.agent.status()  # the agent counts; the bar shows its figures
        assert status.output_tokens > 0 and status.bytes_sent > 0 and status.last_turn
        assert f"out {status.output_tokens}" in str(app.status_bar.render())
        assert app.prompt.has_focus


async def test_approving_a_patch_changes_the_file(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        assert (repo / "greet.py").read_text() == GREET  # nothing written before approval
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("y")
        await finish(pilot, app)
        text = (repo / "greet.py").read_text()
        assert "return 'hello'" in text and "return 'farewell'" in text
        assert panel(app) is None and not app.side.display
        assert any("Approved" in n for n in notices(app, "approval"))
        assert app.query_one(ToolBlock).has_class("ok")


async def test_rejecting_with_a_reason_tells_the_model(make_app, repo, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("n")
        await pilot.press(*"use hey", "enter")
        await finish(pilot, app)
        assert (repo / "greet.py").read_text() == GREET
        assert "use hey" in sent_payloads(server)
        assert any("Rejected" in n and "use hey" in n for n in notices(app, "approval"))


async def test_partial_hunks_apply_only_the_selected_ones(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("space")  # deselect the first hunk (greet)
        await pilot.press("y")
        await finish(pilot, app)
        text = (repo / "greet.py").read_text()
        assert "return 'hi'" in text and "return 'farewell'" in text


async def test_undo_and_redo_after_a_patch(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("y")
        await finish(pilot, app)
        patched = (repo / "greet.py").read_text()
        await send(pilot, app, "/undo")
        await until(pilot, lambda: notices(app, "checkpoint"), "undo notice")
        assert (repo / "greet.py").read_text() == GREET
        await send(pilot, app, "/redo")
        await until(pilot, lambda: len(notices(app, "checkpoint")) == 2, "redo notice")
        assert (repo / "greet.py").read_text() == patched


async def test_undo_of_many_files_names_each_file_once(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "seven files please")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")
        await pilot.press("y")
        await finish(pilot, app)
        assert (repo / "f7.txt").exists()
        await send(pilot, app, "/undo")
        await until(pilot, lambda: notices(app, "checkpoint"), "undo notice")
        (notice,) = notices(app, "checkpoint")
        assert not (repo / "f7.txt").exists()
        assert notice.count("f1.txt") == 1, notice  # the file list was printed twice
        assert "7 files" in notice


async def test_tab_while_running_queues_for_the_next_turn(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        app.prompt.load_text("hello after")  # the user types on, and Tab queues (Enter steers)
        await pilot.press("tab")
        queued = [m for m in app.query(UserMessage) if m.has_class("queued")]
        assert len(queued) == 1 and app.queue == ["hello after"]
        assert app.status_bar.queued == 1
        await pilot.press("f2")  # a deliberate move to the approval
        await pilot.press("y")
        await finish(pilot, app, turns=2)
        assert app.queue == [] and app.status_bar.queued == 0
        assert any(a.text == ANSWER for a in app.query(AssistantMessage))
        users = [
            f for f in server.record if "hello after" in json.dumps(f.payload.get("input", ""))
        ]
        assert users, "the queued message reached the model"


async def test_escape_interrupts_a_streaming_turn(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "slow please")
        await until(pilot, lambda: any(a.text for a in app.query(AssistantMessage)), "stream")
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "turn stopped")
        assert any("interrupted" in n for n in notices(app, "warning"))
        # the conversation is still usable
        await send(pilot, app, "hello again")
        await until(
            pilot, lambda: any(a.text == ANSWER for a in app.query(AssistantMessage)), "answer"
        )


async def test_escape_during_an_approval_rejects_and_keeps_the_file(make_app, repo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("escape")
        await until(pilot, lambda: not app.turn_running, "turn stopped")
        assert panel(app) is None
        assert (repo / "greet.py").read_text() == GREET


async def test_shell_block_shows_command_exit_status_and_output(make_app) -> None:
    app = make_app(approval_policy="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "shell please")
        await finish(pilot, app)
        block = app.query_one(ToolBlock)
        assert "echo from-shell" in str(block.title)
        assert "exit 0" in str(block.title) and block.has_class("ok")
        assert "from-shell" in str(block.output.render())


async def test_plan_view_shows_update_plan(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "plan please")
        await finish(pilot, app)
        assert app.plan.display
        assert [s.step for s in app.plan.steps] == ["Read", "Fix"]
        assert "Plan 1/2" in str(app.plan.render())


async def test_reconnect_shows_a_notice_and_the_answer_once(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # One drop is retried at once without a word; a second one is announced.
        server.faults.drop_mid_stream(after_events=4, times=2)
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        shown = notices(app, "reconnect") + notices(app, "recovery")
        assert len(shown) == 1, "the second reconnect is announced, the first is not"
        answers = [a.text for a in app.query(AssistantMessage)]
        assert answers == [ANSWER]
        assert len(app.query(ReasoningBlock)) == 1  # the partial ones were taken back


async def test_a_drop_after_the_answer_streamed_shows_it_once(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # The "hello" answer takes 20 events: cut before response.completed, after the
        # answer and its output_text.done have arrived.
        server.faults.drop_mid_stream(after_events=19)
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        assert len([f for f in server.record if "input" in f.payload]) == 2  # it was retried
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER]
        assert len(app.query(ReasoningBlock)) == 1


async def test_server_error_is_readable_and_the_app_keeps_running(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        server.faults.error("server_error", 500, "boom", times=10)
        await send(pilot, app, "hello there")
        await until(pilot, lambda: notices(app, "error"), "error notice")
        await until(pilot, lambda: not app.turn_running, "turn ended")
        assert "sk-test-secret" not in " ".join(notices(app, "error"))
        server.faults.clear()
        await send(pilot, app, "hello again")
        await until(
            pilot, lambda: any(a.text == ANSWER for a in app.query(AssistantMessage)), "answer"
        )


async def test_websocket_refused_falls_back_to_http_with_a_notice(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        server.faults.reject_websocket(426)
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        assert notices(app, "fallback"), "the fallback is announced"
        assert app.status_bar.transport == "HTTP fallback"
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER]
        assert all(frame.transport == "http" for frame in server.record)


async def test_the_api_key_never_reaches_the_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        for command in ("/status", "/stats", "/help"):
            await send(pilot, app, command)
        await pilot.pause()
        assert "sk-test-secret" not in app.export_screenshot()


async def test_lost_server_cache_is_announced_as_a_recovery(make_app, server) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        server.faults.forget_cached_responses()
        await send(pilot, app, "hello again")
        await finish(pilot, app, turns=2)
        assert notices(app, "recovery"), "the full resend is announced"
        assert [a.text for a in app.query(AssistantMessage)] == [ANSWER, ANSWER]


async def test_at_path_completion_uses_the_repository_files(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.prompt.files, "file list")
        assert app.prompt.files == ["README.md", "greet.py"]
        app.prompt.focus()
        await pilot.press(*"look at @gre", "tab")
        assert app.prompt.text == "look at @greet.py "


async def test_the_app_prewarms_after_first_paint_and_the_turn_chains_from_it(
    make_app, server
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:

        def prewarms() -> list[dict]:
            return [f.payload for f in server.record if f.payload.get("generate") is False]

        await until(pilot, lambda: app.agent.conversation.last_response_id, "the prewarm")
        [warm] = prewarms()
        assert warm["input"] == [] and warm["tools"]
        warm_id = app.agent.conversation.last_response_id
        await send(pilot, app, "hello there")
        await finish(pilot, app)
        turn = server.record[len(prewarms())].payload  # the first request after the prewarm
        assert turn["previous_response_id"] == warm_id
        assert [i.get("role") for i in turn["input"]] == ["user"]
        # Later the socket goes away (idle); the user's first key press prewarms again.
        await app.agent.transport.close()
        app.agent._next_prewarm = 0.0
        app.prompt.focus()
        await pilot.press("h")
        await until(pilot, lambda: len(prewarms()) == 2, "a second prewarm")
        assert len(prewarms()[1]["input"]) > 1  # the history so far, on the new socket
