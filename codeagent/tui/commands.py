"""Slash commands: records in a registry, parsed from the prompt and run on a ``CommandContext``.

Each ``SlashCommand`` names its handler, its argument rules and a one-line help. ``run_command``
parses ``/name args``, checks the arguments and runs the handler; unknown commands and wrong
arguments produce a clear message instead of an exception. Handlers see only the small
``CommandContext`` protocol (the agent, a way to say things, the diff pane, the conversation),
never the App, so this module imports nothing from the TUI's widgets or ctx.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codeagent.agent.approvals import Policy
from codeagent.agent.status import transport_line

if TYPE_CHECKING:
    from codeagent.agent.loop import Agent
    from codeagent.sessions import SessionInfo


class Conversation(Protocol):
    """The conversation pane as commands see it."""

    async def clear(self) -> None:
        """Remove every block from the screen (the agent keeps the conversation)."""

    async def load_earlier(self) -> bool:
        """Show the previous page of a resumed session; False when everything is shown."""


class CommandContext(Protocol):
    """What a slash command may use: the agent, the screen's feedback and panes, the session."""

    # Read-only properties: the context reads them from the app, it never sets them.
    @property
    def agent(self) -> Agent: ...

    @property
    def root(self) -> Path: ...

    @property
    def conversation(self) -> Conversation: ...

    @property
    def turn_running(self) -> bool:
        """True while the agent works on a turn."""

    def say(self, text: str, *, category: str = "info", markdown: bool = False) -> None:
        """Show a notice of ``category`` (info, error, checkpoint...) in the conversation."""

    async def show_diff(self, diff: str, title: str) -> None:
        """Open a read-only diff review in the side pane."""

    async def close_side(self) -> None:
        """Close the side pane (a diff review) and give the prompt focus."""

    def refresh_status(self) -> None:
        """Redraw the status bar from the agent's figures."""

    async def resume_session(self, session_id: str) -> None:
        """Replace the agent with one resumed from ``session_id``; ``CommandError`` if not."""

    def list_sessions(self) -> list[Any]:
        """Earlier sessions in this repository, newest first."""

    def usage(self) -> dict[str, Any]:
        """Figures for /stats and /status (turns, calls, tokens, times, bytes, transport)."""

    def themes(self) -> tuple[str, list[str]]:
        """The current theme and the names on offer."""

    def set_theme(self, name: str) -> bool:
        """Switch theme; False if ``name`` is unknown."""

    def custom_commands(self) -> list[Any]:
        """The prompt-file commands on offer (``codeagent.custom_commands.CustomCommand``)."""

    async def quit(self) -> None:
        """Leave codeagent."""


Handler = Callable[[CommandContext, list[str]], Awaitable[None]]


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


async def run_command(ctx: CommandContext, text: str) -> None:
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
        await cmd.handler(ctx, args)
    except CommandError as error:
        ctx.say(str(error), category="error")


# --- the commands ----------------------------------------------------------------------------


@command("help", "list commands and keys")
async def _help(ctx: CommandContext, args: list[str]) -> None:
    lines = ["**Commands**", ""]
    lines += [f"- `{cmd.signature}` — {cmd.help}" for cmd in REGISTRY.values()]
    custom = ctx.custom_commands()
    if custom:  # prompt files (codeagent.custom_commands); a built-in of the same name wins
        lines += ["", "**Your commands** (prompt files sent to the model as your message)", ""]
        lines += [f"- `{cmd.signature}` — {cmd.help}" for cmd in custom]
    lines += [
        "",
        "**Keys**: Enter sends; while a turn runs, Enter steers it (the message goes in at its "
        "next step; the chat shows its receipt) and Tab queues it for after the turn. "
        "Shift+Enter or Ctrl+J adds a line, Up/Down recall history, Tab completes `/commands` "
        "and `@files`.",
        "",
        "**Approvals** never take keys typed into the prompt: when one is waiting, F2 (or Tab "
        "on an empty prompt, or a click on it) moves to it; then y approves, n rejects, "
        "a approves for the session.",
        "",
        "Esc steps back: it closes the menu, returns to the prompt, then interrupts the turn. "
        "PgUp/PgDn scroll the conversation; Home/End on an empty prompt (Ctrl+Home/Ctrl+End "
        "always) jump to the top or back to the latest output. Ctrl+Q quits.",
        "",
        "To select text with the mouse in your terminal, hold Shift (Option in iTerm2).",
    ]
    ctx.say("\n".join(lines), markdown=True)


