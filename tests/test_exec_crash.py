"""Issue 12, end to end: ``codeagent exec`` itself is SIGKILLed in the middle of applying a
12-file patch (inside the swap, and once before its commit mark); the next ``codeagent exec`` in
that repository finishes or undoes it before doing anything else, says so, and leaves the tree
exactly all-new (or all-old) with no temporary file anywhere."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.server.script import Episode, Script, Step, function_call, text

KEY = "sk-crash-test-key-1234567890"
UPDATES = 6
PATCH = (
    "*** Begin Patch\n"
    + "".join(f"*** Update File: m{i}.py\n@@\n-X = {i}\n+X = {i + 100}\n" for i in range(UPDATES))
    + "*** Add File: pkg/new/a.py\n+A = 1\n*** Add File: b.txt\n+b\n"
    + "*** Delete File: old1.txt\n*** Delete File: old2.txt\n"
    + "*** Update File: run.sh\n*** Move to: bin/run.sh\n@@\n-echo 1\n+echo 2\n"
    + "*** Update File: secret.env\n@@\n-K=1\n+K=2\n"
    + "*** End Patch\n"
)
#: The steps of this apply before its swap: the journal, 3 new directories (pkg, pkg/new, bin),
#: 10 staged files and the commit mark.
SWAP_STARTS = 1 + 3 + 10 + 1 + 1


def make_repo(root: Path) -> Path:
    root.mkdir()
    for index in range(UPDATES):
        (root / f"m{index}.py").write_text(f"X = {index}\n")
    (root / "old1.txt").write_text("1\n")
    (root / "old2.txt").write_text("2\n")
    (root / "run.sh").write_text("#!/bin/sh\necho 1\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "secret.env").write_text("K=1\n")
    os.chmod(root / "secret.env", 0o600)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "T"],
        ["add", "-A"],
        ["commit", "-q", "-m", "init"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def tree(root: Path) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            found[str(rel)] = ("dir",)
        else:
            found[str(rel)] = (path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def run_exec(repo: Path, tmp_path: Path, server, *args: str, crash_at: int | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))}
    env.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=KEY,
    )
    if crash_at is not None:
        env["CODEAGENT_TEST_CRASH_AT_STEP"] = str(crash_at)
    return subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", "--json", "--full-auto",
         "--base-url", server.base_url, *args],
        cwd=repo, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def stray(repo: Path, tmp_path: Path) -> list[str]:
    found = [str(p) for p in repo.rglob("*") if ".codeagent-" in p.name]
    journals = tmp_path / "state" / "journals"
    return found + ([str(p) for p in journals.iterdir()] if journals.exists() else [])


@pytest.mark.parametrize(
    ("crash_at", "outcome"),
    [(SWAP_STARTS + 7, "new"), (SWAP_STARTS - 3, "old")],
    ids=["inside-the-swap", "before-the-commit"],
)
def test_exec_killed_mid_apply_is_recovered_by_the_next_exec(
    make_server, tmp_path: Path, crash_at: int, outcome: str
) -> None:
    script = Script(
        [
            Episode([Step([function_call("apply_patch", {"input": PATCH})]),
                     Step([text("Patched.")])], match="patch"),
            Episode([Step([text("Hello again.")])]),
        ]
    )  # fmt: skip
    server = make_server(script, api_key=KEY)
    reference = make_repo(tmp_path / "reference")
    old = tree(reference)
    done = run_exec(reference, tmp_path / "ref", server, "patch it")
    assert done.returncode == 0, done.stderr
    new = tree(reference)
    assert new != old and stray(reference, tmp_path / "ref") == []

    repo = make_repo(tmp_path / "repo")
    killed = run_exec(repo, tmp_path, server, "patch it", crash_at=crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert stray(repo, tmp_path), "the kill should have left the apply half done"
    if outcome == "new":
        assert tree(repo) not in (old, new), "a kill inside the swap leaves a mixed tree"

    again = run_exec(repo, tmp_path, server, "hello")
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    notices = [e["text"] for e in events if e["kind"] == "notice" and e["category"] == "recovery"]
    assert len(notices) == 1, events
    if outcome == "new":
        assert "finished writing it, so all 13 files have their new content" in notices[0]
    else:
        assert "undid it, so all 13 files are as they were before" in notices[0]
    assert tree(repo) == (new if outcome == "new" else old)
    assert stray(repo, tmp_path) == []
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert ".codeagent-" not in status
    shutil.rmtree(reference)
