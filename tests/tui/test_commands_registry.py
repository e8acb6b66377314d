"""Slash command parsing and argument checks (no app needed)."""

from __future__ import annotations

import pytest

from codeagent.tui import commands

EXPECTED = {
    "help", "model", "approvals", "diff", "undo", "redo", "compact", "clear", "new", "resume",
    "status", "stats", "theme", "init", "quit",
}  # fmt: skip
#: added beyond the issue's list: loads older blocks of a resumed session (keyboard for the click)
EXTRA = {"earlier"}
#: issue 14: MCP servers with their state and tools
EXTRA |= {"mcp"}


def test_every_command_of_the_issue_is_registered() -> None:
    assert set(commands.REGISTRY) == EXPECTED | EXTRA


def test_parse_splits_quoted_arguments() -> None:
    assert commands.parse('/model "gpt 5"') == ("model", ["gpt 5"])
    assert commands.parse("/THEME light") == ("theme", ["light"])


@pytest.mark.parametrize("text", ["/", "/   ", '/model "unclosed'])
def test_parse_rejects_unreadable_input(text: str) -> None:
    with pytest.raises(commands.CommandError):
        commands.parse(text)


def test_wrong_argument_counts_name_the_usage() -> None:
    with pytest.raises(commands.CommandError, match="takes no arguments"):
        commands.check_arguments(commands.REGISTRY["clear"], ["x"])
    with pytest.raises(commands.CommandError, match=r"Usage: /theme \[NAME\]"):
        commands.check_arguments(commands.REGISTRY["theme"], ["a", "b"])


def test_matching_is_a_prefix_filter() -> None:
    assert [c.name for c in commands.matching("re")] == ["redo", "resume"]
    assert commands.matching("zz") == []


def test_commands_and_prompt_import_neither_the_app_nor_each_other() -> None:
    """The App/commands/prompt import circle is gone: commands act on a CommandContext, the
    prompt receives the command list from its host."""
    import subprocess
    import sys

    def loaded_after(module: str) -> str:
        probe = (
            f"import sys, {module}\n"
            "print(sorted(m for m in sys.modules if m.startswith('codeagent.tui')))\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    after_commands = loaded_after("codeagent.tui.commands")
    assert "codeagent.tui.app'" not in after_commands
    assert "codeagent.tui.widgets" not in after_commands
    assert "codeagent.tui.commands" not in loaded_after("codeagent.tui.widgets.prompt")
