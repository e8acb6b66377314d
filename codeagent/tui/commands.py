"""Slash commands: records in a registry, parsed from the prompt and run against the app.

Each ``SlashCommand`` names its handler, its argument rules and a one-line help. ``run_command``
parses ``/name args``, checks the arguments and runs the handler; unknown commands and wrong
arguments produce a clear message instead of an exception.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codeagent.agent.approvals import Policy

if TYPE_CHECKING:
    from codeagent.sessions import SessionInfo
    from codeagent.tui.app import CodeAgentApp

Handler = Callable[["CodeAgentApp", list[str]], Awaitable[None]]


@dataclass(frozen=True)
class SlashCommand:
    """One command: ``/name``, how many arguments it takes, what it does."""

    name: str
    help: str
    handler: Handler
    usage: str = ""
    min_args: int = 0
    max_args: int = 0

    @property
    def signature(self) -> str:
        """``/name usage`` as shown in /help and the completion menu."""
        return f"/{self.name} {self.usage}".rstrip()


class CommandError(Exception):
    """A slash command could not run; the message is shown to the user as is."""


REGISTRY: dict[str, SlashCommand] = {}


def command(name: str, help: str, usage: str = "", min_args: int = 0, max_args: int = 0):
    """Register the decorated coroutine as ``/name``."""

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = SlashCommand(name, help, handler, usage, min_args, max_args)
        return handler

    return register


def parse(text: str) -> tuple[str, list[str]]:
    """Split ``/name arg "quoted arg"`` into the name and its arguments."""
    try:
        parts = shlex.split(text.strip()[1:])
    except ValueError as error:
        raise CommandError(f"Could not read the command: {error}.") from None
    if not parts:
        raise CommandError("Type a command name after '/'. /help lists them.")
    return parts[0].lower(), parts[1:]


def matching(prefix: str) -> list[SlashCommand]:
    """Commands whose name starts with ``prefix`` (without the slash), in registry order."""
    prefix = prefix.lstrip("/").lower()
    return [cmd for name, cmd in REGISTRY.items() if name.startswith(prefix)]


def check_arguments(cmd: SlashCommand, args: list[str]) -> None:
    """Raise ``CommandError`` when ``args`` does not fit ``cmd``."""
    if cmd.min_args <= len(args) <= cmd.max_args:
        return
    if cmd.max_args == 0:
        raise CommandError(f"/{cmd.name} takes no arguments.")
    raise CommandError(f"Usage: {cmd.signature}")


async def run_command(app: CodeAgentApp, text: str) -> None:
    """Parse and run ``text``; report problems in the conversation instead of raising."""
    try:
        name, args = parse(text)
        cmd = REGISTRY.get(name)
        if cmd is None:
            near = ", ".join(c.signature for c in matching(name[:1])) or "none"
            raise CommandError(
                f"Unknown command /{name}. Type /help for the list (starting with "
                f"'{name[:1]}': {near})."
            )
        check_arguments(cmd, args)
        await cmd.handler(app, args)
    except CommandError as error:
        app.show_error(str(error))


# --- the commands ----------------------------------------------------------------------------


@command("help", "list commands and keys")
async def _help(app: CodeAgentApp, args: list[str]) -> None:
    lines = ["**Commands**", ""]
    lines += [f"- `{cmd.signature}` — {cmd.help}" for cmd in REGISTRY.values()]
    lines += [
        "",
        "**Keys**: Enter sends (queued while a turn runs), Shift+Enter or Ctrl+J adds a line, "
        "Up/Down recall history, Tab completes `/commands` and `@files`, Esc interrupts the "
        "turn, End jumps to the latest output, Ctrl+Q quits.",
        "",
        "To select text with the mouse in your terminal, hold Shift (Option in iTerm2).",
    ]
    app.show_info("\n".join(lines), markdown=True)


@command("model", "show or switch the model", usage="[NAME]", max_args=1)
async def _model(app: CodeAgentApp, args: list[str]) -> None:
    if not args:
        app.show_info(f"Model: {app.agent.status().model}")
        return
    app.agent.set_model(args[0])
    app.refresh_status()
    app.show_info(f"Model set to {args[0]} (used from the next model call).")


@command("approvals", "show or set the approval policy", usage="[POLICY]", max_args=1)
async def _approvals(app: CodeAgentApp, args: list[str]) -> None:
    choices = ", ".join(p.value for p in Policy)
    if not args:
        app.show_info(f"Approval policy: {app.agent.status().policy}. Choices: {choices}.")
        return
    try:
        policy = Policy(args[0])
    except ValueError:
        raise CommandError(f"Unknown policy '{args[0]}'. Choose one of: {choices}.") from None
    app.agent.set_policy(policy)
    app.refresh_status()
    app.show_info(f"Approval policy set to {policy.value}.")


@command("diff", "show what this session changed", usage="[session|turn]", max_args=1)
async def _diff(app: CodeAgentApp, args: list[str]) -> None:
    scope = args[0] if args else "session"
    if scope not in ("session", "turn"):
        raise CommandError("Usage: /diff [session|turn]")
    # git work (a few hundred ms on a large tree) runs off the event loop so the UI keeps painting
    diff = await asyncio.to_thread(app.agent.diff, scope)
    if not diff.strip():
        app.show_info(f"No changes in this {scope}.")
        return
    await app.show_diff(diff, title=f"Changes in this {scope}")


async def _undo_redo(app: CodeAgentApp, redo: bool) -> None:
    if app.turn_running:
        raise CommandError("Wait for the turn to finish (or press Esc) before undoing.")
    result = await asyncio.to_thread(app.agent.redo if redo else app.agent.undo)
    listed = ", ".join(result.files)
    files = f" ({listed})" if listed and listed not in result.message else ""
    if result.ok:
        app.show_notice("checkpoint", f"{result.message}{files}")
    else:
        app.show_error(result.message)


@command("undo", "restore the files as they were before the last turn's edits")
async def _undo(app: CodeAgentApp, args: list[str]) -> None:
    await _undo_redo(app, redo=False)


@command("redo", "re-apply the edits the last /undo removed")
async def _redo(app: CodeAgentApp, args: list[str]) -> None:
    await _undo_redo(app, redo=True)


@command("compact", "summarise the conversation to free context")
async def _compact(app: CodeAgentApp, args: list[str]) -> None:
    if app.turn_running:
        raise CommandError("Wait for the turn to finish before compacting.")
    app.show_info("Compacting the conversation…")
    try:
        line = await app.agent.compact()
    except Exception as error:  # the agent raises typed errors; show them, keep running
        raise CommandError(f"Compaction failed: {error}") from None
    app.refresh_status()
    app.show_info(line or "Conversation compacted.")


@command("clear", "clear the screen (the conversation is kept)")
async def _clear(app: CodeAgentApp, args: list[str]) -> None:
    await app.chat.clear()


@command("earlier", "show earlier messages of a resumed session")
async def _earlier(app: CodeAgentApp, args: list[str]) -> None:
    from codeagent.tui.replay import EarlierMessages

    found = app.query(EarlierMessages)
    if not found:
        app.show_info("Every message of this session is shown already.")
        return
    await found.first().load_more()
    app.chat.scroll_home(animate=False)  # the blocks just loaded are at the top


@command("new", "start a new session (the old one can be resumed)")
async def _new(app: CodeAgentApp, args: list[str]) -> None:
    if app.turn_running:
        raise CommandError("Wait for the turn to finish (or press Esc) before starting anew.")
    app.agent.new_session()
    await app.chat.clear()
    app.plan.clear()
    app.refresh_status()
    app.show_info(f"New session {app.agent.status().session_id}.")


@command("resume", "list sessions, or reopen one", usage="[SESSION_ID]", max_args=1)
async def _resume(app: CodeAgentApp, args: list[str]) -> None:
    if app.turn_running:
        raise CommandError("Wait for the turn to finish before resuming another session.")
    if not args:
        sessions = app.list_sessions()
        if not sessions:
            app.show_info("No earlier sessions in this repository.")
            return
        lines = ["**Sessions** (`/resume ID`)", ""]
        lines += [f"- `{info.id}` {_session_line(info)}" for info in sessions[:20]]
        app.show_info("\n".join(lines), markdown=True)
        return
    await app.resume_session(args[0])


def _session_line(info: SessionInfo) -> str:
    """When a session was last used, and its title."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
    return f"{when} — {info.title}" if info.title else when