@command("model", "show or switch the model", usage="[NAME]", max_args=1)
async def _model(ctx: CommandContext, args: list[str]) -> None:
    # Here, not at the top: the agent's assembly is not imported before the first paint.
    from codeagent.agent.assembly import model_listing, model_note

    if not args:
        ctx.say(f"Model: {ctx.agent.status().model}\n{model_listing(ctx.agent.settings)}")
        return
    ctx.agent.set_model(args[0])
    ctx.refresh_status()
    note = model_note(ctx.agent.settings, args[0])
    note = f" {note}" if note else ""
    ctx.say(f"Model set to {args[0]} (used from the next model call).{note}")


@command("approvals", "show or set the approval policy", usage="[POLICY]", max_args=1)
async def _approvals(ctx: CommandContext, args: list[str]) -> None:
    choices = ", ".join(p.value for p in Policy)
    if not args:
        status = ctx.agent.status()
        grants = "; ".join(status.grants) if status.grants else "none"
        ctx.say(
            f"Approval policy: {status.policy}. Choices: {choices}.\n"
            f"Approved for this session: {grants}."
        )
        return
    try:
        policy = Policy(args[0])
    except ValueError:
        raise CommandError(f"Unknown policy '{args[0]}'. Choose one of: {choices}.") from None
    ctx.agent.set_policy(policy)
    ctx.refresh_status()
    ctx.say(f"Approval policy set to {policy.value}.")


@command("diff", "show what this session changed", usage="[session|turn]", max_args=1)
async def _diff(ctx: CommandContext, args: list[str]) -> None:
    scope = args[0] if args else "session"
    if scope not in ("session", "turn"):
        raise CommandError("Usage: /diff [session|turn]")
    # git work (a few hundred ms on a large tree) runs off the event loop so the UI keeps painting
    diff = await asyncio.to_thread(ctx.agent.diff, scope)
    if not diff.strip():
        ctx.say(f"No changes in this {scope}.")
        return
    await ctx.show_diff(diff, title=f"Changes in this {scope}")


async def _undo_redo(ctx: CommandContext, redo: bool) -> None:
    if ctx.turn_running:
        raise CommandError("Wait for the turn to finish (or press Esc) before undoing.")
    result = await asyncio.to_thread(ctx.agent.redo if redo else ctx.agent.undo)
    if result.ok:  # the message names the files (the first few, then how many more)
        ctx.say(result.message, category="checkpoint")
    else:
        ctx.say(result.message, category="error")


@command("undo", "restore the files as they were before the last turn's edits")
async def _undo(ctx: CommandContext, args: list[str]) -> None:
    await _undo_redo(ctx, redo=False)


@command("redo", "re-apply the edits the last /undo removed")
async def _redo(ctx: CommandContext, args: list[str]) -> None:
    await _undo_redo(ctx, redo=True)


@command("compact", "summarise the conversation to free context")
async def _compact(ctx: CommandContext, args: list[str]) -> None:
    if ctx.turn_running:
        raise CommandError("Wait for the turn to finish before compacting.")
    ctx.say("Compacting the conversation…")
    try:
        line = await ctx.agent.compact()
    except Exception as error:  # the agent raises typed errors; show them, keep running
        raise CommandError(f"Compaction failed: {error}") from None
    ctx.refresh_status()
    ctx.say(line or "Conversation compacted.")


@command("clear", "clear the screen (the conversation is kept)")
async def _clear(ctx: CommandContext, args: list[str]) -> None:
    await ctx.conversation.clear()


@command("earlier", "show earlier messages of a resumed session")
async def _earlier(ctx: CommandContext, args: list[str]) -> None:
    if not await ctx.conversation.load_earlier():
        ctx.say("Every message of this session is shown already.")


