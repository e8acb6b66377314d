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
