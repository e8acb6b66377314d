"""Random sequences of agent turns, user edits, undos and redos against a model of the tree.

After every step the working tree must match the model byte for byte and mode for mode (content,
every permission bit, symlink targets; CRLF files under ``* text=auto``; ignored files too),
and HEAD, the user's index and all branches must be exactly as they were (unless auto-commit is
on, in which case HEAD may only advance along the same branch by commits holding a turn's files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from codeagent.workspace.git import GitWorkspace

# Paths never clash as file-vs-folder, so the model can stay a flat dict. cache.log is ignored.
PATHS = [
    "a.txt",
    "b c.txt",
    "ünïcødé.md",
    "dir/x.bin",
    "dir/sub/y.txt",
    "dir/z z.txt",
    "new file.py",
    "cache.log",
]
IGNORED = {"cache.log"}
CONTENTS = st.one_of(
    st.sampled_from([b"", b"one\n", b"two\r\nlines\r\n", b"mixed\r\nends\n", b"\0\xff\x00binary"]),
    st.binary(max_size=12),
)
PERMS = [0o644, 0o755, 0o600, 0o700, 0o640]
# ("file", content, permission bits) or ("link", target, 0)
FileState = tuple[str, bytes, int]
LINK_TARGETS = [b"a.txt", b"missing target", b"../outside the repo"]
OPS = st.lists(
    st.tuples(
        st.sampled_from(["write", "write", "delete", "chmod", "link"]),
        st.sampled_from(PATHS),
        st.one_of(CONTENTS, st.sampled_from(LINK_TARGETS)),
    ),
    min_size=1,
    max_size=4,
)
ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "U",
    "GIT_AUTHOR_EMAIL": "u@example.com",
    "GIT_COMMITTER_NAME": "U",
    "GIT_COMMITTER_EMAIL": "u@example.com",
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, env=ENV, check=True, capture_output=True, text=True
    ).stdout


class CheckpointMachine(RuleBasedStateMachine):
    """Drives a GitWorkspace and a plain-dict model side by side."""

    auto_commit = False

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="codeagent-git-seq-"))
        self.root = self.tmp / "repo"
        self.model: dict[str, FileState] = {}
        self.undo_stack: list[tuple[dict[str, FileState | None], dict[str, FileState | None]]] = []
        self.redo_stack: list[tuple[dict[str, FileState | None], dict[str, FileState | None]]] = []
        self.turns = 0
        self.commits: list[tuple[str, tuple[str, ...]]] = []

    @initialize()
    def make_repository(self) -> None:
        self.root.mkdir()
        git(self.root, "init", "-q", "-b", "main")
        self._apply([("write", "a.txt", b"base a\n"), ("write", "dir/x.bin", b"\x00\x01")])
        self._apply([("chmod", "dir/x.bin", b"")])
        (self.root / ".gitignore").write_text("*.log\n")
        (self.root / ".gitattributes").write_text("* text=auto\n")
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", "base")
        self._apply([("write", "b c.txt", b"untracked at start\n")])
        self.start = self._git_state()
        self.ws = GitWorkspace.open(self.root, "seq", auto_commit=self.auto_commit)

    def teardown(self) -> None:
        if hasattr(self, "ws"):
            self.ws.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------------

    def _apply(self, ops: list[tuple[str, str, bytes]]) -> None:
        for kind, rel, content in ops:
            path = self.root / rel
            old = self.model.get(rel)
            if kind in ("write", "link"):
                path.parent.mkdir(parents=True, exist_ok=True)
                if old and old[0] == "link":
                    path.unlink()  # never write through a link into its target
            if kind == "write":
                path.write_bytes(content)
                perm = old[2] if old and old[0] == "file" else 0o644
                path.chmod(perm)
                self.model[rel] = ("file", content, perm)
            elif kind == "link":
                target = content if content in LINK_TARGETS else LINK_TARGETS[0]
                path.unlink(missing_ok=True)
                path.symlink_to(os.fsdecode(target))
                self.model[rel] = ("link", target, 0)
            elif kind == "delete" and old:
                path.unlink()
                del self.model[rel]
                # The model has no folders: prune those left empty (folders have their own tests).
                parent = path.parent
                while parent != self.root and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
            elif kind == "chmod" and old and old[0] == "file":
                perm = PERMS[(PERMS.index(old[2]) + 1 + len(content) % 3) % len(PERMS)]
                path.chmod(perm)
                self.model[rel] = ("file", old[1], perm)

    def _git_state(self) -> tuple[str, str, str, str]:
        index = self.root / ".git" / "index"
        refs = "\n".join(
            line
            for line in git(
                self.root, "for-each-ref", "--format=%(refname) %(objectname)"
            ).splitlines()
            if not line.startswith("refs/codeagent/")
        )
        head_file = (self.root / ".git" / "HEAD").read_text()
        return head_file, git(self.root, "rev-parse", "HEAD"), _digest(index), refs

    def _disk(self) -> dict[str, FileState]:
        found: dict[str, FileState] = {}
        for dirpath, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d != ".git"]
            for name in files:
                full = Path(dirpath, name)
                rel = full.relative_to(self.root).as_posix()
                if rel in (".gitignore", ".gitattributes"):
                    continue
                if full.is_symlink():
                    found[rel] = ("link", os.fsencode(os.readlink(full)), 0)
                else:
                    perm = stat.S_IMODE(full.lstat().st_mode)
                    found[rel] = ("file", full.read_bytes(), perm)
        return found

    # -- rules --------------------------------------------------------------------------------

    @rule(ops=OPS)
    def agent_turn(self, ops: list[tuple[str, str, bytes]]) -> None:
        self.turns += 1
        turn_id = f"turn-{self.turns}"
        before = dict(self.model)
        self.ws.before_write(turn_id)
        self._apply(ops)
        record = self.ws.after_turn(turn_id, f"turn {self.turns}")
        # Ignored files are checkpointed too (a command may delete them), so they count.
        changed = sorted(
            p for p in set(before) | set(self.model) if before.get(p) != self.model.get(p)
        )
        if not changed:
            assert record is None
            return
        assert record is not None
        assert list(record.files) == changed
        self.undo_stack.append(
            ({p: before.get(p) for p in changed}, {p: self.model.get(p) for p in changed})
        )
        self.redo_stack.clear()
        if self.auto_commit:
            assert record.commit_error == ""
            if record.commit:
                self.commits.append((record.commit, record.files))
            else:
                # Nothing to commit: HEAD already holds these files as the turn left them
                # (e.g. the turn only deleted an untracked file).
                for path in set(changed) - IGNORED:  # ignored files are never committed
                    listed = git(self.root, "ls-tree", "-z", "--name-only", "HEAD", "--", path)
                    in_head = bool(listed.strip("\0"))
                    assert in_head == (path in self.model)

    @rule(agent_ops=OPS, user_ops=OPS, patch=st.booleans())
    def tracked_turn_with_user_edits(
        self,
        agent_ops: list[tuple[str, str, bytes]],
        user_ops: list[tuple[str, str, bytes]],
        patch: bool,
    ) -> None:
        """The runner brackets the agent's write; the user saves files before and after it."""
        self.turns += 1
        turn_id = f"turn-{self.turns}"
        self.ws.before_write(turn_id)
        self._apply(user_ops[:1])  # saved while the model was thinking
        before = dict(self.model)
        paths = sorted({rel for _kind, rel, _content in agent_ops}) if patch else None
        self.ws.begin_change(turn_id, paths)
        self._apply(agent_ops)
        self.ws.end_change(turn_id)
        after = dict(self.model)
        self._apply(user_ops[1:])  # saved after the agent's write, same turn
        record = self.ws.after_turn(turn_id, f"turn {self.turns}")
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        if not changed:
            assert record is None
            return
        assert record is not None
        assert list(record.files) == changed
        self.undo_stack.append(
            ({p: before.get(p) for p in changed}, {p: after.get(p) for p in changed})
        )
        self.redo_stack.clear()
        if self.auto_commit and record.commit:
            self.commits.append((record.commit, record.files))

    @rule(ops=OPS)
    def user_edit(self, ops: list[tuple[str, str, bytes]]) -> None:
        self._apply(ops)

    @rule()
    def undo(self) -> None:
        self._move(self.undo_stack, self.redo_stack, self.ws.undo, forward=False)

    @rule()
    def redo(self) -> None:
        self._move(self.redo_stack, self.undo_stack, self.ws.redo, forward=True)

    def _move(self, source, target, action, *, forward: bool) -> None:
        result = action()
        if not source:
            assert not result.ok
            return
        before, after = source[-1]
        expected_now, wanted = (before, after) if forward else (after, before)
        conflicted = sorted(p for p in expected_now if self.model.get(p) != expected_now[p])
        if conflicted:
            assert not result.ok, result.message
            assert sorted(result.files) == conflicted
            return
        assert result.ok, result.message
        for path, state in wanted.items():
            if state is None:
                self.model.pop(path, None)
            else:
                self.model[path] = state
        target.append(source.pop())

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def tree_matches_model(self) -> None:
        if hasattr(self, "ws"):
            assert self._disk() == self.model

    @invariant()
    def git_state_untouched(self) -> None:
        if not hasattr(self, "ws"):
            return
        if not self.auto_commit:
            assert self._git_state() == self.start
            return
        head_file, head, _index, _refs = self._git_state()
        assert head_file == self.start[0]  # still on the same branch
        expected_head = self.commits[-1][0] if self.commits else self.start[1].strip()
        assert head.strip() == expected_head
        for commit, files in self.commits:
            touched = git(
                self.root, "diff-tree", "-r", "-z", "--name-only", "--no-commit-id", commit
            )
            assert set(filter(None, touched.split("\0"))) <= set(files)


class AutoCommitMachine(CheckpointMachine):
    auto_commit = True


_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestCheckpointSequences = CheckpointMachine.TestCase
TestCheckpointSequences.settings = _SETTINGS
TestAutoCommitSequences = AutoCommitMachine.TestCase
TestAutoCommitSequences.settings = settings(_SETTINGS, max_examples=8)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
