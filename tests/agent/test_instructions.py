"""Instructions: base prompt + AGENTS.md from root down to cwd (capped) + the user file."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.agent.instructions import (
    AGENTS_MD_CAP,
    AGENTS_MD_TEMPLATE,
    BASE_PROMPT,
    InstructionsError,
    agents_md_files,
    build_instructions,
)


def test_base_prompt_only(tmp_path: Path) -> None:
    text = build_instructions(tmp_path, tmp_path, None)
    assert text.startswith(BASE_PROMPT)
    assert "AGENTS.md" not in text.removeprefix(BASE_PROMPT)


def test_agents_md_root_to_cwd_in_order(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("ROOT RULES")
    sub = tmp_path / "pkg" / "inner"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "AGENTS.md").write_text("PKG RULES")
    (sub / "AGENTS.md").write_text("INNER RULES")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "AGENTS.md").write_text("OTHER RULES")

    text = build_instructions(tmp_path, sub, None)
    assert text.index("ROOT RULES") < text.index("PKG RULES") < text.index("INNER RULES")
    assert "OTHER RULES" not in text
    assert "## pkg/AGENTS.md" in text
    # from the root only the root file applies
    assert agents_md_files(tmp_path, tmp_path) == [tmp_path / "AGENTS.md"]
    # a cwd outside the repository gets only the root's file
    assert agents_md_files(tmp_path / "pkg", tmp_path / "other") == [tmp_path / "pkg" / "AGENTS.md"]


def test_agents_md_capped(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("A" * (AGENTS_MD_CAP + 5000))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "AGENTS.md").write_text("NEVER SEEN")
    text = build_instructions(tmp_path, sub, None)
    assert text.count("A" * 100) > 0
    assert text.count("A") < AGENTS_MD_CAP + 100
    assert "truncated" in text
    assert "NEVER SEEN" not in text
    assert "left out" in text


def test_user_file_appended_last(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("ROOT RULES")
    mine = tmp_path / "mine.md"
    mine.write_text("Always answer in French.\n")
    text = build_instructions(tmp_path, tmp_path, mine)
    assert text.rstrip().endswith("Always answer in French.")
    assert text.index("ROOT RULES") < text.index("French")


def test_missing_user_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InstructionsError, match="instructions file not found"):
        build_instructions(tmp_path, tmp_path, tmp_path / "absent.md")


def test_template_has_sections() -> None:
    assert AGENTS_MD_TEMPLATE.startswith("# AGENTS.md")
    assert "## Commands" in AGENTS_MD_TEMPLATE
