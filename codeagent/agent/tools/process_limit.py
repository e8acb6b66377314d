"""Keep track of every process a command starts, cap how many, and kill all of them.

A process group is not enough: ``setsid sleep 1000 &`` leaves it, and with it the reach of a
timeout or an interrupt. Where a ``pids`` cgroup can be created (cgroup v1 ``pids`` or a v2
hierarchy with ``pids`` delegated, usually as root), each command runs in its own cgroup:
``pids.max`` caps its processes, and every process in it can be found and killed. Elsewhere
``Containment`` falls back to making codeagent a child subreaper, so orphans of a command are
re-parented to codeagent (not to init) and can be found by their session: what a command
started lives in a session other than codeagent's own.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import os
import signal
import time
from pathlib import Path

#: Processes one command may have at once (the sandbox's fork-bomb guard).
MAX_PROCESSES = 256
_V1_PIDS = Path("/sys/fs/cgroup/pids")
_V2_ROOT = Path("/sys/fs/cgroup")
_PR_SET_CHILD_SUBREAPER = 36
_names = itertools.count()
#: First processes of the commands running now (their own session, codeagent's children).
_RUNNING: set[int] = set()


def _own_cgroup_v2() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            return _V2_ROOT / line[3:].lstrip("/")
    return None


@functools.lru_cache(maxsize=1)
def cgroup_parent() -> Path | None:
    """A cgroup directory under which codeagent may create per-command ``pids`` cgroups, or
    None when there is none (no cgroupfs, no permission, pids not delegated)."""
    candidates = []
    if (_V1_PIDS / "cgroup.procs").exists():
        candidates.append(_V1_PIDS)
    own = _own_cgroup_v2()
    if own is not None and "pids" in _read(own / "cgroup.subtree_control").split():
        candidates.append(own)
    for parent in candidates:
        probe = parent / f"codeagent-probe-{os.getpid()}"
        try:
            probe.mkdir()
            (probe / "pids.max").write_text(str(MAX_PROCESSES))
        except OSError:
            continue
        finally:
            with contextlib.suppress(OSError):
                probe.rmdir()
        _remove_leftovers(parent)
        return parent
    return None


def _remove_leftovers(parent: Path) -> None:
    """Remove the empty cgroups of codeagent processes that died without removing them
    (killed while a command ran): nothing else would, and they pile up. Only those a minute
    old: a fresh one may belong to a codeagent whose pid this /proc does not show (another
    pid namespace) and is about to be joined."""
    old = time.time() - 60
    for entry in parent.glob("codeagent-*-*"):
        owner = entry.name.split("-")[1]
        with contextlib.suppress(OSError):  # gone meanwhile, not empty, or not ours
            dead = owner.isdigit() and not Path(f"/proc/{owner}").exists()
            if dead and entry.stat().st_mtime < old:
                entry.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@functools.lru_cache(maxsize=1)
def become_subreaper() -> bool:
    """Make this process the reaper of its descendants' orphans (Linux only); True if so."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


class Containment:
    """Where one command's processes live: a fresh cgroup when possible (``limited`` is then
    True and ``argv`` makes the command join it before it starts), else codeagent's children
    outside its own session. ``limit`` caps the cgroup's processes (None: no cap, for a
    command the user approved to run outside the sandbox, such as a parallel build)."""

    def __init__(self, limit: int | None = MAX_PROCESSES) -> None:
        parent = cgroup_parent()
        self.cgroup: Path | None = None
        if parent is not None:
            path = parent / f"codeagent-{os.getpid()}-{next(_names)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text("max" if limit is None else str(limit))
                self.cgroup = path
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
        self._pid: int | None = None
        if self.cgroup is None:
            become_subreaper()

    @property
    def limited(self) -> bool:
        """True when the process cap holds and every process can be found."""
        return self.cgroup is not None

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the cgroup (it joins before anything runs)."""
        if self.cgroup is None:
            return list(argv)
        procs = str(self.cgroup / "cgroup.procs")
        join = 'echo $$ > "$0" && exec "$@"'
        return ["/bin/sh", "-c", join, procs, *argv]

    def kill_all(self) -> None:
        """SIGKILL every process the command started, wherever it moved (session, group)."""
        if self.cgroup is not None:
            for _ in range(50):  # a fork racing the kill adds a process: go again
                pids = _pids_in(self.cgroup)
                if not pids:
                    return
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)
            return
        for pid in _adopted_orphans():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)

    def track(self, pid: int) -> None:
        """``pid`` is this command's first process: never an "orphan" while it runs."""
        self._pid = pid
        _RUNNING.add(pid)

    def close(self) -> None:
        """Kill what is left and remove the cgroup."""
        _RUNNING.discard(self._pid or -1)
        self.kill_all()
        if self.cgroup is not None:
            for _ in range(100):  # rmdir fails while a killed process is still exiting
                try:
                    self.cgroup.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)
            self.cgroup = None


def _pids_in(cgroup: Path) -> list[int]:
    return [int(line) for line in _read(cgroup / "cgroup.procs").split() if line.isdigit()]


def _adopted_orphans() -> list[int]:
    """Children of codeagent outside its session: orphans of commands (each command starts
    its own session) re-parented here by the subreaper. Our own git calls share our session;
    the commands running now are left alone."""
    me, session = os.getpid(), os.getsid(0)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in _RUNNING:
            continue
        fields = _read(entry / "stat").rsplit(")", 1)[-1].split()
        if len(fields) < 4:
            continue
        ppid, sid = int(fields[1]), int(fields[3])
        if ppid == me and sid != session:
            found.append(int(entry.name))
    return found


def _reap(pid: int) -> None:
    """Collect an adopted orphan once it died, so it does not stay a zombie."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not ours after all, or already collected
        if done:
            return
        time.sleep(0.01)


__all__ = ["MAX_PROCESSES", "Containment", "become_subreaper", "cgroup_parent"]
