"""Issue 12, "Patches survive a crash": a real subprocess applies a 15-file patch (updates,
creates, deletes, moves, a 0600 and a 0755 file) and is SIGKILLed at a step of the apply; after
the next start's recovery the tree is byte for byte and mode for mode either all-old or all-new,
and no temporary file or journal is left anywhere.

The kill point comes from ``CODEAGENT_TEST_CRASH_AT_STEP``: the Nth file-system step of the apply
(journal, staging, commit mark, each rename of the swap, each backup removal) SIGKILLs the
process itself, so every step of the swap is hit for certain, not by timing luck.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.agent.tools.patch import parse_patch, prepare_patch
from codeagent.workspace.journal import CRASH_ENV, journal_dir, recover

CHILD = """
import sys
from pathlib import Path
from codeagent.agent.tools.patch import parse_patch, prepare_patch
root, patch = Path(sys.argv[1]), Path(sys.argv[2]).read_text()
prepare_patch(parse_patch(patch), root).apply()
"""


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv(CRASH_ENV, raising=False)
    return tmp_path / "state"


def make_tree(root: Path) -> None:
    (root / "src" / "pkg").mkdir(parents=True)
    for index in range(6):
        (root / "src" / f"mod{index}.py").write_text(f"VALUE = {index}\n\n\ndef f():\n    pass\n")
    (root / "secret.env").write_text("TOKEN=old\n")
    os.chmod(root / "secret.env", 0o600)
    (root / "run.sh").write_text("#!/bin/sh\necho old\n")
    os.chmod(root / "run.sh", 0o755)
    for name in ("gone1.txt", "gone2.txt", "src/pkg/gone3.txt"):
        (root / name).write_text(f"{name}\n")
    (root / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    os.chmod(root / "tool.sh", 0o755)
    (root / "notes.md").write_text("# Notes\n")


PATCH = (
    "*** Begin Patch\n"
    + "".join(
        f"*** Update File: src/mod{i}.py\n@@\n-VALUE = {i}\n+VALUE = {i * 10}\n" for i in range(6)
    )
    + "*** Update File: secret.env\n@@\n-TOKEN=old\n+TOKEN=new\n"
    + "*** Update File: run.sh\n@@\n-echo old\n+echo new\n"
    + "*** Add File: new/deep/one.py\n+ONE = 1\n"
    + "*** Add File: two.txt\n+two\n"
    + "*** Add File: src/pkg/three.txt\n+three\n"
    + "*** Delete File: gone1.txt\n*** Delete File: gone2.txt\n*** Delete File: src/pkg/gone3.txt\n"
    + "*** Update File: tool.sh\n*** Move to: bin/tool.sh\n@@\n-echo tool\n+echo moved\n"
    + "*** Update File: notes.md\n*** Move to: docs/notes.md\n@@\n-# Notes\n+# Moved notes\n"
    + "*** End Patch\n"
)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file (bytes and mode) and directory under ``root``."""
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        key = str(path.relative_to(root))
        if stat.S_ISDIR(info.st_mode):
            found[key] = ("dir",)
        else:
            found[key] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def leftovers(root: Path, state: Path) -> list[str]:
    stray = [str(p) for p in root.rglob("*") if ".codeagent-" in p.name]
    folder = journal_dir()
    if folder.exists():
        stray += [str(p) for p in folder.iterdir()]
    return stray


def run_child(root: Path, patch_file: Path, state: Path, step: int | None):
    env = {**os.environ, "CODEAGENT_STATE_DIR": str(state)}
    if step is not None:
        env[CRASH_ENV] = str(step)
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(patch_file)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def trees(tmp_path: Path):
    """(template, old snapshot, new snapshot, patch file)."""
    template = tmp_path / "template"
    template.mkdir()
    make_tree(template)
    old = snapshot(template)
    done = tmp_path / "done"
    shutil.copytree(template, done, symlinks=True)
    prepare_patch(parse_patch(PATCH), done).apply()
    new = snapshot(done)
    assert old != new
    patch_file = tmp_path / "patch.txt"
    patch_file.write_text(PATCH)
    return template, old, new, patch_file


