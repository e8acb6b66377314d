"""The ``shell`` tool: run the model's commands one after another, each in its own process
group, under the sandbox, with a timeout and an output cap.

Each command runs in a fresh ``bash -c`` in ``cwd`` (state such as ``cd`` does not carry over,
exactly as with the built-in tool). A timeout or a cancelled task kills the whole process group,
so nothing a command started is left behind. Secrets such as the API key are removed from the
environment the commands see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeagent.agent.tools import standby
from codeagent.agent.tools.output_cap import HeadTailBuffer
from codeagent.agent.tools.process_limit import MAX_PROCESSES, Containment
from codeagent.agent.tools.sandbox import Sandbox, scrubbed_environment

DEFAULT_TIMEOUT_MS = 120_000
DEFAULT_MAX_OUTPUT = 10_000
#: Whatever the model asks: at most ten minutes per command and 1 MiB kept per stream.
MAX_TIMEOUT_MS = 600_000
MAX_OUTPUT_LIMIT = 1 << 20
_READ_CHUNK = 65_536

#: ``environment: local``: the commands run on the user's machine (the Agents SDK sends the same).
SHELL_TOOL: dict[str, Any] = {"type": "shell", "environment": {"type": "local"}}

SHELL_FUNCTION_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "shell",
    "description": (
        "Run shell commands in the repository, one after another, each in a fresh bash in the "
        "working directory (cd does not carry over; chain with && inside one command). Returns "
        "stdout, stderr and the exit code of each. Long output keeps its head and tail. "
        "Commands run in a sandbox without network where one is available."
    ),
    "parameters": {
        "type": "object",
        "properties": {
            "commands": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The command lines to run, in order.",
            },
            "timeout_ms": {
                "type": ["integer", "null"],
                "description": (
                    "Timeout per command in milliseconds (default 120000, at most 600000)."
                ),
            },
        },
        "required": ["commands", "timeout_ms"],
        "additionalProperties": False,
    },
    "strict": True,
}


class ShellArgumentsError(ValueError):
    """The shell tool's arguments are malformed; the message says how to fix them."""


@dataclass(frozen=True)
class CommandResult:
    """What one command did. ``exit_code`` is None when it timed out (and was killed);
    a command killed by a signal reports ``128 + signal`` like a shell does."""

    command: str
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False


def command_environment() -> dict[str, str]:
    """The environment of a command run without a sandbox: ours minus secrets, with pagers
    and colour off (a sandboxed one gets ``BwrapSandbox.environment``'s allow-list)."""
    return scrubbed_environment()


def _shell() -> str:
    return shutil.which("bash") or "/bin/sh"


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class _ExitAwareProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """The standard stream protocol that also reports the moment the process exits."""

    def __init__(self, exited: asyncio.Future[None], loop: asyncio.AbstractEventLoop):
        super().__init__(limit=_READ_CHUNK, loop=loop)
        self._exited = exited

    def process_exited(self) -> None:
        super().process_exited()
        if not self._exited.done():
            self._exited.set_result(None)


