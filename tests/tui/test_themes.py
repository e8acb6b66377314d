"""Theme files: the bundled set, user overrides, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Token
from textual.app import App
from textual.color import Color

from codeagent.tui.themes import (
    THEMES_DIR,
    ThemeError,
    load_theme_spec,
    load_themes,
    syntax_style_for,
)

GOOD = 'name = "mine"\nprimary = "#336699"\ndark = false\nsyntax_style = "friendly"\n'


def test_bundled_themes_load_and_register_in_an_app():
    themes = {theme.name: theme for theme in load_themes()}
    assert {"dark", "light", "high-contrast", "solarized"} <= set(themes)
    assert themes["light"].dark is False and themes["dark"].dark is True
    assert len(list(THEMES_DIR.glob("*.toml"))) == len(themes)

    class Host(App[None]):
        pass

    app = Host()
    for theme in themes.values():
        app.register_theme(theme)
        app.theme = theme.name  # resolving the theme's variables must not fail
        assert app.current_theme.name == theme.name


def test_each_bundled_theme_names_a_pygments_style_readable_on_its_background():
    for theme in load_themes():
        style = get_style_by_name(syntax_style_for(theme.name))
        background = Color.parse(theme.background or "#000000")
        # Code text (names) must stand out against the theme; in high contrast, comments too.
        tokens = [Token.Name, Token.Comment] if theme.name == "high-contrast" else [Token.Name]
        for token in tokens:
            colour = style.style_for_token(token)["color"] or theme.foreground
            assert colour, (theme.name, token)
            contrast = _contrast(Color.parse(colour if "#" in colour else f"#{colour}"), background)
            assert contrast >= 4.5, (theme.name, token, colour, contrast)


def _contrast(a: Color, b: Color) -> float:
    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            v = v / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_syntax_style_for_known_builtin_and_unknown_names():
    load_themes()
    assert syntax_style_for("light") == "xcode"
    assert syntax_style_for("solarized") == "solarized-dark"
    assert syntax_style_for("textual-light") == "xcode"  # Textual's light theme: a light style
    assert syntax_style_for("textual-dark") == "one-dark"
    assert syntax_style_for("no-such-theme") == "one-dark"


def test_user_themes_add_and_override(tmp_path: Path):
    (tmp_path / "mine.toml").write_text(GOOD)
    (tmp_path / "dark.toml").write_text('name = "dark"\nprimary = "#FF0000"\n')
    themes = {theme.name: theme for theme in load_themes(tmp_path)}
    assert themes["mine"].primary == "#336699" and themes["mine"].dark is False
    assert themes["dark"].primary == "#FF0000"
    assert syntax_style_for("mine") == "friendly"
    assert syntax_style_for("dark") == "one-dark"  # no syntax_style: chosen by darkness
    load_themes()  # restore the bundled mapping for other tests


def test_missing_extra_dir_is_not_an_error(tmp_path: Path):
    assert {t.name for t in load_themes(tmp_path / "absent")} >= {"dark", "light"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('name = "x"\nprimary = "#123456\n', "invalid TOML"),
        ('name = "x"\n', "primary: Field required"),
        ('name = "x"\nprimary = "blurple"\n', "primary: 'blurple' is not a colour"),
        ('name = "x"\nprimary = "#123456"\nsyntax_style = "nope"\n', "'nope' is not a pygments"),
        ('name = "x"\nprimary = "#123456"\nprimry = "#1"\n', "primry: unknown field"),
        ('name = "bad name!"\nprimary = "#123456"\n', "name: String should match"),
        ('name = "x"\nprimary = "#123456"\ntext_alpha = 3\n', "text_alpha: Input should be"),
    ],
)
def test_bad_theme_file_gives_a_clear_message(tmp_path: Path, content: str, message: str):
    path = tmp_path / "broken.toml"
    path.write_text(content)
    with pytest.raises(ThemeError) as info:
        load_theme_spec(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert path.read_text() == content  # the user's file is left as it was


def test_one_bad_user_file_keeps_every_good_theme(tmp_path: Path):
    (tmp_path / "mine.toml").write_text(GOOD)
    (tmp_path / "broken.toml").write_bytes(b"\xff\xfe not utf8")
    with pytest.raises(ThemeError) as info:
        load_themes(tmp_path)
    assert info.value.errors == [f"{tmp_path / 'broken.toml'}: not UTF-8 text"]
    names = {theme.name for theme in info.value.themes}
    assert {"dark", "light", "high-contrast", "solarized", "mine"} <= names
    assert "could not load theme(s)" in str(info.value)
    load_themes()
