"""Themes as data: one TOML file per theme, validated and turned into Textual ``Theme`` objects.

Bundled themes live in the repository's top-level ``themes/*.toml``, which installs as the
package data ``codeagent/themes/`` (see setup.py); users add or override themes with files in
``<config dir>/themes/``. Each file maps to the fields of ``textual.theme.Theme`` plus
``syntax_style``, the pygments style the diff view uses for code under that theme. A bad file
never takes the app down: ``load_themes`` loads every good file and raises one ``ThemeError``
that names each bad file and what is wrong with it, carrying the good themes so the caller can
go on with them.
"""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme


def bundled_themes_dir() -> Path:
    """The folder of the bundled theme files.

    An installed wheel has them in ``codeagent/themes/``; a source checkout (and so an editable
    install) has them in the repository's top-level ``themes/``, next to ``codeagent/``.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "themes"
    return installed if installed.is_dir() else package.parent / "themes"


def user_themes_dir() -> Path:
    """The user's own theme files: ``themes/`` in the config directory (it need not exist)."""
    from codeagent.config import user_config_path

    return user_config_path().parent / "themes"


THEMES_DIR = bundled_themes_dir()
DEFAULT_THEME = "dark"
DARK_SYNTAX_FALLBACK = "one-dark"
LIGHT_SYNTAX_FALLBACK = "xcode"

# theme name -> pygments style, filled by load_themes (bundled themes are loaded on demand).
_syntax_styles: dict[str, str] = {}


class ThemeError(Exception):
    """One or more theme files could not be loaded.

    ``errors`` holds one readable message per bad file; ``themes`` the themes that did load.
    """

    def __init__(self, errors: list[str], themes: list[Theme] | None = None):
        super().__init__("could not load theme(s):\n" + "\n".join(f"  {e}" for e in errors))
        self.errors = errors
        self.themes = themes or []


class ThemeSpec(BaseModel):
    """The contents of one theme file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    primary: str
    secondary: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    dark: bool = True
    luminosity_spread: float = Field(default=0.15, ge=0.0, le=1.0)
    text_alpha: float = Field(default=0.95, ge=0.0, le=1.0)
    variables: dict[str, str] = Field(default_factory=dict)
    syntax_style: str = ""

    @field_validator(
        "primary",
        "secondary",
        "warning",
        "error",
        "success",
        "accent",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
    )
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Color.parse(value)
            except ColorParseError:
                raise ValueError(f"{value!r} is not a colour (use e.g. '#1F6FEB')") from None
        return value

    @field_validator("syntax_style")
    @classmethod
    def _pygments_style(cls, value: str) -> str:
        if value:
            try:
                get_style_by_name(value)
            except ClassNotFound:
                raise ValueError(f"{value!r} is not a pygments style") from None
        return value

    def to_theme(self) -> Theme:
        """The Textual theme (``syntax_style`` is kept aside, see ``syntax_style_for``)."""
        fields = self.model_dump(exclude={"syntax_style"})
        return Theme(**fields)

    def effective_syntax_style(self) -> str:
        """The pygments style, defaulting by the theme's darkness."""
        if self.syntax_style:
            return self.syntax_style
        return DARK_SYNTAX_FALLBACK if self.dark else LIGHT_SYNTAX_FALLBACK


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "file"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def load_theme_spec(path: Path) -> ThemeSpec:
    """Read and validate one theme file; raises ``ThemeError`` naming the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ThemeError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError([f"{path}: invalid TOML: {exc}"]) from None
    try:
        return ThemeSpec.model_validate(data)
    except ValidationError as exc:
        raise ThemeError([f"{path}: {_describe(exc)}"]) from None


def load_themes(extra_dir: Path | None = None) -> list[Theme]:
    """Load the bundled themes, then those in ``extra_dir`` (same name overrides).

    Raises ``ThemeError`` if any file is bad; its ``themes`` still holds every good theme.
    A missing ``extra_dir`` is not an error (the user simply has no themes of their own).
    """
    paths = sorted(THEMES_DIR.glob("*.toml"))
    if extra_dir is not None and extra_dir.is_dir():
        paths += sorted(extra_dir.glob("*.toml"))
    loaded: dict[str, Theme] = {}
    errors: list[str] = []
    for path in paths:
        try:
            spec = load_theme_spec(path)
        except ThemeError as exc:
            errors.extend(exc.errors)
            continue
        loaded[spec.name] = spec.to_theme()
        _syntax_styles[spec.name] = spec.effective_syntax_style()
    themes = list(loaded.values())
    if errors:
        raise ThemeError(errors, themes)
    return themes


def syntax_style_for(theme_name: str) -> str:
    """The pygments style name to highlight code with under the theme ``theme_name``.

    Works for our themes, Textual's built-in themes (by darkness) and unknown names (dark).
    """
    if not _syntax_styles:
        # The bundled files are tested; a broken install still gets the fallbacks below.
        with contextlib.suppress(ThemeError):
            load_themes()
    style = _syntax_styles.get(theme_name)
    if style is not None:
        return style
    builtin = BUILTIN_THEMES.get(theme_name)
    if builtin is not None and not builtin.dark:
        return LIGHT_SYNTAX_FALLBACK
    return DARK_SYNTAX_FALLBACK
