"""SIGKILL a process applying a 15-file patch at random moments (by time, no hook) and count the
trees left mixed and the temporary files left behind, after the next start's recovery.

    .venv/bin/python benchmarks/patch_crash_kills.py --trials 100

To measure another checkout (e.g. one from before the journal), put it first on the path:
``PYTHONPATH=/path/to/old/tree .venv/bin/python benchmarks/patch_crash_kills.py``; a tree without
``codeagent.workspace.journal`` is measured without recovery (the numbers for issue 12 are in the
commit message that added this script).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import sys, time
from pathlib import Path
from codeagent.agent.tools.patch import parse_patch, prepare_patch
prepared = prepare_patch(parse_patch(Path(sys.argv[2]).read_text()), Path(sys.argv[1]))
print("ready", flush=True); sys.stdin.readline()
started = time.perf_counter(); prepared.apply()
print("done", time.perf_counter() - started, flush=True)
"""
PATCH = (
    "*** Begin Patch\n"
    + "".join(f"*** Update File: m{i}.py\n@@\n-X = {i}\n+X = {i * 10}\n" for i in range(8))
    + "*** Add File: new/deep/a.py\n+A = 1\n*** Add File: b.txt\n+b\n*** Add File: c.txt\n+c\n"
    + "*** Delete File: d1.txt\n*** Delete File: d2.txt\n*** Delete File: d3.txt\n"
    + "*** Update File: run.sh\n*** Move to: bin/run.sh\n@@\n-echo 1\n+echo 2\n"
    + "*** End Patch\n"
)


def make_tree(root: Path, pad: int) -> None:
    root.mkdir()
    for i in range(8):  # large files, so an apply lasts long enough to be hit by a timed kill
        (root / f"m{i}.py").write_text(f"X = {i}\n# {'x' * pad}\n")
    for name in ("d1.txt", "d2.txt", "d3.txt"):
        (root / name).write_text(name)
    (root / "run.sh").write_text("#!/bin/sh\necho 1\n")
    os.chmod(root / "run.sh", 0o755)


def snapshot(root: Path) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        key = str(path.relative_to(root))
        is_dir = stat.S_ISDIR(info.st_mode)
        found[key] = ("dir",) if is_dir else (path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def start(root: Path, patch: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(patch)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--pad", type=int, default=2_000_000, help="bytes per updated file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codeagent-crash-bench-"))
    os.environ["CODEAGENT_STATE_DIR"] = str(work / "state")
    try:
        from codeagent.workspace.journal import recover
    except ImportError:  # a checkout from before the journal: nothing recovers
        recover = None
    try:
        template = work / "template"
        make_tree(template, args.pad)
        patch = work / "patch.txt"
        patch.write_text(PATCH)
        old = snapshot(template)
        durations = []
        for index in range(3):  # how long an apply takes here, and what all-new looks like
            root = work / f"full{index}"
            shutil.copytree(template, root, symlinks=True)
            child = start(root, patch)
            child.stdout.readline()
            child.stdin.write("\n")
            child.stdin.flush()
            durations.append(float(child.stdout.readline().split()[1]))
            child.wait()
            new = snapshot(root)
            shutil.rmtree(root)
        longest = max(durations)
        rng = random.Random(1)
        mixed = stray = 0
        for index in range(args.trials):
            root = work / f"t{index}"
            shutil.copytree(template, root, symlinks=True)
            child = start(root, patch)
            child.stdout.readline()
            child.stdin.write("\n")
            child.stdin.flush()
            time.sleep(rng.uniform(0, longest))
            child.send_signal(signal.SIGKILL)
            child.wait()
            if recover is not None:
                recover(root)  # what the next start does
            mixed += snapshot(root) not in (old, new)
            stray += any(".codeagent-" in p.name for p in root.rglob("*"))
            shutil.rmtree(root)
        print(
            f"apply {longest * 1000:.0f} ms; {args.trials} timed SIGKILLs; mixed trees {mixed}; "
            f"trees with temporary files {stray}; recovery {'yes' if recover else 'none'}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
