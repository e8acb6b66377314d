"""Run commands inside bubblewrap: the repository writable, the rest of the system read-only.

``detect_sandbox`` finds out once per process whether ``bwrap`` works here (it needs user
namespaces, which some containers forbid) and says clearly when it does not, so the agent can
require approval for every command instead of pretending to be safe.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal


def find_repository_root(cwd: Path) -> Path:
    """The nearest directory at or above ``cwd`` holding ``.git``, else ``cwd`` itself."""
    current = Path(os.path.realpath(cwd))
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return current


class Sandbox:
    """No sandbox: commands run as they are. Subclasses confine them."""

    name = "none"
    available = False

    def __init__(self, reason: str = "the sandbox is turned off (sandbox = none)"):
        self.reason = reason

    def describe(self) -> str:
        """One sentence for the status bar and approval prompts."""
        return f"No sandbox: {self.reason}; every command that may write needs approval."

    def wrap(
        self,
        argv: list[str],
        cwd: Path,
        *,
        network: bool = False,
        writable_git: bool = False,
        root: Path | None = None,
    ) -> list[str]:
        """The command line that runs ``argv`` in ``cwd`` (unchanged without a sandbox)."""
        return list(argv)


class BwrapSandbox(Sandbox):
    """bubblewrap: ``/`` read-only, the repository read-write, ``.git`` read-only, private
    ``/tmp``, ``/dev`` and ``/proc``, no network, and every process dies with the parent."""

    name = "bwrap"
    available = True

    def __init__(self, executable: str):
        super().__init__("")
        self.executable = executable

    def describe(self) -> str:
        return (
            "bubblewrap sandbox: the repository is writable, the rest of the system and .git "
            "are read-only, and there is no network."
        )

    def wrap(
        self,
        argv: list[str],
        cwd: Path,
        *,
        network: bool = False,
        writable_git: bool = False,
        root: Path | None = None,
    ) -> list[str]:
        """``argv`` under bwrap; ``root`` (default: the repository containing ``cwd``) is the
        one writable directory tree."""
        cwd = Path(os.path.realpath(cwd))
        writable = Path(os.path.realpath(root)) if root is not None else find_repository_root(cwd)
        args = [self.executable, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp", "--bind", str(writable), str(writable)]
        git = writable / ".git"
        if git.exists() and not writable_git:
            args += ["--ro-bind", str(git), str(git)]
        if not network:
            args.append("--unshare-net")
        # A private PID namespace means killing bwrap's child takes every descendant with it.
        args += ["--unshare-pid", "--die-with-parent", "--chdir", str(cwd), "--", *argv]
        return args


@functools.lru_cache(maxsize=4)
def _probe(executable: str) -> str | None:
    """None when bwrap can run a command with our options here, else why not."""
    probe = BwrapSandbox(executable).wrap(["/bin/true"], Path("/"), root=Path("/tmp"))
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be started ({exc})"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"bwrap does not work here ({detail[-1] if detail else result.returncode})"
    return None


def detect_sandbox(mode: Literal["auto", "bwrap", "none"] = "auto") -> Sandbox:
    """The sandbox to run commands in.

    ``none`` never sandboxes. ``auto`` and ``bwrap`` use bubblewrap when it works; otherwise
    they return an unavailable ``Sandbox`` whose ``describe()`` says why and how to fix it, so
    the approval policy asks before commands instead of the agent failing to start.
    """
    if mode == "none":
        return Sandbox()
    if mode not in ("auto", "bwrap"):
        raise ValueError(f"unknown sandbox mode {mode!r}; use auto, bwrap or none")
    reason: str | None
    executable = shutil.which("bwrap")
    if not sys.platform.startswith("linux"):
        reason = f"bubblewrap only works on Linux, not {sys.platform}"
    elif executable is None:
        reason = "bubblewrap (bwrap) is not installed; install it with: apt-get install bubblewrap"
    else:
        reason = _probe(executable)
    if reason is None:
        return BwrapSandbox(executable)  # type: ignore[arg-type]
    if mode == "bwrap":
        reason = f"sandbox = bwrap was requested but {reason}"
    return Sandbox(reason)


__all__ = [
    "BwrapSandbox",
    "Sandbox",
    "detect_sandbox",
    "find_repository_root",
]