@command("new", "start a new session (the old one can be resumed)")
async def _new(ctx: CommandContext, args: list[str]) -> None:
    if ctx.turn_running:
        raise CommandError("Wait for the turn to finish (or press Esc) before starting anew.")
    ctx.agent.new_session()
    await ctx.close_side()  # a diff review of the old session does not apply any more
    await ctx.conversation.clear()
    ctx.refresh_status()
    ctx.say(f"New session {ctx.agent.status().session_id}.")


@command("resume", "list sessions, or reopen one", usage="[SESSION_ID]", max_args=1)
async def _resume(ctx: CommandContext, args: list[str]) -> None:
    if ctx.turn_running:
        raise CommandError("Wait for the turn to finish before resuming another session.")
    if not args:
        sessions = ctx.list_sessions()
        if not sessions:
            ctx.say("No earlier sessions in this repository.")
            return
        lines = ["**Sessions** (`/resume ID`)", ""]
        lines += [f"- `{info.id}` {_session_line(info)}" for info in sessions[:20]]
        ctx.say("\n".join(lines), markdown=True)
        return
    await ctx.resume_session(args[0])


def _session_line(info: SessionInfo) -> str:
    """When a session was last used, and its title."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
    return f"{when} — {info.title}" if info.title else when


@command("status", "model, policy, connection and session")
async def _status(ctx: CommandContext, args: list[str]) -> None:
    status = ctx.agent.status()
    ctx.say(
        "\n".join(
            [
                f"Model: {status.model}",
                f"Approval policy: {status.policy}",
                f"Transport: {ctx.usage()['transport']} ({transport_line(status)})",
                f"Session: {status.session_id}",
                f"Repository: {ctx.root}",
            ]
        )
    )


@command("stats", "tokens, timings and bytes sent so far")
async def _stats(ctx: CommandContext, args: list[str]) -> None:
    u = ctx.usage()
    saved = u["bytes_full"] - u["bytes_sent"]
    ctx.say(
        "\n".join(
            [
                f"Turns: {u['turns']}, model calls: {u['model_calls']}",
                f"Tokens: {u['input_tokens']} in ({u['cached_tokens']} cached), "
                f"{u['output_tokens']} out",
                f"Last turn: first token {u['ttft']}, total {u['total']}",
                f"Cost: {u['cost']} this session ({u['turn_cost']} the last turn); "
                f"context left: {u['context_left']}",
                f"Bytes sent: {u['bytes_sent']} of {u['bytes_full']} a full resend would send "
                f"({max(saved, 0)} saved)",
            ]
        )
    )


@command("mcp", "MCP servers: their state and tools")
async def _mcp(ctx: CommandContext, args: list[str]) -> None:
    from codeagent.agent.mcp.manager import describe_status

    ctx.say(describe_status(ctx.agent.mcp_status()))


@command("theme", "list themes, or switch", usage="[NAME]", max_args=1)
async def _theme(ctx: CommandContext, args: list[str]) -> None:
    current, names = ctx.themes()
    if not args:
        ctx.say(f"Theme: {current}. Available: {', '.join(names)}.")
        return
    if not ctx.set_theme(args[0]):
        raise CommandError(f"Unknown theme '{args[0]}'. Available: {', '.join(names)}.")
    ctx.say(f"Theme set to {args[0]}.")


@command("init", "write an AGENTS.md skeleton for this repository")
async def _init(ctx: CommandContext, args: list[str]) -> None:
    from codeagent.agent.instructions import AGENTS_MD_TEMPLATE

    target: Path = ctx.root / "AGENTS.md"
    if target.exists():
        raise CommandError(f"{target.name} already exists; edit it instead (nothing changed).")
    target.write_text(AGENTS_MD_TEMPLATE, encoding="utf-8")
    ctx.say(f"Wrote {target.name}. Fill it in; it is read at the start of each session.")


@command("quit", "leave codeagent")
async def _quit(ctx: CommandContext, args: list[str]) -> None:
    await ctx.quit()