@command("status", "model, policy, connection and session")
async def _status(app: CodeAgentApp, args: list[str]) -> None:
    status = app.agent.status()
    app.show_info(
        "\n".join(
            [
                f"Model: {status.model}",
                f"Approval policy: {status.policy}",
                f"Transport: {app.status_bar.transport}",
                f"Session: {status.session_id}",
                f"Repository: {app.root}",
            ]
        )
    )


@command("stats", "tokens, timings and bytes sent so far")
async def _stats(app: CodeAgentApp, args: list[str]) -> None:
    bar = app.status_bar
    saved = bar.bytes_full - bar.bytes_sent
    app.show_info(
        "\n".join(
            [
                f"Turns: {app.turns_completed}, model calls: {bar.model_calls}",
                f"Tokens: {bar.input_tokens} in ({bar.cached_tokens} cached), "
                f"{bar.output_tokens} out",
                f"Last turn: first token {bar.format_seconds(bar.ttft)}, "
                f"total {bar.format_seconds(bar.total_time)}",
                f"Bytes sent: {bar.bytes_sent} of {bar.bytes_full} a full resend would send "
                f"({max(saved, 0)} saved)",
            ]
        )
    )


@command("theme", "list themes, or switch", usage="[NAME]", max_args=1)
async def _theme(app: CodeAgentApp, args: list[str]) -> None:
    names = app.own_themes or sorted(app.available_themes)
    if not args:
        app.show_info(f"Theme: {app.theme}. Available: {', '.join(names)}.")
        return
    if args[0] not in app.available_themes:
        raise CommandError(f"Unknown theme '{args[0]}'. Available: {', '.join(names)}.")
    app.theme = args[0]
    app.show_info(f"Theme set to {args[0]}.")


@command("init", "write an AGENTS.md skeleton for this repository")
async def _init(app: CodeAgentApp, args: list[str]) -> None:
    from codeagent.agent.instructions import AGENTS_MD_TEMPLATE

    target: Path = app.root / "AGENTS.md"
    if target.exists():
        raise CommandError(f"{target.name} already exists; edit it instead (nothing changed).")
    target.write_text(AGENTS_MD_TEMPLATE, encoding="utf-8")
    app.show_info(f"Wrote {target.name}. Fill it in; it is read at the start of each session.")


@command("quit", "leave codeagent")
async def _quit(app: CodeAgentApp, args: list[str]) -> None:
    await app.action_quit()
