"""How codeagent runs git: hardened configuration and a scrubbed environment, on every call.

The repository is not trusted. Its config (and the model, which may have edited it) can name
programs git would run: ``core.fsmonitor``, hooks (``reference-transaction`` runs on
``update-ref``), ``diff.external``, ``diff.<x>.textconv``/``command``, ``filter.<x>.clean``/
``smudge``/``process`` drivers picked by ``.gitattributes``, ``gpg.program`` when
``commit.gpgSign`` is on. Every git process codeagent starts goes through ``run_git``, which
switches all of these off on the command line (``-c`` beats every config file), neutralises each
filter driver the config defines (a driver cannot be disabled by a wildcard), and passes only an
allow-listed environment, so an API key or any other secret in codeagent's environment never
reaches git or anything git might start.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from codeagent.workspace.git_errors import GitCommandError

#: ``-c`` settings on every call. ``diff.external=`` makes a diff without ``--no-ext-diff`` fail
#: instead of running anything; fileMode/symlinks/autocrlf make snapshots record what is on disk.
HARDENED_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "diff.external=",
    "core.pager=cat",
    "core.untrackedCache=false",
    "core.attributesFile=/dev/null",
    "commit.gpgSign=false",
    "core.autocrlf=false",
    "core.safecrlf=false",
    "core.fileMode=true",
    "core.symlinks=true",
    "submodule.recurse=false",
    "core.quotePath=false",
)

#: environment variables git may see; everything else (API keys, tokens, proxies...) is dropped
_ALLOWED = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "USER",
        "LOGNAME",
        "XDG_CONFIG_HOME",
        "GIT_CONFIG_GLOBAL",
        "GIT_EXEC_PATH",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
    }
)
_FIXED = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    # Read-only commands (status, ls-files) must not rewrite the user's index behind their back.
    "GIT_OPTIONAL_LOCKS": "0",
}
#: variables the caller may set per call (on top of the allow-list)
_CALLER_KEYS = frozenset(
    {
        "GIT_INDEX_FILE",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    }
)
_DRIVER_KEYS = ("clean", "smudge", "process")
_MAX_ERROR = 600  # characters of git's stderr kept in an error message


def git_environment(
    extra: Mapping[str, str] | None = None, drivers: Sequence[str] = ()
) -> dict[str, str]:
    """The environment for a git process: the allow-list, fixed safety switches, ``extra``
    (only git's own per-call variables) and config entries that neutralise filter ``drivers``.
    """
    env = {k: v for k, v in os.environ.items() if k in _ALLOWED or k.startswith("LC_")}
    env.update(_FIXED)
    for key, value in (extra or {}).items():
        if key not in _CALLER_KEYS:
            raise ValueError(f"{key} is not a git variable codeagent sets")
        env[key] = value
    # GIT_CONFIG_COUNT entries rank with -c (command line) and, unlike -c, take any driver name.
    entries: list[tuple[str, str]] = []
    for name in drivers:
        entries += [(f"filter.{name}.{key}", "") for key in _DRIVER_KEYS]
        entries.append((f"filter.{name}.required", "false"))
    env["GIT_CONFIG_COUNT"] = str(len(entries))
    for i, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def git_argv(*args: str) -> list[str]:
    """``git`` with the hardened ``-c`` settings, then ``args``."""
    argv = ["git"]
    for setting in HARDENED_CONFIG:
        argv += ["-c", setting]
    return [*argv, *args]


def run_git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
    drivers: Sequence[str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run hardened git in ``cwd``; raise ``GitCommandError`` on failure when ``check``.

    ``drivers``: filter driver names to neutralise; None looks them up in the config first.
    """
    if drivers is None:
        drivers = filter_drivers(cwd, env)
    try:
        result = subprocess.run(
            git_argv(*args),
            cwd=cwd,
            env=git_environment(env, drivers),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:  # pragma: no cover - git is a hard dependency
        raise GitCommandError("git is not installed or not on PATH") from exc
    if check and result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[-_MAX_ERROR:]
        raise GitCommandError(f"git {args[0]} failed: {detail or f'exit {result.returncode}'}")
    return result


def filter_drivers(cwd: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """Names of the filter drivers git's config defines (every scope git reads, includes too)."""
    return _filter_config(cwd, env)[0]


def _filter_config(cwd: Path, env: Mapping[str, str] | None) -> tuple[list[str], bool]:
    """(filter driver names, whether the config includes other files)."""
    only = {k: v for k, v in (env or {}).items() if k in ("GIT_DIR", "GIT_WORK_TREE")}
    result = run_git(
        cwd, "config", "-z", "--name-only", "--get-regexp", r"^(filter\.|include)", env=only,
        check=False, drivers=(),
    )  # fmt: skip
    names = set()
    includes = False
    for key in result.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if key.startswith("include"):
            includes = True
        elif key.count(".") >= 2:  # filter.<name>.<key>; the name itself may contain dots
            names.add(key[len("filter.") : key.rindex(".")])
    return sorted(names), includes


class GitRunner:
    """Hardened git for one working tree; caches the filter-driver lookup per config state."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self._base = {"GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(root)}
        self._drivers: tuple[tuple[object, ...], list[str]] | None = None

    def _config_stamp(self) -> tuple[object, ...]:
        paths = [self.git_dir / "config", self.git_dir / "config.worktree"]
        common = self.git_dir / "commondir"
        if common.is_file():
            shared = (self.git_dir / common.read_text().strip()).resolve()
            paths += [shared / "config", shared / "config.worktree"]
        home = Path(os.environ.get("HOME", "/nonexistent"))
        xdg = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config"))
        paths += [
            Path(os.environ.get("GIT_CONFIG_GLOBAL", home / ".gitconfig")),
            xdg / "git/config",
        ]
        stamp: list[object] = []
        for path in paths:
            try:
                st = path.stat()
                stamp.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                stamp.append((str(path), None))
        return tuple(stamp)

    def drivers(self) -> list[str]:
        """Filter drivers to neutralise (re-read whenever a config file changes)."""
        stamp = self._config_stamp()
        if self._drivers is None or self._drivers[0] != stamp:
            names, includes = _filter_config(self.root, self._base)
            if includes:
                # An included file (perhaps one in the working tree) is not in the stamp.
                return names
            self._drivers = (stamp, names)
        return self._drivers[1]

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        check: bool = True,
    ) -> bytes:
        """Run ``git args...`` in the working tree and return raw stdout."""
        merged = {**self._base, **(env or {})}
        return run_git(
            self.root, *args, env=merged, stdin=stdin, check=check, drivers=self.drivers()
        ).stdout


def discover(path: Path) -> tuple[Path, Path] | str:
    """(working tree root, git dir) of the repository containing ``path``, or why there is none:
    ``"bare"``, or git's own message."""
    # The usual case in one git run; a bare repository, a git dir or an odd path (git fails, or
    # prints more lines) takes the two runs below, which tell those apart.
    usual = run_git(
        path,
        "rev-parse",
        "--is-bare-repository",
        "--absolute-git-dir",
        "--show-toplevel",
        check=False,
        drivers=(),
    )
    lines = usual.stdout.decode("utf-8", "surrogateescape").splitlines()
    if usual.returncode == 0 and len(lines) == 3 and lines[0] == "false" and lines[2].strip():
        return Path(lines[2].strip()), Path(lines[1])
    probe = run_git(
        path, "rev-parse", "--is-bare-repository", "--absolute-git-dir", check=False, drivers=()
    )
    if probe.returncode != 0:
        return probe.stderr.decode("utf-8", "replace").strip() or "not a git repository"
    bare, git_dir = probe.stdout.decode("utf-8", "surrogateescape").splitlines()[:2]
    if bare.strip() == "true":
        return "bare"
    top = run_git(path, "rev-parse", "--show-toplevel", check=False, drivers=())
    root = top.stdout.decode("utf-8", "surrogateescape").strip()
    if top.returncode != 0 or not root:
        return "bare"
    return Path(root), Path(git_dir)
