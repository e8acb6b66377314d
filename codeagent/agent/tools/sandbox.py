"""Run commands inside bubblewrap: the repository writable, the rest of the system read-only,
nothing secret visible, no capabilities, and a cap on processes.

``detect_sandbox`` finds out once per process whether every protection works here (bwrap
needs user namespaces, which some containers forbid; as root the process cap needs a pids
cgroup) and says clearly when one does not, so the agent can require approval for every
command instead of pretending to be safe.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

from codeagent.agent.tools.process_limit import MAX_PROCESSES, cgroup_parent

#: Environment variable names never given to a command, sandboxed or not.
SECRET_NAME = re.compile(
    r"API_?KEY|SECRET|TOKEN|PASSW|CREDENTIAL|AUTH|_PAT$|^PAT$|DSN|DATABASE_URL|ACCESS_KEY|"
    r"PRIVATE|_KEY$|^OPENAI_|^CODEAGENT_|^AWS_|^GH_|^GITHUB_|^NPM_CONFIG_|SSH_AUTH_SOCK|"
    r"COOKIE|SESSION",
    re.IGNORECASE,
)
#: What every command sees on top of its environment: no pager, no prompt, no colour.
_FIXED_ENV = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "TERM": "dumb",
    "NO_COLOR": "1",
}
#: Host variables a sandboxed command keeps (the rest is dropped, not filtered).
_SANDBOX_PASSED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
#: The empty home directory inside the sandbox (on its private /tmp).
SANDBOX_HOME = "/tmp/home"
#: Files only root may read that hold secrets (hidden even from a sandboxed root).
_SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
                 "/etc/sudoers", "/etc/security/opasswd")  # fmt: skip


def scrubbed_environment() -> dict[str, str]:
    """codeagent's environment without anything that looks like a secret (for commands that
    run without a sandbox, after the user approved them)."""
    env = {k: v for k, v in os.environ.items() if not SECRET_NAME.search(k)}
    env.update(_FIXED_ENV)
    return env


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

    def environment(self) -> dict[str, str]:
        """The environment a command runs with: without a sandbox, ours minus secrets."""
        return scrubbed_environment()

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
    """bubblewrap, also when codeagent runs as root: new user, pid, uts, ipc, mount and network
    namespaces; every capability dropped; a new session; killed with its parent; ``/``
    read-only; the repository read-write and its ``.git`` read-only; private ``/tmp``,
    ``/run``, ``/dev`` and ``/proc``; homes, codeagent's config and state, root-only secret
    files and host unix sockets hidden; an allow-listed environment with an empty home; at
    most ``MAX_PROCESSES`` processes (with ``process_limit.Containment``)."""

    name = "bwrap"
    available = True

    def __init__(self, executable: str, env: list[str] | tuple[str, ...] = ()):
        super().__init__("")
        self.executable = executable
        self.extra_env = tuple(env)

    def describe(self) -> str:
        return (
            "bubblewrap sandbox: the repository is writable, the rest of the system and .git "
            "are read-only, homes and secrets are hidden, and there is no network."
        )

    def environment(self) -> dict[str, str]:
        """An allow-list: PATH, locale, an empty HOME, fixed switches, and ``sandbox_env``
        (``NAME`` passes codeagent's value on, ``NAME=value`` sets one)."""
        env = {k: os.environ[k] for k in _SANDBOX_PASSED if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.update(_FIXED_ENV, HOME=SANDBOX_HOME, TMPDIR="/tmp")
        # HOME moved: toolchains shown from the real home are found through their variables.
        home = os.environ.get("HOME", "")
        for name, folder in _TOOLCHAIN_HOMES:
            value = os.environ.get(name) or (f"{home}/{folder}" if home else "")
            if value and os.path.isdir(value):
                env[name] = value
        for entry in self.extra_env:
            name, has_value, value = entry.partition("=")
            if has_value:
                env[name] = value
            elif name in os.environ:
                env[name] = os.environ[name]
        return env

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
        args = [self.executable, "--unshare-all", "--unshare-user"]
        if network:
            args.append("--share-net")
        # Same ids inside as outside, so files keep their owner; with no capability at all a
        # root inside is an ordinary user (no mount, umount, hostname, chown of others...).
        args += ["--uid", str(os.getuid()), "--gid", str(os.getgid()), "--cap-drop", "ALL"]
        args += ["--new-session", "--die-with-parent"]
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        hidden = _hidden_directories()
        around = [d for d in hidden if not _inside(d, writable)]
        within = [d for d in hidden if _inside(d, writable) and d != writable]
        for directory in around:
            args += ["--tmpfs", str(directory)]
        toolchains = _toolchains(hidden, writable)
        for directory in toolchains:
            args += ["--ro-bind", str(directory), str(directory)]
        args += ["--dir", SANDBOX_HOME, "--bind", str(writable), str(writable)]
        for directory in within:
            args += ["--tmpfs", str(directory)]
        git = writable / ".git"
        if git.exists() and not writable_git:
            args += ["--ro-bind", str(git), str(git)]
        tool_secrets = [
            str(d / name) for d in toolchains for name in _TOOLCHAIN_SECRETS.get(d.name, ())
        ]
        covered = (*_SECRET_FILES, *tool_secrets, *_host_sockets(hidden, writable))
        for path in covered:
            if os.path.lexists(path) and not os.path.islink(path):
                args += ["--ro-bind", "/dev/null", path]
        # RLIMIT_NPROC caps a non-root user's processes in the new user namespace; as root the
        # kernel ignores it and the pids cgroup of process_limit holds the cap instead.
        # (bash spells it -u, dash -p.)
        limit = (
            f"ulimit -u {MAX_PROCESSES} 2>/dev/null || ulimit -p {MAX_PROCESSES} 2>/dev/null; "
            'exec "$@"'
        )
        args += ["--chdir", str(cwd), "--", "/bin/sh", "-c", limit, "sh", *argv]
        return args


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _hidden_directories() -> list[Path]:
    """Directories replaced by an empty tmpfs: temporary and runtime dirs (sockets), homes,
    and codeagent's own config and state, wherever they are configured."""
    from codeagent.config import user_config_path  # late: config imports the agent package
    from codeagent.sessions import default_state_dir

    home = os.environ.get("HOME", "")
    config_home = os.environ.get("XDG_CONFIG_HOME") or (f"{home}/.config" if home else "")
    candidates = ["/tmp", "/var/tmp", "/run", "/var/run", "/root", "/home", "/mnt", "/media",
                  home, os.environ.get("XDG_RUNTIME_DIR", ""),
                  f"{config_home}/codeagent" if config_home else "",
                  str(user_config_path().parent), str(default_state_dir())]  # fmt: skip
    found: list[Path] = []
    for candidate in candidates:
        if not candidate or not os.path.isabs(candidate) or os.path.islink(candidate):
            continue  # /var/run -> /run is covered by /run itself
        path = Path(os.path.realpath(candidate))
        if path != Path("/") and path.is_dir() and path not in found:
            found.append(path)
    # Parents first, so a tmpfs for a nested directory lands on the parent's tmpfs, not under it.
    return sorted(found, key=lambda p: len(p.parts))


#: Tool installations kept in a home directory: shown read-only when a PATH entry or the
#: repository's virtualenv needs them, the rest of the home staying hidden.
_TOOLCHAIN_DIRS = (".pyenv", ".cargo", ".rustup", ".nvm", ".asdf", ".volta", ".bun", ".deno",
                   ".sdkman", ".ghcup", ".juliaup", ".opam", ".local/bin", "go/bin",
                   ".nix-profile")  # fmt: skip
#: The variables that tell tools where their installation is when HOME is not the real one.
_TOOLCHAIN_HOMES = (("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup"),
                    ("PYENV_ROOT", ".pyenv"), ("NVM_DIR", ".nvm"))  # fmt: skip
#: Credentials inside those tool installations, covered even when the tool is shown.
_TOOLCHAIN_SECRETS = {".cargo": ("credentials", "credentials.toml")}


def _toolchains(hidden: list[Path], writable: Path) -> list[Path]:
    """Directories under a hidden one that commands need to run at all: the toolchain
    holding each PATH entry, and the Python the repository's virtualenv was made from."""
    wanted: list[Path] = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and os.path.isabs(entry):
            wanted.append(Path(os.path.realpath(entry)))
    for venv in (".venv", "venv", "env"):
        config = writable / venv / "pyvenv.cfg"
        try:
            lines = config.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key.strip() == "home" and os.path.isabs(value.strip()):
                wanted.append(Path(os.path.realpath(value.strip())).parent)  # the prefix
    found: list[Path] = []
    for path in wanted:
        owner = next((d for d in hidden if _inside(path, d) and d != path), None)
        if owner is None or _inside(path, writable):
            continue
        shown = _toolchain_root(path, owner)
        if shown is not None and shown.is_dir() and shown not in found:
            found.append(shown)
    if any(p.name == ".cargo" for p in found):  # rustup's proxies in ~/.cargo/bin need it
        found += [p.with_name(".rustup") for p in found
                  if p.name == ".cargo" and p.with_name(".rustup").is_dir()]  # fmt: skip
    return sorted(set(found), key=lambda p: len(p.parts))


def _toolchain_root(path: Path, hidden: Path) -> Path | None:
    """The known toolchain directory of ``hidden`` that holds ``path``, else None (a PATH
    entry somewhere else in a home, e.g. ~/scripts, stays hidden)."""
    for home in (hidden, *[p for p in path.parents if p.parent == hidden]):
        for name in _TOOLCHAIN_DIRS:
            root = home / name
            if _inside(path, root):
                return root
    return None


def _host_sockets(hidden: list[Path], writable: Path) -> list[str]:
    """Unix sockets bound on this host that the sandbox would see (outside the hidden
    directories, or in the repository bound over them: a database or an agent socket): each
    is covered with /dev/null so nothing can connect to it."""
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return []
    sockets = []
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or not fields[7].startswith("/"):
            continue  # unnamed or abstract (abstract ones stay in the host network namespace)
        path = Path(fields[7])
        if any(_inside(path, d) for d in hidden) and not _inside(path, writable):
            continue
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                sockets.append(str(path))
        except OSError:
            continue
    return sorted(set(sockets))


@functools.lru_cache(maxsize=4)
def _probe(executable: str) -> str | None:
    """None when bwrap can run a command with all our options here, else why not."""
    try:
        with tempfile.TemporaryDirectory(prefix="codeagent-probe-") as folder:
            probe = BwrapSandbox(executable).wrap(["/bin/true"], Path(folder))
            result = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be started ({exc})"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return f"bwrap does not work here ({detail[-1] if detail else result.returncode})"
    if os.geteuid() == 0 and cgroup_parent() is None:
        # The kernel does not apply RLIMIT_NPROC to root, even inside a user namespace.
        return "running as root without a writable pids cgroup, so no process limit can be set"
    return None


def detect_sandbox(
    mode: Literal["auto", "bwrap", "none"] = "auto", env: list[str] | tuple[str, ...] = ()
) -> Sandbox:
    """The sandbox to run commands in (``env``: the ``sandbox_env`` setting).

    ``none`` never sandboxes. ``auto`` and ``bwrap`` use bubblewrap when every protection
    works; otherwise they return an unavailable ``Sandbox`` whose ``describe()`` says why and
    how to fix it, so the approval policy asks before commands instead of the agent failing
    to start.
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
        return BwrapSandbox(executable, env)  # type: ignore[arg-type]
    if mode == "bwrap":
        reason = f"sandbox = bwrap was requested but {reason}"
    return Sandbox(reason)


__all__ = [
    "SANDBOX_HOME",
    "SECRET_NAME",
    "BwrapSandbox",
    "Sandbox",
    "detect_sandbox",
    "find_repository_root",
    "scrubbed_environment",
]
