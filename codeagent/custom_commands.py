"""Custom slash commands: Markdown prompt files that become ``/NAME``.

``NAME.md`` in the repository's ``.codeagent/commands/`` or in ``<config dir>/commands/`` is the
command ``/NAME``. Running it sends the file's text to the model as a user message, with
``$ARGUMENTS`` replaced by everything typed after the name and ``$1``, ``$2``… by the single
arguments (shell-style quoting groups words; a missing one becomes empty). A file that uses none
of these gets the arguments appended as a last paragraph, so nothing typed is dropped.

An optional front matter block sets ``description`` (shown in the slash menu and /help) and
``argument-hint`` (shown after the name)::

    ---
    description: Review the staged changes
    argument-hint: [FOCUS]
    ---
    Review `git diff --cached`. Focus on $ARGUMENTS.

Only ``key: value`` lines are read (no YAML library needed for two strings); other keys, such as
those other tools' command files carry, are ignored. Precedence: a built-in command wins over a
custom one of the same name, and a user's command wins over the repository's (a cloned
repository cannot redefine a command the user wrote). Repository files may be written by the
model, but a command only sends text to the model, so loading them needs no trust.

This module imports no Textual: the TUI offers ``CustomCommand`` records in its menu.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from codeagent.sanitize import terminal_safe

REPO_COMMANDS = Path(".codeagent") / "commands"
#: larger files are refused: a prompt file is a page of text, not a data dump
MAX_BYTES = 64 * 1024
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PLACEHOLDER = re.compile(r"\$(ARGUMENTS|\d+)")
FRONT_KEY = re.compile(r"^([A-Za-z][\w-]*)\s*:\s*(.*)$")
#: "/name args", the arguments after the first space or newline (a multi-line prompt)
INVOCATION = re.compile(r"/(\S+)\s*(.*)", re.DOTALL)


@dataclass(frozen=True)
class CustomCommand:
    """One prompt file offered as ``/name``."""

    name: str
    description: str
    source: str  # "repo" or "user"
    path: Path
    template: str
    argument_hint: str = ""

    @property
    def help(self) -> str:
        """The description and where the command comes from (menu and /help)."""
        return f"{self.description} ({self.source})"

    @property
    def signature(self) -> str:
        """``/name hint`` as shown in the menu and /help."""
        return f"/{self.name} {self.argument_hint}".rstrip()

    def expand(self, raw_args: str) -> str:
        """The prompt to send for ``/name raw_args``."""
        raw_args = raw_args.strip()
        try:
            positional = shlex.split(raw_args)
        except ValueError:  # an unmatched quote ("don't"): plain words, never an error
            positional = raw_args.split()

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "ARGUMENTS":
                return raw_args
            index = int(key)
            return positional[index - 1] if 1 <= index <= len(positional) else ""

        text = PLACEHOLDER.sub(fill, self.template)
        if raw_args and not PLACEHOLDER.search(self.template):
            text = f"{text.rstrip()}\n\n{raw_args}"
        return text.strip()


@dataclass
class CustomCommands:
    """The custom commands of one session, plus what could not be loaded and what is hidden."""

    commands: dict[str, CustomCommand] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: commands hidden by a built-in or by a user command of the same name
    hidden: list[str] = field(default_factory=list)

    def entries(self) -> list[CustomCommand]:
        """The commands, by name (for the slash menu and /help)."""
        return [self.commands[name] for name in sorted(self.commands)]

    def expand_invocation(self, text: str) -> str | None:
        """The prompt for ``/name args`` when ``name`` is a custom command, else None."""
        match = INVOCATION.match(text)
        if match is None:
            return None
        command = self.commands.get(match.group(1).lower())
        if command is None:
            return None
        return command.expand(match.group(2))


def parse_prompt_file(text: str) -> tuple[dict[str, str], str]:
    """Split a prompt file into its front matter (``key: value`` lines) and its body."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        return {}, text  # no closing line: it was a horizontal rule, not front matter
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        match = FRONT_KEY.match(line.strip())
        if match:
            meta[match.group(1).lower()] = _unquote(match.group(2).strip())
    return meta, "\n".join(lines[end + 1 :])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def load_command_file(path: Path, source: str) -> CustomCommand:
    """Read one prompt file; ``ValueError`` with a readable message naming the file if unusable."""
    name = path.stem.lower()
    if not NAME.match(name):
        raise ValueError(
            f"{path}: the command name must be letters, digits, '-' or '_' (rename the file)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ValueError(f"{path}: larger than {MAX_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    meta, body = parse_prompt_file(text)
    if not body.strip():
        raise ValueError(f"{path}: the prompt is empty")
    description = _one_line(meta.get("description", "")) or _first_line(body)
    hint = _one_line(meta.get("argument-hint", ""))
    return CustomCommand(name, description, source, path, body.strip(), hint)


def _one_line(text: str) -> str:
    return " ".join(terminal_safe(text).split())[:80]


def _first_line(body: str) -> str:
    for line in body.splitlines():
        if line.strip():
            return _one_line(line.lstrip("# "))
    return ""


def load_custom_commands(
    root: Path | None, user_dir: Path | None, builtin: Iterable[str] = ()
) -> CustomCommands:
    """The commands in ``user_dir`` and ``root/.codeagent/commands`` (either may be missing).

    ``builtin`` names the built-in commands, which hide custom ones of the same name.
    """
    result = CustomCommands()
    reserved = {name.lower() for name in builtin}
    folders = [("user", user_dir), ("repo", Path(root) / REPO_COMMANDS if root else None)]
    for source, folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                command = load_command_file(path, source)
            except ValueError as error:
                result.errors.append(str(error))
                continue
            if command.name in reserved:
                result.hidden.append(f"/{command.name} ({path}): the built-in /{command.name} wins")
            elif command.name in result.commands:
                kept = result.commands[command.name].path
                result.hidden.append(f"/{command.name} ({path}): your own {kept} wins")
            else:
                result.commands[command.name] = command
    return result


def user_commands_dir() -> Path:
    """``commands/`` in the user's config directory (it need not exist)."""
    from codeagent.config import user_config_path

    return user_config_path().parent / "commands"


__all__ = [
    "CustomCommand",
    "CustomCommands",
    "load_command_file",
    "load_custom_commands",
    "parse_prompt_file",
    "user_commands_dir",
]