async def _pump(stream: asyncio.StreamReader | None, buffer: HeadTailBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(_READ_CHUNK):
        buffer.feed(chunk)


async def run_command(
    command: str,
    *,
    cwd: Path,
    sandbox: Sandbox | None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    max_output: int = DEFAULT_MAX_OUTPUT,
    network: bool = False,
) -> CommandResult:
    """Run one command line; see ``run_commands``."""
    # The bounds hold here too, whoever calls: the buffers never grow past MAX_OUTPUT_LIMIT.
    timeout_ms = min(max(timeout_ms, 1), MAX_TIMEOUT_MS)
    max_output = min(max(max_output, 0), MAX_OUTPUT_LIMIT)
    argv = [_shell(), "-c", command]
    if sandbox is not None:
        argv = sandbox.wrap(argv, cwd, network=network)
    # Everything the command starts, even in a session of its own, is found and killed; in
    # the sandbox it may have at most MAX_PROCESSES processes.
    sandboxed = sandbox is not None and sandbox.available
    limit = MAX_PROCESSES if sandboxed else None
    env = sandbox.environment() if sandbox is not None else scrubbed_environment()
    # A process that joined its cgroup already, if one waits for a command like this one.
    started = await standby.take(argv, cwd, env, limit)
    containment = started.containment if started is not None else Containment(limit)
    limited = containment.limited
    standby.RUNNING.count += 1
    try:
        result = await _run(command, containment.argv(argv), cwd, env, containment, started,
                            timeout_ms, max_output)  # fmt: skip
    finally:
        standby.RUNNING.count -= 1
        await asyncio.shield(asyncio.to_thread(containment.close))
    if limited:  # the next command need not wait for its cgroup
        standby.prepare_soon(argv, cwd, env, limit, _ExitAwareProtocol)
    return result


async def _run(
    command: str,
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    containment: Containment,
    started: standby.Started | None,
    timeout_ms: int,
    max_output: int,
) -> CommandResult:
    stdout, stderr = HeadTailBuffer(max_output), HeadTailBuffer(max_output)
    loop = asyncio.get_running_loop()
    if started is not None:
        transport, protocol, exited = started.transport, started.protocol, started.exited
    else:
        exited = loop.create_future()
        spawn = asyncio.ensure_future(
            loop.subprocess_exec(
                lambda: _ExitAwareProtocol(exited, loop),
                *argv,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,  # own process group: a timeout or interrupt kills all
            )
        )
        try:
            # Shielded: a cancel while the pipes are being connected would make asyncio kill
            # only the shell and orphan whatever it already started.
            transport, protocol = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                spawned, _ = await spawn
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(spawned.get_pid(), signal.SIGKILL)
                spawned.close()
            raise
        except OSError as exc:
            # 127 is what a shell reports for a command it cannot run.
            return CommandResult(command, 127, "", f"could not start the command: {exc}\n")
    process = asyncio.subprocess.Process(transport, protocol, loop)
    containment.track(process.pid)
    out, err = (started.stdout, started.stderr) if started else (process.stdout, process.stderr)
    readers = asyncio.gather(_pump(out, stdout), _pump(err, stderr))
    timed_out = False
    try:
        try:
            # Wait for the exit itself: process.wait() would also wait for the pipes, which a
            # background child (``server &``) can hold open for ever.
            await asyncio.wait_for(asyncio.shield(exited), timeout=max(timeout_ms, 1) / 1000)
        except TimeoutError:
            timed_out = True
        # Kill what is left of the group (the command on timeout, background children always)
        # and whatever left the group, so the pipes close and the readers finish.
        _kill_group(process)
        await asyncio.shield(exited)  # its orphans are re-parented by now
        await _kill_until_done(containment, readers)
        await process.wait()
    except BaseException:
        _kill_group(process)
        containment.kill_all()
        readers.cancel()
        with contextlib.suppress(BaseException):
            # Collect the readers' cancellation too, or asyncio logs it as never retrieved.
            await asyncio.gather(readers, return_exceptions=True)
        with contextlib.suppress(BaseException):
            await asyncio.shield(process.wait())
        raise
    code = process.returncode
    exit_code = None if timed_out else (128 - code if code is not None and code < 0 else code)
    return CommandResult(
        command=command,
        exit_code=exit_code,
        stdout=stdout.text(),
        stderr=_with_timeout_note(stderr.text(), timeout_ms) if timed_out else stderr.text(),
        timed_out=timed_out,
        truncated=stdout.truncated or stderr.truncated,
    )


async def _kill_until_done(containment: Containment, readers: asyncio.Future[Any]) -> None:
    """Kill the command's leftovers until its output pipes close (a grandchild may only be
    re-parented, and so found, once its own parent was killed). Where nothing can track them
    (no cgroup, no subreaper) the output is cut after a few seconds rather than waited for."""
    for _ in range(25):
        await asyncio.to_thread(containment.kill_all)
        done, _ = await asyncio.wait([readers], timeout=0.2)
        if done:
            await readers
            return
    readers.cancel()
    await asyncio.gather(readers, return_exceptions=True)


def _with_timeout_note(stderr: str, timeout_ms: int) -> str:
    separator = "\n" if stderr and not stderr.endswith("\n") else ""
    return f"{stderr}{separator}command timed out after {timeout_ms} ms and was killed\n"


async def run_commands(
    commands: list[str],
    *,
    cwd: Path,
    sandbox: Sandbox | None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    max_output: int = DEFAULT_MAX_OUTPUT,
    network: bool = False,
) -> list[CommandResult]:
    """Run ``commands`` in order, each independently (a failing one does not stop the rest),
    each limited to ``timeout_ms`` and to ``max_output`` bytes per stream (head and tail kept).
    Cancelling the calling task kills the running command's whole process group."""
    results = []
    for command in commands:
        results.append(
            await run_command(
                command,
                cwd=cwd,
                sandbox=sandbox,
                timeout_ms=timeout_ms,
                max_output=max_output,
                network=network,
            )
        )
    return results


def shell_call_output_item(
    call_id: str, results: list[CommandResult], max_output: int = DEFAULT_MAX_OUTPUT
) -> dict[str, Any]:
    """The ``shell_call_output`` input item for the built-in shell tool."""
    output = []
    for result in results:
        if result.timed_out:
            outcome: dict[str, Any] = {"type": "timeout"}
        else:
            outcome = {"type": "exit", "exit_code": result.exit_code}
        output.append({"stdout": result.stdout, "stderr": result.stderr, "outcome": outcome})
    return {
        "type": "shell_call_output",
        "call_id": call_id,
        "max_output_length": max_output,
        "output": output,
    }


def format_results(results: list[CommandResult]) -> str:
    """The results as one text, for the function-tool output and for the UI."""
    parts = []
    for result in results:
        status = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        block = [f"$ {result.command}", f"({status})"]
        if result.stdout:
            block.append(result.stdout.rstrip("\n"))
        if result.stderr:
            block.append(f"[stderr]\n{result.stderr.rstrip(chr(10))}")
        parts.append("\n".join(block))
    return "\n\n".join(parts)


def _positive_int(name: str, value: Any, ceiling: int) -> int | None:
    """``value`` as a bound: None stays None (the default), above ``ceiling`` is cut to it."""
    if value is None:
        return None
    # bool is an int in Python: without this check ``true`` would become a 1 ms timeout.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        shown = json.dumps(value) if isinstance(value, (bool, int, float, str)) else type(value)
        raise ShellArgumentsError(f"'{name}' must be a positive integer or null, not {shown}")
    return min(value, ceiling)


def parse_shell_action(action: Any) -> tuple[list[str], int | None, int | None]:
    """``(commands, timeout_ms, max_output_length)`` of a shell call (the built-in item's
    ``action`` or the function tool's decoded arguments).

    The one parser of shell calls: wrong types are a ``ShellArgumentsError`` the model is
    shown; limits above ``MAX_TIMEOUT_MS`` / ``MAX_OUTPUT_LIMIT`` are cut to them.
    """
    if not isinstance(action, dict):
        raise ShellArgumentsError('the shell call must be an object: {"commands": ["..."]}')
    commands = action.get("commands")
    if not isinstance(commands, list) or not commands:
        raise ShellArgumentsError("the shell call needs a non-empty list of 'commands'")
    if not all(isinstance(c, str) and c.strip() for c in commands):
        raise ShellArgumentsError("every entry of 'commands' must be a non-empty string")
    timeout = _positive_int("timeout_ms", action.get("timeout_ms"), MAX_TIMEOUT_MS)
    limit = _positive_int("max_output_length", action.get("max_output_length"), MAX_OUTPUT_LIMIT)
    return list(commands), timeout, limit


def parse_shell_arguments(arguments: str) -> tuple[list[str], int | None, int | None]:
    """``(commands, timeout_ms, max_output_length)`` from the JSON arguments of the shell
    function tool (see ``parse_shell_action``)."""
    try:
        data = json.loads(arguments)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ShellArgumentsError(
            f'the arguments are not valid JSON ({exc}); send {{"commands": ["..."]}}'
        ) from None
    return parse_shell_action(data)


__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_TIMEOUT_MS",
    "MAX_OUTPUT_LIMIT",
    "MAX_TIMEOUT_MS",
    "SHELL_FUNCTION_TOOL",
    "SHELL_TOOL",
    "CommandResult",
    "ShellArgumentsError",
    "command_environment",
    "format_results",
    "parse_shell_action",
    "parse_shell_arguments",
    "run_command",
    "run_commands",
    "shell_call_output_item",
]
