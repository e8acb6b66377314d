"""Measurement 6: git checkpoint and undo time on a 10k-file repository.

The measurement itself is ``benchmarks/git_checkpoint.py`` (owned by the git-safety part); this
module calls it and turns what it returns (a dict, and/or a Markdown table it prints) into a
report section.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import sys
from typing import Any

from benchmarks.report import Section, Table

TITLE = "6. Git checkpoint and undo"


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(key path, value) rows of a nested dict/list, numbers rounded for reading."""
    rows: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            rows += _flatten(value, f"{prefix}{key}.")
        return rows
    if isinstance(data, list | tuple):
        for i, value in enumerate(data):
            rows += _flatten(value, f"{prefix}{i}.")
        return rows
    value = f"{data:.4f}" if isinstance(data, float) else str(data)
    return [(prefix.rstrip("."), value)]


def _call(func: Any, smoke: bool) -> Any:
    """Call ``func`` with what its signature accepts: a smoke/quick flag, a file count, argv."""
    params = inspect.signature(func).parameters
    kwargs: dict[str, Any] = {}
    for name in ("smoke", "quick"):
        if name in params:
            kwargs[name] = smoke
    for name in ("n_files", "files", "file_count", "num_files"):
        if name in params and smoke:
            kwargs[name] = 300
    for name in ("runs", "repeats", "repetitions"):
        if name in params and smoke:
            kwargs[name] = 1
    if "argv" in params:
        kwargs["argv"] = ["--smoke"] if smoke and "smoke" not in kwargs else []
    return func(**kwargs)


def run(smoke: bool = False) -> Section:
    """Run ``benchmarks.git_checkpoint`` and report what it measured."""
    section = Section("git", TITLE)
    section.method = (
        "Measured by `benchmarks/git_checkpoint.py` (git-safety part): builds a 10,000-file "
        "repository in a temporary directory and times taking a checkpoint and undoing a turn "
        "through `GitWorkspace` (median of a few runs)."
        + (" Smoke mode asks it for a small repository when it supports that." if smoke else "")
    )
    try:
        module = importlib.import_module("benchmarks.git_checkpoint")
    except ImportError as exc:
        section.skipped = f"`benchmarks/git_checkpoint.py` is not available: {exc}"
        return section
    func = getattr(module, "main", None) or getattr(module, "run", None)
    if func is None:
        section.skipped = "`benchmarks/git_checkpoint.py` exposes neither `main()` nor `run()`"
        return section
    out = io.StringIO()
    saved_argv = sys.argv
    sys.argv = ["git_checkpoint.py", *(["--smoke"] if smoke else [])]
    try:
        with contextlib.redirect_stdout(out):
            result = _call(func, smoke)
    finally:
        sys.argv = saved_argv
    printed = out.getvalue().strip()
    printed_table = "|---" in printed or "| ---" in printed
    if isinstance(result, dict) and result and not printed_table:
        table = Table("Results returned by git_checkpoint", ["measure", "value"])
        for key, value in _flatten(result):
            table.add(key, value)
        section.tables.append(table)
    if printed:
        section.raw = printed
    if isinstance(result, dict):
        for key, label in (("checkpoint_ms", "checkpoint (ms)"), ("undo_ms", "undo (ms)")):
            if key in result:
                section.headlines.append(
                    [f"{result.get('files', '?')} files: {label}", str(result[key])]
                )
    if not section.tables and not printed_table:
        section.skipped = "`git_checkpoint` returned no results" + (
            f"; it printed:\n\n```\n{printed[-800:]}\n```" if printed else ""
        )
    return section
