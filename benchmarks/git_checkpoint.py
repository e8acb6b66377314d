"""Checkpoint and undo time on a large repository (default 10,000 files).

Builds a repository in a temporary directory (100 folders x 100 small files, one commit, plus a
few hundred untracked files), then repeats a turn through ``GitWorkspace``: ``before_write``
(checkpoint), an edit of 20 files + 5 creations + 5 deletions, ``after_turn``, ``undo`` and
``redo``. Reports the median of each step over the runs, next to ``git status`` on the same tree
as a familiar yardstick.

Run: ``.venv/bin/python benchmarks/git_checkpoint.py [--files N] [--runs N] [--smoke]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeagent.workspace.git import GitWorkspace

_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
EDITED, CREATED, DELETED = 20, 5, 5


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=root, env={**os.environ, **_ENV}, check=True, capture_output=True
    )


def build_repo(root: Path, n_files: int) -> list[str]:
    """A committed repo of ``n_files`` small text files, plus untracked ones; returns paths."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    per_dir = 100
    paths = []
    for i in range(n_files):
        rel = f"pkg{i // per_dir:03d}/module_{i % per_dir:03d}.py"
        path = root / rel
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"# file {i}\n" + "def f():\n    return 1\n" * 20)
        paths.append(rel)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "bench base")
    scratch = root / "scratch"
    scratch.mkdir()
    for i in range(max(1, n_files // 40)):
        (scratch / f"notes_{i}.txt").write_text(f"untracked {i}\n")
    return paths


def _timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(n_files: int = 10_000, runs: int = 5) -> dict[str, Any]:
    """Build the repository and time each step; returns medians in milliseconds."""
    tmp = Path(tempfile.mkdtemp(prefix="codeagent-git-bench-"))
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    try:
        root = tmp / "repo"
        build_start = time.perf_counter()
        paths = build_repo(root, n_files)
        build_s = time.perf_counter() - build_start
        ws = GitWorkspace.open(root, "bench")
        steps: dict[str, list[float]] = {
            k: [] for k in ("git_status", "checkpoint", "after_turn", "undo", "redo")
        }
        for run in range(runs):
            steps["git_status"].append(_timed(lambda: _git(root, "status", "--porcelain")))
            turn = f"turn-{run}"
            steps["checkpoint"].append(_timed(lambda turn=turn: ws.before_write(turn)))
            _make_turn_changes(root, paths, run)
            steps["after_turn"].append(_timed(lambda turn=turn: ws.after_turn(turn, "bench")))
            undo_ms = _timed(lambda: _check(ws.undo()))
            steps["undo"].append(undo_ms)
            steps["redo"].append(_timed(lambda: _check(ws.redo())))
        ws.close()
        result: dict[str, Any] = {
            "files": n_files,
            "runs": runs,
            "changed_per_turn": EDITED + CREATED + DELETED,
            "build_repo_s": round(build_s, 2),
        }
        for name, values in steps.items():
            result[f"{name}_ms"] = round(statistics.median(values) * 1000, 1)
        result["checkpoint_vs_git_status"] = round(
            result["checkpoint_ms"] / max(result["git_status_ms"], 0.001), 2
        )
        return result
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(tmp, ignore_errors=True)


def _make_turn_changes(root: Path, paths: list[str], run: int) -> None:
    """Edit, create and delete files, spread across the tree, different for every run."""
    stride = max(1, len(paths) // (EDITED + DELETED + 1))
    for k in range(EDITED):
        path = root / paths[(k * stride + run) % len(paths)]
        path.write_text(path.read_text() + f"# edit {run}\n")
    for k in range(CREATED):
        folder = (root / paths[(k * stride) % len(paths)]).parent
        folder.mkdir(exist_ok=True)  # an earlier turn's deletions may have emptied it
        (folder / f"new_{run}_{k}.py").write_text(f"x = {run}\n")
    for k in range(DELETED):
        victim = root / paths[((EDITED + k) * stride + run) % len(paths)]
        victim.unlink(missing_ok=True)


def _check(result: Any) -> None:
    if not result.ok:
        raise RuntimeError(result.message)


def markdown(result: dict[str, Any]) -> str:
    """The result as a small Markdown table."""
    rows = [
        ("git status --porcelain (yardstick)", result["git_status_ms"]),
        ("checkpoint (before_write)", result["checkpoint_ms"]),
        ("after_turn (snapshot + record)", result["after_turn_ms"]),
        ("undo", result["undo_ms"]),
        ("redo", result["redo_ms"]),
    ]
    lines = [
        f"Repository: {result['files']} tracked files + untracked; turn changes "
        f"{result['changed_per_turn']} files; median of {result['runs']} runs "
        f"(build {result['build_repo_s']} s).",
        "",
        "| step | median ms |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Checkpoint costs {result['checkpoint_vs_git_status']}x a `git status` on the same tree.",
    ]
    return "\n".join(lines)


def main(smoke: bool = False, n_files: int = 10_000, runs: int = 5) -> dict[str, Any]:
    """Measure, print the Markdown table, return the numbers (for benchmarks/run_all)."""
    if smoke:
        n_files, runs = min(n_files, 300), min(runs, 2)
    result = measure(n_files, runs)
    print(markdown(result))
    return result


def run(report: Any = None, smoke: bool = False) -> dict[str, Any]:
    """Alias of ``main`` for runners that call ``run``."""
    return main(smoke=smoke)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="300 files, 2 runs")
    args = parser.parse_args()
    main(smoke=args.smoke, n_files=args.files, runs=args.runs)