def test_an_uninterrupted_apply_keeps_modes_and_leaves_nothing_behind(trees, state_dir: Path):
    _template, _old, new, _patch = trees
    assert new["secret.env"][2] == 0o600  # a 0600 file stays 0600
    assert new["run.sh"][2] == 0o755
    assert new["bin/tool.sh"][2] == 0o755  # a move keeps the mode of its source
    umask = os.umask(0)
    os.umask(umask)
    assert new["two.txt"][2] == 0o666 & ~umask  # a new file gets the normal umask mode
    assert "new/deep" in new and "gone1.txt" not in new


def test_sigkill_at_every_step_and_at_random_steps_leaves_all_old_or_all_new(
    trees, tmp_path: Path, state_dir: Path
):
    template, old, new, patch_file = trees
    # How many steps a full apply has: the first step number at which the child survives.
    steps = 1
    while True:
        root = tmp_path / f"count{steps}"
        shutil.copytree(template, root, symlinks=True)
        result = run_child(root, patch_file, state_dir, steps)
        recover(root)
        if result.returncode == 0:
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        steps += 1
        assert steps < 200
    total = steps - 1
    assert total >= 30  # journal, 2 dirs, 13 staged files, commit, 20+ swap renames, cleanup
    rng = random.Random(12)
    trials = list(range(1, total + 1))
    trials += [rng.randint(1, total) for _ in range(100 - len(trials))]
    outcomes = {"old": 0, "new": 0}
    for number, step in enumerate(trials):
        root = tmp_path / f"t{number}"
        shutil.copytree(template, root, symlinks=True)
        result = run_child(root, patch_file, state_dir, step)
        assert result.returncode == -signal.SIGKILL, (step, result.stderr)
        assert leftovers(root, state_dir) or step == total, "a crash mid-apply leaves a journal"
        messages = recover(root)  # what the next start does
        after = snapshot(root)
        assert after in (old, new), f"mixed tree after a kill at step {step}/{total}"
        assert leftovers(root, state_dir) == [], step
        outcomes["new" if after == new else "old"] += 1
        if step < total:
            assert len(messages) == 1 and "interrupted by a crash" in messages[0], messages
            expected = "new content" if after == new else "as they were before"
            assert expected in messages[0]
        shutil.rmtree(root)
    # Kills before the commit mark roll back, kills after it finish: both happened.
    assert outcomes["old"] >= 10 and outcomes["new"] >= 10, outcomes
    assert sum(outcomes.values()) >= 100


def test_recovery_leaves_a_live_apply_alone(trees, tmp_path: Path, state_dir: Path):
    """A second session's start must not 'recover' a patch another process is still writing."""
    import fcntl

    from codeagent.workspace.journal import Entry, Journal

    template, old, _new, _patch = trees
    journal = Journal.begin(Path(os.path.realpath(template)), "cafe0001", [
        Entry(str(template / "two.txt"), str(template / ".two.txt.codeagent-cafe0001-0-new"), None)
    ], [])  # fmt: skip
    try:
        assert recover(template) == []
        assert journal.path.exists()
    finally:
        journal.close()
    assert not journal.path.exists()
    assert fcntl  # the lock is an flock on the journal itself
    assert snapshot(template) == old


def test_a_commit_mark_cut_short_counts_as_not_committed(trees, state_dir: Path):
    """A crash while appending the commit mark: the change is undone, not half finished."""
    from codeagent.workspace.journal import Entry, Journal

    template, old, _new, _patch = trees
    real = Path(os.path.realpath(template))
    temp = real / ".two.txt.codeagent-beef0002-0-new"
    temp.write_text("staged\n")
    journal = Journal.begin(real, "beef0002", [Entry(str(real / "two.txt"), str(temp), None)], [])
    os.write(journal._fd, b'{"comm')  # the process died in the middle of this write
    os.close(journal._fd)
    messages = recover(template)
    assert len(messages) == 1 and "as they were before" in messages[0]
    assert snapshot(template) == old
    assert leftovers(template, state_dir) == []
