"""The next command's process, started ahead: already in its own pids cgroup, waiting for its
command line.

Joining a cgroup (writing to ``cgroup.procs``) makes the kernel wait for an RCU grace period
unless another process joined one moments before: 5-20 ms in which the command cannot start,
on the path from the model's tool call to its output. So a few ms after each command the
shell tool starts one process for the next: ``/bin/sh`` joins a fresh cgroup at leisure,
reads the command line from its stdin and then becomes the command (``exec``), with the same
argv, working directory, environment, stdin (``/dev/null``), output pipes and session as a
command started on demand. None joins while a command runs: during the grace period the
kernel holds its cgroup lock, and the command's own forks would wait for it. A command that
does not match the standby (another directory, sandbox or environment), or that arrives on
another event loop, starts the ordinary way and the standby is thrown away; when the event
loop shuts down, the standby is killed and its cgroup removed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeagent.agent.tools.process_limit import Containment

#: The waiting shell's own variables: a command whose environment has them starts on demand.
_NAMES = ("_codeagent_cmd", "_codeagent_line", "_codeagent_nl")
#: Join, read the command line (sent with one extra newline) to the end of stdin, become it.
_WAIT = (
    'echo $$ > "$0" || exit 126\n'
    "_codeagent_nl='\n'\n"
    "_codeagent_cmd=\n"
    "while IFS= read -r _codeagent_line; do\n"
    "  _codeagent_cmd=$_codeagent_cmd$_codeagent_line$_codeagent_nl\n"
    "done\n"
    '[ -n "$_codeagent_cmd" ] || exit 0\n'
    "exec </dev/null\n"
    'set -- "$@" "${_codeagent_cmd%?}"\n'
    "unset _codeagent_cmd _codeagent_line _codeagent_nl\n"
    'exec "$@"\n'
)
#: The shell reads its stdin a byte at a time: longer command lines start on demand.
MAX_COMMAND_BYTES = 4096
#: The output readers' buffer limit (as the shell tool's own).
READ_LIMIT = 65_536
#: How long after a command the next standby starts: once the turn's next request is out
#: (building and sending it takes a few ms), so neither the spawn nor the join delays it.
AHEAD_DELAY = 0.005

ProtocolFactory = Callable[[asyncio.Future[None], asyncio.AbstractEventLoop], Any]


@dataclass
class Started:
    """A running process of one command: its asyncio transport and protocol, the future set
    when it exits, its containment and the readers of its output."""

    transport: asyncio.SubprocessTransport
    protocol: Any
    exited: asyncio.Future[None]
    containment: Containment
    stdout: asyncio.StreamReader | None = None
    stderr: asyncio.StreamReader | None = None


@dataclass
class _Pipes:
    """Our ends of a standby's pipes until a command takes it."""

    stdin: int = -1
    stdout: int = -1
    stderr: int = -1

    def close(self) -> None:
        for fd in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.stdin = self.stdout = self.stderr = -1


@dataclass
class _Standby:
    key: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    started: Started
    pipes: _Pipes = field(default_factory=_Pipes)
    taken: bool = False
    guard: asyncio.Task[None] | None = None


class _Running:
    """How many commands run now. While one does, no standby joins a cgroup: a join holds
    the kernel's cgroup lock for its grace period, and every fork of the command and the
    removal of its cgroup would wait for it."""

    count = 0


RUNNING = _Running()
_ready: _Standby | None = None
#: The task starting (then holding) the next standby.
_keeper: asyncio.Task[None] | None = None
#: Set while a standby is being spawned: a command arriving meanwhile waits for it.
_spawning: asyncio.Future[None] | None = None


def _key(prefix: list[str], cwd: Path, env: dict[str, str], limit: int | None) -> tuple[Any, ...]:
    return (tuple(prefix), str(cwd), tuple(sorted(env.items())), limit)


def _fits(command: str, env: dict[str, str]) -> bool:
    return (
        "\0" not in command
        and len(command.encode("utf-8", "surrogateescape")) <= MAX_COMMAND_BYTES
        and not any(name in env for name in _NAMES)
    )


async def take(
    argv: list[str], cwd: Path, env: dict[str, str], limit: int | None
) -> Started | None:
    """The standby, now running ``argv`` (whose last element is the command line), when one
    waits for exactly this prefix, directory, environment and limit on this loop; else None
    (and a standby that does not match is thrown away)."""
    global _ready
    loop = asyncio.get_running_loop()
    spawning = _spawning
    if _ready is None and spawning is not None and spawning.get_loop() is loop:
        # Started already, its join under way: taking it saves the command its own spawn.
        await asyncio.shield(spawning)
    standby, _ready = _ready, None
    if standby is None:
        return None
    prefix, command = argv[:-1], argv[-1]
    if (
        standby.loop is not loop
        or standby.started.exited.done()
        or standby.key != _key(prefix, cwd, env, limit)
        or not _fits(command, env)
    ):
        _discard(standby)
        return None
    standby.taken = True
    if standby.guard is not None:
        standby.guard.cancel()
    pipes = standby.pipes
    # At most MAX_COMMAND_BYTES: the pipe takes it all without blocking.
    os.write(pipes.stdin, (command + "\n").encode("utf-8", "surrogateescape"))
    os.close(pipes.stdin)
    started = standby.started
    started.stdout = await _reader(loop, pipes.stdout)
    started.stderr = await _reader(loop, pipes.stderr)
    return started


