"""Custom slash commands: prompt files from the repository and the user's config directory,
run through the real app's prompt against the local server."""

from __future__ import annotations

import os
from pathlib import Path

from codeagent.custom_commands import load_custom_commands, parse_prompt_file
from codeagent.tui import commands
from codeagent.tui.widgets.chat import NoticeLine
from tests.tui.conftest import until
from tests.tui.test_app_flows import SIZE, finish, notices, send

REVIEW = """---
description: Review one file for bugs
argument-hint: FILE [FOCUS]
allowed-tools: Bash(git diff:*)
---
Please review $1 and look hard at "$2". Everything I typed: $ARGUMENTS
"""
EXPLAIN = "# Explain the code\n\nExplain how this repository is laid out."


def user_commands() -> Path:
    folder = Path(os.environ["CODEAGENT_CONFIG_DIR"]) / "commands"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def repo_commands(repo: Path) -> Path:
    folder = repo / ".codeagent" / "commands"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def user_texts(server) -> list[str]:
    """Every user message text the server received, in order."""
    texts = []
    for frame in server.record:
        for item in frame.payload.get("input") or []:
            if isinstance(item, dict) and item.get("role") == "user":
                content = item.get("content")
                parts = content if isinstance(content, list) else [{"text": content}]
                texts += [p.get("text", "") for p in parts if isinstance(p, dict)]
    return texts


async def test_a_command_from_each_location_runs_with_its_arguments(make_app, repo, server):
    (repo_commands(repo) / "review.md").write_text(REVIEW)
    (user_commands() / "Explain.md").write_text(EXPLAIN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # The slash menu offers both, with their description and source.
        menu = [str(text) for text, _ in app.prompt.completions_for("/")]
        review = next(line for line in menu if line.startswith("/review"))
        assert "/review FILE [FOCUS]" in review and "Review one file for bugs (repo)" in review
        explain = next(line for line in menu if line.startswith("/explain"))
        assert "Explain the code (user)" in explain

        await send(pilot, app, '/review greet.py "error handling" now')
        await finish(pilot, app)
        expected = (
            'Please review greet.py and look hard at "error handling". '
            'Everything I typed: greet.py "error handling" now'
        )
        assert expected in user_texts(server)

        await send(pilot, app, "/explain don't skip the tests")
        await finish(pilot, app, turns=2)
        assert (
            "# Explain the code\n\nExplain how this repository is laid out.\n\ndon't skip the tests"
        ) in user_texts(server)
        assert not notices(app, "error")


async def test_help_lists_custom_commands_and_builtins_win(make_app, repo, server):
    (repo_commands(repo) / "review.md").write_text(REVIEW)
    (repo_commands(repo) / "help.md").write_text("Ignore the built-in help.")
    (repo_commands(repo) / "mine.md").write_text("From the repository.")
    (user_commands() / "mine.md").write_text("From the user.")
    (repo_commands(repo) / "bad.md").write_bytes(b"\xff\xfe")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "error"), "the bad file's error")
        assert "bad.md: not UTF-8 text" in notices(app, "error")[0]
        hidden = " ".join(notices(app, "info"))
        assert "the built-in /help wins" in hidden and "mine.md wins" in hidden

        before = len(app.query(NoticeLine))
        await send(pilot, app, "/help")
        await until(pilot, lambda: len(app.query(NoticeLine)) > before, "help")
        help_text = " ".join(str(m.source) for m in app.query("NoticeLine Markdown"))
        assert "**Your commands**" in help_text
        assert "`/review FILE [FOCUS]` — Review one file for bugs (repo)" in help_text
        assert "`/mine` — From the user. (user)" in help_text
        assert "Ignore the built-in help" not in help_text
        # /help stayed a built-in: nothing went to the model (the start-up prewarm aside)
        assert not [f for f in server.record if f.payload.get("generate") is not False]

        await send(pilot, app, "/mine")
        await finish(pilot, app)
        assert "From the user." in user_texts(server)
        assert "From the repository." not in user_texts(server)


def test_front_matter_and_placeholders(tmp_path: Path):
    meta, body = parse_prompt_file("---\ndescription: 'Quoted: yes'\n---\nBody $1 $3\n")
    assert meta == {"description": "Quoted: yes"} and body == "Body $1 $3"
    assert parse_prompt_file("---\nno end\n") == ({}, "---\nno end\n")
    folder = tmp_path / "commands"
    folder.mkdir()
    (folder / "fix.md").write_text("Fix $1 then $3.")
    (folder / "bad name.md").write_text("x")
    (folder / "empty.md").write_text("---\ndescription: nothing\n---\n")
    found = load_custom_commands(None, folder, commands.REGISTRY)
    assert sorted(found.commands) == ["fix"]
    assert found.commands["fix"].expand("a b") == "Fix a then ."
    assert any("bad name.md" in e and "rename the file" in e for e in found.errors)
    assert any("empty.md: the prompt is empty" in e for e in found.errors)
    assert found.expand_invocation("/fix x y z") == "Fix x then z."
    assert found.expand_invocation("/fix\nx y\nz") == "Fix x then z."
    assert found.expand_invocation("/FIX") == "Fix  then ."
    assert found.expand_invocation("fix x") is None
    assert found.expand_invocation("/status") is None
