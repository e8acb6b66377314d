"""The command-line flags that override settings, shared by the TUI and ``codeagent exec``.

Kept apart from ``codeagent.config`` so that building the parser (``--help``, bad flags) does not
import pydantic or read any file.
"""

from __future__ import annotations

import argparse
from typing import Any

from codeagent.agent.approvals import Policy
from codeagent.responses.catalog import DEFAULT_MODEL, REASONING_EFFORTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags that override settings (shared by the TUI and ``exec``)."""
    group = parser.add_argument_group("settings (override config files and environment)")
    group.add_argument("--model", "-m", help=f"model name (default {DEFAULT_MODEL})")
    group.add_argument(
        "--reasoning-effort",
        choices=REASONING_EFFORTS,
        help="reasoning effort (the levels each model accepts differ; see /model)",
    )
    group.add_argument(
        "--transport", choices=["auto", "websocket", "http"], help="how to reach the API"
    )
    group.add_argument(
        "--approval-policy",
        "--approval",
        dest="approval_policy",
        choices=[p.value for p in Policy],
        help="what may run without asking (default ask)",
    )
    group.add_argument(
        "--full-auto",
        dest="approval_policy",
        action="store_const",
        const=Policy.FULL_AUTO.value,
        help="same as --approval-policy full-auto",
    )
    group.add_argument("--sandbox", choices=["auto", "bwrap", "none"], help="command sandbox")
    group.add_argument("--base-url", help="Responses API base URL, e.g. http://127.0.0.1:8000/v1")
    group.add_argument(
        "--store",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let the server store responses (default off: zero data retention)",
    )
    group.add_argument("--no-git", action="store_const", const=True, help="no git checkpoints")
    group.add_argument(
        "--auto-commit", action="store_const", const=True, help="commit after every turn"
    )
    group.add_argument(
        "--function-tools",
        action="store_const",
        const=True,
        help="send apply_patch and shell as function tools (models without built-in tools)",
    )
    group.add_argument("--instructions", dest="instructions_file", help="extra instructions file")


#: Flag destinations that map one-to-one onto settings.
_ARG_SETTINGS = (
    "model",
    "reasoning_effort",
    "transport",
    "approval_policy",
    "sandbox",
    "base_url",
    "store",
    "no_git",
    "auto_commit",
    "function_tools",
    "instructions_file",
    "theme",
)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user gave on the command line (flags left out are not included)."""
    values = {name: getattr(args, name, None) for name in _ARG_SETTINGS}
    return {name: value for name, value in values.items() if value is not None}


__all__ = ["add_arguments", "overrides_from_args"]
