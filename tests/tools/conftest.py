"""Helpers for the tools tests: a small repository on disk and a snapshot of its files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A directory with a couple of source files (not a git repository)."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        "import sys\n\n\ndef greet():\n    print('Hi')\n\n\ndef main():\n    greet()\n"
        "    return 0\n"
    )
    (root / "README.md").write_text("# Demo\n\nSome text.\n")
    (root / "obsolete.txt").write_text("old\n")
    return root


def _live_processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if token in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def snapshot():
    """``snapshot(root)``: every file under ``root`` (relative path -> bytes), to prove that
    nothing changed."""
    return _snapshot


def _surviving(token: str, wait: bool = True) -> list[int]:
    # SIGKILL is delivered asynchronously: on a loaded machine a killed process can take a
    # moment to die, so give it a while (a process that was not killed lives far longer).
    deadline = time.monotonic() + (15.0 if wait else 0.0)
    while (found := _live_processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.fixture
def live_processes():
    """``live_processes(token, wait=True)``: PIDs of running (not zombie) processes whose
    command line contains ``token`` (after letting killed ones die, unless ``wait=False``), to
    prove that nothing a command started is left behind."""
    return _surviving
