"""Low-level git plumbing used by checkpoints: snapshots, trees, refs and diffs.

Everything here works through a *temporary* index file (``GIT_INDEX_FILE``) so that the user's
HEAD, branch, index and stash are never read-modify-written. Paths are always exchanged with git
NUL-separated (``-z``) so spaces, newlines and non-ASCII names survive unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codeagent.workspace.git_env import GitRunner
from codeagent.workspace.git_errors import GitCommandError

# Checkpoint commits are authored by codeagent itself so they work even when the user has no
# git identity configured, and so they are easy to recognise in `git log refs/codeagent/...`.
CHECKPOINT_IDENTITY = {
    "GIT_AUTHOR_NAME": "codeagent",
    "GIT_AUTHOR_EMAIL": "codeagent@localhost",
    "GIT_COMMITTER_NAME": "codeagent",
    "GIT_COMMITTER_EMAIL": "codeagent@localhost",
}

GITLINK_MODE = "160000"
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class Entry:
    """One file in a tree: git mode ("100644", "100755", "120000", "160000") and object id."""

    mode: str
    sha: str


@dataclass(frozen=True)
class TreeChange:
    """A path whose entry differs between two trees (``None`` = absent on that side)."""

    path: str
    old: Entry | None
    new: Entry | None


class GitPlumbing:
    """Runs hardened git plumbing commands for one working tree (see ``git_env``)."""

    def __init__(self, root: Path, git_dir: Path, snapshot_index: str = "") -> None:
        self.root = Path(root)
        self.git_dir = Path(git_dir)
        self.runner = GitRunner(self.root, self.git_dir)
        # A private index kept between snapshots (its stat cache makes `add -A` re-hash only the
        # files that changed since the previous snapshot, untracked ones included).
        self.snapshot_index = (
            self.git_dir / "codeagent" / f"{snapshot_index}.index" if snapshot_index else None
        )
        self._seeded_from: tuple[int, int] | None = None  # user index (mtime_ns, size) at seed
        self._null_sha: str | None = None

    # -- running commands ---------------------------------------------------------------------

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        check: bool = True,
    ) -> bytes:
        """Run hardened ``git args...`` in the working tree and return raw stdout."""
        return self.runner.run(*args, env=env, stdin=stdin, check=check)

    def text(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run git and return stdout decoded and stripped (for ids and single values)."""
        return self.run(*args, env=env).decode("utf-8", "surrogateescape").strip()

    def rev_parse(self, rev: str) -> str | None:
        """Object id for ``rev``, or None when it does not resolve (e.g. unborn HEAD)."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{object}}", check=False)
        value = out.decode().strip()
        return value or None

    @property
    def null_sha(self) -> str:
        """The all-zero object id, sized for this repository's hash algorithm."""
        if self._null_sha is None:
            algorithm = self.text("rev-parse", "--show-object-format")
            self._null_sha = "0" * (64 if algorithm == "sha256" else 40)
        return self._null_sha

    # -- temporary index ----------------------------------------------------------------------

    @contextmanager
    def temp_index(self, *, seed_from_user_index: bool = False) -> Iterator[dict[str, str]]:
        """Yield an env mapping that points git at a private, throw-away index file.

        Seeding from a *copy* of the user's index reuses its stat cache, so ``add -A`` only
        re-hashes files that really changed; the user's own index file is only read.
        """
        path = self.git_dir / f"codeagent-{uuid.uuid4().hex}.index"
        user_index = self.git_dir / "index"
        if seed_from_user_index and user_index.is_file():
            shutil.copyfile(user_index, path)
        try:
            yield {"GIT_INDEX_FILE": str(path)}
        finally:
            for leftover in (path, path.with_name(path.name + ".lock")):
                leftover.unlink(missing_ok=True)

    # -- trees ----------------------------------------------------------------------------------

    def snapshot_tree(self, finish: Callable[[dict[str, str], str], str] | None = None) -> str:
        """Write a tree of the working tree as it is now: tracked and untracked-not-ignored.

        ``finish(env, tree)``, when given, runs with the index env still in place and returns the
        final tree (the full snapshot adds raw bytes and ignored files there).
        """
        if self.snapshot_index is None:
            with self.temp_index(seed_from_user_index=True) as env:
                return self._snapshot(env, finish)
        index = self.snapshot_index
        user_index = self.git_dir / "index"
        stamp = _stamp(user_index)
        # Re-seed whenever the user's index changed (commit, checkout, rm --cached, ...): it alone
        # says which files are tracked, e.g. force-added files that .gitignore would skip.
        if not index.exists() or stamp != self._seeded_from:
            index.parent.mkdir(exist_ok=True)
            index.unlink(missing_ok=True)
            if stamp is not None:
                shutil.copyfile(user_index, index)
            self._seeded_from = stamp
        try:
            return self._snapshot({"GIT_INDEX_FILE": str(index)}, finish)
        except GitCommandError:
            # A damaged private index (e.g. a crash mid-write) must not block checkpoints:
            # start over from the user's index once.
            index.unlink(missing_ok=True)
            index.with_name(index.name + ".lock").unlink(missing_ok=True)
            with self.temp_index(seed_from_user_index=True) as env:
                return self._snapshot(env, finish)

    def _snapshot(
        self, env: dict[str, str], finish: Callable[[dict[str, str], str], str] | None
    ) -> str:
        if not Path(env["GIT_INDEX_FILE"]).exists():
            head = self.rev_parse("HEAD")
            if head:
                self.run("read-tree", head, env=env)
            else:
                self.run("read-tree", "--empty", env=env)
        # --ignore-errors is deliberately absent: an unreadable file must fail the checkpoint
        # rather than silently leave a hole that undo would later "restore" as deleted.
        self.run("add", "-A", "--", ".", env=env)
        tree = self.text("write-tree", env=env)
        return finish(env, tree) if finish else tree

    def tree_with(self, base_tree: str, entries: Mapping[str, Entry | None]) -> str:
        """``base_tree`` with ``entries`` put in (None removes the path), as a new tree id."""
        if not entries:
            return base_tree
        with self.temp_index() as env:
            self.run("read-tree", base_tree, env=env)
            self.run("update-index", "-z", "--index-info", env=env, stdin=self.index_info(entries))
            return self.text("write-tree", env=env)

    def index_info(self, entries: Mapping[str, Entry | None]) -> bytes:
        """``update-index --index-info -z`` input for ``entries`` (None = remove)."""
        return b"".join(
            (f"{e.mode} {e.sha}\t" if e else f"0 {self.null_sha}\t").encode()
            + os.fsencode(path)
            + b"\0"
            for path, e in entries.items()
        )

    def remove_stale_temp_indexes(self, older_than: float = 3600.0) -> None:
        """Delete temporary index files a killed process left behind (only ours, only old ones)."""
        cutoff = time.time() - older_than
        for leftover in self.git_dir.glob("codeagent-*.index*"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def drop_snapshot_index(self) -> None:
        """Delete the private snapshot index (it is only a cache)."""
        if self.snapshot_index is not None:
            self.snapshot_index.unlink(missing_ok=True)

    def tree_entries(self, tree: str, paths: list[str] | None = None) -> dict[str, Entry]:
        """Every file (blob, symlink, gitlink) in ``tree`` (or only ``paths``), keyed by path."""
        spec = ["--", *(f":(literal){p}" for p in paths)] if paths else []
        out = self.run("ls-tree", "-r", "-z", "--full-tree", tree, *spec)
        entries: dict[str, Entry] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _kind, sha = meta.decode().split()
            entries[_decode_path(raw_path)] = Entry(mode, sha)
        return entries

    def diff_trees(self, old_tree: str, new_tree: str) -> list[TreeChange]:
        """Paths that differ between two trees, without rename detection (one path, one change)."""
        out = self.run("diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", old_tree, new_tree)
        fields = out.split(b"\0")
        changes: list[TreeChange] = []
        i = 0
        while i < len(fields):
            meta = fields[i]
            if not meta.startswith(b":"):
                i += 1
                continue
            old_mode, new_mode, old_sha, new_sha, _status = meta[1:].decode().split()
            path = _decode_path(fields[i + 1])
            changes.append(
                TreeChange(
                    path,
                    None if old_mode == "000000" else Entry(old_mode, old_sha),
                    None if new_mode == "000000" else Entry(new_mode, new_sha),
                )
            )
            i += 2
        return changes

    def unified_diff(self, old_tree: str, new_tree: str) -> str:
        """A unified diff between two trees, plain text (no colour, no external diff tools)."""
        # quotepath=false keeps unicode names readable instead of octal-escaped.
        out = self.run(
            "-c",
            "core.quotepath=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--no-textconv",
            old_tree,
            new_tree,
        )
        return out.decode("utf-8", "replace")

    # -- objects and refs -----------------------------------------------------------------------

    def commit_tree(
        self,
        tree: str,
        message: str,
        parents: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Create a commit object (no ref moves, no hooks) and return its id."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        identity = CHECKPOINT_IDENTITY if env is None else env
        return self.run(*args, env=identity, stdin=message.encode()).decode().strip()

    def write_blob(self, data: bytes) -> str:
        """Store ``data`` as a blob, byte for byte, and return its id."""
        return self.run("hash-object", "-w", "--no-filters", "--stdin", stdin=data).decode().strip()

    def hash_files(self, paths: list[str]) -> list[str]:
        """Store the files at ``paths`` (relative to the root) as blobs exactly as they are on
        disk (no clean filter, no end-of-line conversion); returns their ids in order."""
        plain = [p for p in paths if "\n" not in p and not p.startswith('"')]
        ids: dict[str, str] = {}
        if plain:
            out = self.run(
                "hash-object", "-w", "--no-filters", "--stdin-paths",
                stdin="".join(p + "\n" for p in plain).encode("utf-8", "surrogateescape"),
            )  # fmt: skip
            ids.update(zip(plain, out.decode().split(), strict=True))
        for path in paths:
            if path not in ids:  # --stdin-paths is line-based: odd names go one by one
                ids[path] = self.write_blob((self.root / path).read_bytes())
        return [ids[p] for p in paths]

    def read_blob(self, sha: str) -> bytes:
        """Raw content of a blob."""
        return self.run("cat-file", "blob", sha)

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Raw contents of many blobs in one ``cat-file --batch`` process."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.run("cat-file", "--batch", stdin="".join(s + "\n" for s in wanted).encode())
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) != 3:
                raise GitCommandError(f"git cat-file: object {sha} is missing")
            size = int(header[2])
            blobs[sha] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return blobs

    def update_ref(self, ref: str, new: str, old: str | None = None, reason: str = "") -> None:
        """Point ``ref`` at ``new``; with ``old`` the move fails if someone else moved it first."""
        args = ["update-ref", "-m", reason or "codeagent", ref, new]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str) -> None:
        """Remove a ref if it exists."""
        self.run("update-ref", "-d", ref, check=False)

    def refs_under(self, prefix: str) -> dict[str, str]:
        """All refs below ``prefix`` mapped to the object they point at."""
        out = self.text("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines() if line)


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, or None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _decode_path(raw: bytes) -> str:
    """Decode a path from git; undecodable bytes round-trip through surrogateescape."""
    return os.fsdecode(raw)