async def _reader(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=READ_LIMIT, loop=loop)
    pipe = os.fdopen(fd, "rb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe)
    return reader


def prepare_soon(
    argv: list[str], cwd: Path, env: dict[str, str], limit: int | None, factory: ProtocolFactory
) -> None:
    """After a command ended: start a standby for the next command like ``argv`` in
    ``AHEAD_DELAY``, unless one waits or is being started, or a command runs by then."""
    global _keeper
    if _ready is not None or _preparing() or not _fits(argv[-1], env):
        return
    loop = asyncio.get_running_loop()
    _keeper = loop.create_task(_keep(argv[:-1], cwd, env, limit, factory))


def _preparing() -> bool:
    keeper = _keeper
    return keeper is not None and not keeper.done() and not keeper.get_loop().is_closed()


async def _keep(
    prefix: list[str], cwd: Path, env: dict[str, str], limit: int | None, factory: ProtocolFactory
) -> None:
    """Start the standby, then hold it until it is taken or the loop shuts down (which
    cancels every task: the standby is then killed and its cgroup removed). One task from
    the command's end on, so a shutdown never misses it."""
    global _ready, _spawning
    standby = None
    try:
        await asyncio.sleep(AHEAD_DELAY)
        if not RUNNING.count and _ready is None:
            _spawning = asyncio.get_running_loop().create_future()
            standby = _ready = await _start(prefix, cwd, env, limit, factory)
    finally:
        if _spawning is not None:
            _spawning.set_result(None)  # (the standby, if any, is in _ready before take runs)
            _spawning = None
    if standby is None:
        return
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        if not standby.taken:
            if _ready is standby:
                _ready = None
            _discard(standby)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(standby.started.exited), 1.0)
        raise


async def _start(
    prefix: list[str], cwd: Path, env: dict[str, str], limit: int | None, factory: ProtocolFactory
) -> _Standby | None:
    containment = Containment(limit)
    if containment.cgroup is None:
        containment.close()
        return None  # no cgroup to join: nothing to win
    procs = str(containment.cgroup / "cgroup.procs")
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()
    # Plain pipes, connected to the loop only when a command takes the standby: asyncio's own
    # pipes, cancelled while they connect (the loop shutting down), would leave
    # subprocess_exec waiting for ever (CPython 3.11).
    (in_r, in_w), (out_r, out_w), (err_r, err_w) = os.pipe(), os.pipe(), os.pipe()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: factory(exited, loop),
            *["/bin/sh", "-c", _WAIT, procs, *prefix],
            cwd=cwd,
            stdin=in_r,
            stdout=out_w,
            stderr=err_w,
            env=env,
            start_new_session=True,  # as a command started on demand
        )
    except BaseException as exc:
        for fd in (in_w, out_r, err_r):
            os.close(fd)
        containment.close()
        if isinstance(exc, OSError):
            return None
        raise
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    key = _key(prefix, cwd, env, limit)
    standby = _Standby(key, loop, Started(transport, protocol, exited, containment))
    standby.pipes = _Pipes(in_w, out_r, err_r)
    standby.guard = asyncio.current_task()
    return standby


def _discard(standby: _Standby) -> None:
    """Kill a standby that will not be used and remove its cgroup (also from a loop that is
    closed by now)."""
    started = standby.started
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(started.transport.get_pid(), signal.SIGKILL)
    standby.pipes.close()
    with contextlib.suppress(RuntimeError):  # its loop may be closed already
        started.transport.close()
    guard = standby.guard
    standby.taken = True  # nothing left for its task to do
    if guard is not None and not guard.done() and not standby.loop.is_closed():
        with contextlib.suppress(RuntimeError):
            if guard is not asyncio.current_task():
                guard.cancel()
    started.containment.close()


@atexit.register
def _at_exit() -> None:
    """A standby whose loop never shut down cleanly: kill it, remove its cgroup."""
    global _ready
    standby, _ready = _ready, None
    if standby is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(standby.started.transport.get_pid(), signal.SIGKILL)
        standby.pipes.close()
        standby.started.containment.close()


__all__ = ["AHEAD_DELAY", "MAX_COMMAND_BYTES", "RUNNING", "Started", "prepare_soon", "take"]
