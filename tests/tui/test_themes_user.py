"""User themes from the config directory and ``--theme``, in the real app on the local server."""

from __future__ import annotations

import os
from pathlib import Path

from codeagent.cli import build_parser
from codeagent.config import overrides_from_args
from tests.tui.conftest import until
from tests.tui.test_app_flows import SIZE, notices

MINE = 'name = "mine"\nprimary = "#336699"\nbackground = "#101820"\n'


def user_themes() -> Path:
    folder = Path(os.environ["CODEAGENT_CONFIG_DIR"]) / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_theme_flag_picks_a_user_theme_from_the_config_directory(make_app) -> None:
    (user_themes() / "mine.toml").write_text(MINE)
    overrides = overrides_from_args(build_parser(None).parse_args(["--theme", "mine"]))
    assert overrides["theme"] == "mine"
    app = make_app(**overrides)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "mine"
        assert app.current_theme.primary == "#336699"
        assert {"mine", "dark", "light", "high-contrast", "solarized"} <= set(app.own_themes)
        assert not notices(app, "error")


async def test_a_broken_user_theme_is_named_and_the_others_still_load(make_app) -> None:
    folder = user_themes()
    (folder / "mine.toml").write_text(MINE)
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "blurple"\n')
    app = make_app(theme="mine")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "error"), "the theme error")
        error = notices(app, "error")[0]
        assert "broken.toml" in error and "'blurple' is not a colour" in error
        assert "mine.toml" not in error
        assert app.theme == "mine"  # the good user theme still loaded and was chosen
        assert {"mine", "dark", "light"} <= set(app.own_themes)
        assert "broken" not in app.available_themes


async def test_an_unknown_theme_name_says_which_exist(make_app) -> None:
    app = make_app(theme="nope")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "error"), "the unknown theme error")
        error = notices(app, "error")[0]
        assert "Theme 'nope' not found" in error and "solarized" in error
