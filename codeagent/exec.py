"""``codeagent exec "TASK"``: run one task headlessly and print the answer.

The streamed answer goes to stdout, tool activity and notices to stderr; ``--json`` prints every
event as one JSON line on stdout instead. ``codeagent exec resume --last "TASK"`` (or ``resume
SESSION_ID``) continues a stored session. Exit codes: 0 done, 1 failed, 2 usage or configuration
error (including a repository config file whose settings need trust, without ``--trust``), 3 a
tool call needed approval that the policy does not give (nothing was run for it), 130
interrupted. Text from the model, commands and the server is printed through
``codeagent.sanitize``: no terminal control sequence and no API key reaches the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import TextIO

from codeagent.agent.approvals import (
    ApprovalNeeded,
    ApprovalRequest,
    Decision,
    Policy,
    Scope,
)
from codeagent.agent.events import (
    AgentError,
    AgentEvent,
    Notice,
    PlanUpdated,
    StreamRestarted,
    TextDelta,
    TextDone,
    ToolCallProposed,
    ToolOutput,
    TurnCompleted,
    TurnInterrupted,
    event_to_dict,
)
from codeagent.config import (
    ConfigError,
    add_arguments,
    load_settings,
    overrides_from_args,
    untrusted_repo_settings,
)
from codeagent.repo_config import RepoConfig
from codeagent.sanitize import display_text, scrub_structure

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_APPROVAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``codeagent exec``."""
    parser.add_argument(
        "task",
        nargs="*",
        help='the task (read from stdin when omitted or "-"); "resume [ID] TASK" continues a '
        "stored session",
    )
    parser.add_argument("--json", action="store_true", help="print events as JSON lines")
    parser.add_argument("--last", action="store_true", help="with resume: the newest session")
    parser.add_argument("-C", "--cd", dest="directory", help="run in this directory")
    parser.add_argument(
        "--trust",
        action="store_true",
        help="apply this repository's .codeagent/config.toml settings that need trust "
        "(sandbox, approval policy, base URL, ...) for this run",
    )
    add_arguments(parser)
    # "exec resume --last TASK" puts an option between positional words; the intermixed parser
    # accepts that where the plain one would reject the words after the option.
    parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]


def find_root(start: Path) -> Path:
    """The repository containing ``start`` (the nearest directory with ``.git``), else start."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


class ExecApprover:
    """Approvals without a UI: asks on the terminal when there is one, else refuses with
    ``ApprovalNeeded`` so the run stops and exits 3."""

    def __init__(self, interactive: bool, policy: Policy, stream: TextIO = sys.stderr):
        self.interactive = interactive
        self.policy = policy
        self.stream = stream

    async def decide(self, request: ApprovalRequest) -> Decision:
        if not self.interactive:
            raise ApprovalNeeded(request)
        return await asyncio.to_thread(self._prompt, request)

    def _prompt(self, request: ApprovalRequest) -> Decision:
        if request.kind == "patch":
            print(display_text(request.diff), file=self.stream)
            title = display_text(request.title)
            question = f"Apply {title}? [y]es / [n]o / [a]ll patches this session: "
        else:
            print(f"$ {display_text(request.command)}", file=self.stream)
            question = "Run it? [y]es / [n]o / [a]lways this exact command: "
        if request.reason:
            print(f"({display_text(request.reason)})", file=self.stream)
        print(question, end="", file=self.stream, flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return Decision.approve()
        if answer in ("a", "always"):
            scope = Scope.ALL_PATCHES if request.kind == "patch" else Scope.EXACT_COMMAND
            return Decision(True, scope=scope)
        print("Reason for the model (optional): ", end="", file=self.stream, flush=True)
        return Decision.reject(sys.stdin.readline().strip())


class Printer:
    """Writes events for a human: activity on stderr; on stdout the answer, streamed live when
    ``live`` (a terminal), else only the final message (so ``exec ... > answer.md`` holds it)."""

    def __init__(self, out: TextIO, err: TextIO, *, live: bool):
        self.out, self.err = out, err
        self.live = live
        self._streamed: set[str] = set()
        self._at_line_start = True

    def show(self, event: AgentEvent) -> None:
        if isinstance(event, (TextDelta, TextDone)) and not self.live:
            return
        if isinstance(event, TurnCompleted) and not self.live:
            self._write(event.final_text)
            if not self._at_line_start:
                self._write("\n")
        elif isinstance(event, StreamRestarted) and self.live:
            # The call starts over: its replay goes on a fresh line, not glued to the partial.
            if not self._at_line_start:
                self._write("\n")
        elif isinstance(event, TextDelta):
            self._streamed.add(event.item_id)
            self._write(event.delta)
        elif isinstance(event, TextDone):
            if event.item_id not in self._streamed:
                self._write(event.text)
            if not self._at_line_start:
                self._write("\n")
        elif isinstance(event, ToolCallProposed):
            self._note(f"• {event.tool}: {event.title}")
        elif isinstance(event, ToolOutput):
            # The last line, made safe first (a lone carriage return becomes a line break); for
            # a patch that failed, the first: the last only says "Nothing was changed."
            lines = display_text(event.output).strip().splitlines()
            failed_patch = event.tool == "apply_patch" and not event.success and lines
            first = lines[:1] if failed_patch else (lines[-1:] or [""])
            mark = "rejected" if event.rejected else ("ok" if event.success else "failed")
            self._note(f"  {mark}: {first[0][:200]}")
        elif isinstance(event, PlanUpdated):
            for step in event.steps:
                self._note(f"  [{step.status}] {step.step}")
        elif isinstance(event, Notice):
            self._note(f"[{event.category}] {event.text}")
        elif isinstance(event, AgentError):
            self._note(f"error: {event.message}")
        self.out.flush()

    def _note(self, text: str) -> None:
        print(display_text(text), file=self.err)

    def _write(self, text: str) -> None:
        text = display_text(text)
        if text:
            self.out.write(text)
            self._at_line_start = text.endswith("\n")


def _ignore_cancelled(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """An interrupt cancels helper futures nobody awaits any more; that is expected, not an
    error to print over the user's terminal. Everything else goes to asyncio's handler."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def _drive(agent, task: str, json_lines: bool) -> int:
    asyncio.get_running_loop().set_exception_handler(_ignore_cancelled)
    printer = Printer(sys.stdout, sys.stderr, live=sys.stdout.isatty())
    code = EXIT_FAILED
    if json_lines:
        _json_line({"kind": "session", "session_id": agent.session.id})
    try:
        async for event in agent.submit(task):
            if json_lines:
                _json_line(event_to_dict(event))
            else:
                printer.show(event)
            if isinstance(event, TurnCompleted):
                code = EXIT_OK
            elif isinstance(event, TurnInterrupted):
                code = EXIT_INTERRUPTED
            elif isinstance(event, AgentError) and event.fatal:
                needs_human = event.code in ("approval_needed", "approval_refused")
                code = EXIT_APPROVAL if needs_human else EXIT_FAILED
                # "approval_refused" (.codeagent/ changes): no flag allows it, so suggest none.
                if event.code == "approval_needed" and not json_lines:
                    print(
                        "The approval policy needs a human for this call and there is no "
                        "terminal to ask; it was not run. Rerun with --full-auto or "
                        "--approval-policy auto-edit/full-auto.",
                        file=sys.stderr,
                    )
    finally:
        await agent.close()
    if not json_lines:
        print(f"session: {agent.session.id}", file=sys.stderr)
    return code


