"""The user's own setup: themes (chosen as the app is built), keymap and custom commands (when
it mounts).

Each comes from files the user (or, for custom commands, the repository) wrote, so each problem
is named in the chat once and everything that is usable still applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codeagent.custom_commands import load_custom_commands, user_commands_dir
from codeagent.tui import commands
from codeagent.tui.keymap import check_keymap, keymap_help

if TYPE_CHECKING:
    from codeagent.tui.app import CodeAgentApp


def apply_personal_setup(app: CodeAgentApp) -> None:
    """Once mounted: name the theme problems ``register_themes`` found, apply the keymap, load
    the commands."""
    for problem in app.theme_problems:
        app.show_error(problem)
    apply_keymap(app)
    offer_custom_commands(app)


def register_themes(app: CodeAgentApp) -> list[str]:
    """The bundled themes and the user's (``<config dir>/themes/``), then the configured one;
    returns the problems to show once the chat exists.

    Called before the app runs: the first stylesheet parse then uses the chosen theme (a theme
    set after mount parses and applies all the CSS a second time before the first paint).
    """
    from codeagent.tui.themes import ThemeError, load_themes, user_themes_dir  # pydantic, pygments

    problems = []
    try:
        themes = load_themes(user_themes_dir())
    except ThemeError as error:  # each bad file is named; every good theme still loads
        themes = error.themes
        problems.append(str(error))
    for theme in themes:
        app.register_theme(theme)
        app.own_themes.append(theme.name)
    wanted = getattr(app.settings, "theme", "dark")
    if wanted in app.available_themes:
        app.theme = wanted
    else:
        names = ", ".join(app.own_themes or sorted(app.available_themes))
        problems.append(f"Theme '{wanted}' not found; using {app.theme}. Available: {names}.")
    return problems


def apply_keymap(app: CodeAgentApp) -> None:
    """The config's ``[keymap]``: unusable entries are named, the rest applies."""
    keymap, errors = check_keymap(getattr(app.settings, "keymap", None) or {})
    if errors:
        lines = "\n".join(errors)
        app.show_error(f"Keymap entries not applied:\n{lines}\nBinding ids:\n{keymap_help()}")
    if keymap:
        app.set_keymap(keymap)


def offer_custom_commands(app: CodeAgentApp) -> None:
    """Offer the prompt files of the repository and the user as slash commands."""
    found = load_custom_commands(app.root, user_commands_dir(), commands.REGISTRY)
    app.custom_commands = found
    app.prompt.commands = [*commands.REGISTRY.values(), *found.entries()]
    if found.errors:
        app.show_error("Could not load custom command(s):\n" + "\n".join(found.errors))
    if found.hidden:
        app.show_info("Custom command(s) not offered:\n" + "\n".join(found.hidden))
