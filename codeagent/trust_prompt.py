"""Asking the user, once per file content, whether to apply a repository's config settings that
need trust (before the TUI starts; ``exec`` refuses them instead unless ``--trust``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from codeagent import trust
from codeagent.config import untrusted_repo_settings
from codeagent.sanitize import terminal_safe


def ask_on_terminal(config_path: Path, lines: list[str], stdin: TextIO, stream: TextIO) -> bool:
    """Show what the repository's config file sets that needs trust and ask (default no)."""
    shown = "\n".join(f"    {terminal_safe(line)}" for line in lines)
    print(
        f"This repository's config file {terminal_safe(str(config_path))} sets:\n\n{shown}\n\n"
        "These settings change what codeagent may do or where your data and API key go.\n"
        "Anyone who can write to the repository (the model included) can change this file;\n"
        "your answer holds until the file changes.",
        file=stream,
    )
    print("Apply them? [y]es / [N]o (ignore them): ", end="", file=stream, flush=True)
    try:
        answer = stdin.readline()
    except KeyboardInterrupt:  # Ctrl-C at the question: stop here, without a traceback
        print(file=stream)
        raise SystemExit(130) from None
    return answer.strip().lower() in ("y", "yes")


def settle_repo_trust(
    root: Path,
    overrides: dict[str, Any] | None = None,
    *,
    stdin: TextIO | None = None,
    stream: TextIO | None = None,
    interactive: bool | None = None,
) -> str:
    """Before the TUI starts: if ``root``'s config file sets settings that need trust and this
    exact content is not trusted yet, ask on the terminal (a yes is remembered for this content).

    Returns a notice naming the settings that stay ignored ('' when none are), for the app to
    show: untrusted settings are never applied, and never ignored silently.
    """
    pending = untrusted_repo_settings(root, overrides)
    if pending is None:
        return ""
    stdin = stdin or sys.stdin
    stream = stream or sys.stderr
    if interactive is None:
        interactive = stdin.isatty()
    if interactive and ask_on_terminal(pending.path, pending.describe(), stdin, stream):
        trust.trust(root, pending.digest)
        return ""
    names = ", ".join(pending.needs_trust)
    return terminal_safe(
        f"Ignored from {pending.path} (not trusted): {names}. They change what codeagent may do "
        "or where data goes; restart codeagent in a terminal to review and trust them."
    )


__all__ = ["ask_on_terminal", "settle_repo_trust"]