#: Characters json.dumps leaves raw with ensure_ascii=False that a terminal may act on (C1, DEL),
#: and lone UTF-16 surrogates, which cannot be written as UTF-8 at all (UnicodeEncodeError).
_RAW_CONTROLS = re.compile("[\x7f-\x9f\ud800-\udfff]")


def _json_line(data: dict) -> None:
    line = json.dumps(scrub_structure(data), ensure_ascii=False, default=str)
    # They can only occur inside JSON strings, where \uXXXX is the same character.
    line = _RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def untrusted_message(pending: RepoConfig) -> str:
    """Why ``exec`` will not start: the repository config settings that wait for trust."""
    lines = "\n".join(f"    {line}" for line in pending.describe())
    return display_text(
        f"this repository's config file {pending.path} sets settings that need your trust:\n"
        f"{lines}\n"
        "They change what codeagent may do or where your data and API key go, and anyone who "
        "can write to the repository (the model included) can change them. Nothing was run. "
        "Check the file, then rerun with --trust to apply them, or remove them from the file "
        "(`codeagent` in this repository asks once and remembers the answer for this content)."
    )


def _split_task(words: list[str]) -> tuple[bool, list[str]]:
    """(resume?, the remaining words) from the positional words."""
    if words and words[0] == "resume":
        return True, words[1:]
    return False, words


def run(args: argparse.Namespace) -> int:
    """Entry point of ``codeagent exec``; returns the exit code."""
    directory = Path(args.directory or ".")
    if not directory.is_dir():
        print(f"codeagent exec: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    root = find_root(directory)
    resume, words = _split_task(list(args.task))
    session_id = None
    if resume:
        if not args.last:
            if not words:
                print("codeagent exec: resume needs a session id or --last", file=sys.stderr)
                return EXIT_USAGE
            session_id, words = words[0], words[1:]
        else:
            session_id = "last"
    task = " ".join(words).strip()
    if task in ("", "-"):
        task = "" if sys.stdin.isatty() else sys.stdin.read().strip()
        interactive = False
    else:
        interactive = sys.stdin.isatty()
    # Bytes that are not UTF-8 reach argv/stdin as lone surrogates, which no file or socket
    # can carry; they become U+FFFD (what a UTF-8 decoder shows for them).
    task = task.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if not task:
        print("codeagent exec: no task given (pass it as an argument or on stdin)", file=sys.stderr)
        return EXIT_USAGE
    overrides = overrides_from_args(args)
    try:
        pending = untrusted_repo_settings(root, overrides)
        if pending is not None and not args.trust:
            print(f"codeagent exec: {untrusted_message(pending)}", file=sys.stderr)
            return EXIT_USAGE
        settings = load_settings(root, overrides, trust_repo=True if args.trust else None)
    except ConfigError as exc:
        print(f"codeagent exec: {display_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    approver = ExecApprover(interactive, settings.approval_policy)
    # The sandbox probe's subprocesses run while the agent's modules load (~100 ms of imports).
    from codeagent.agent.sandbox_probe import probe_sandbox

    sandbox = probe_sandbox(settings.sandbox, settings.sandbox_env)
    from codeagent.agent.instructions import InstructionsError
    from codeagent.agent.loop import Agent
    from codeagent.sessions import SessionError
    from codeagent.workspace.git import WorkspaceError

    try:
        if resume:
            agent = Agent.resume(settings, root, approver, session_id or "last", sandbox=sandbox)
        else:
            agent = Agent(settings, root, approver, cwd=directory.resolve(), sandbox=sandbox)
    except (WorkspaceError, InstructionsError, SessionError, ValueError, OSError) as exc:
        print(f"codeagent exec: {display_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_drive(agent, task, args.json))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


__all__ = ["ExecApprover", "configure", "find_root", "run", "untrusted_message"]
