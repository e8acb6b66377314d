"""A description of the machine a benchmark ran on (for the report header)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("codeagent", "textual", "websockets", "httpx", "uvicorn", "starlette", "pydantic")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision(repo: Path) -> str:
    """The short commit of ``repo`` (with "+dirty" when the tree has changes), or "unknown"."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        return rev or "unknown"
    except OSError:
        return "unknown"


def describe(repo: Path) -> list[tuple[str, str]]:
    """(label, value) pairs: CPU, cores, memory, OS, kernel, Python and package versions."""
    rows = [
        ("CPU", cpu_model()),
        ("Cores (os.cpu_count)", str(os.cpu_count())),
        ("Usable cores (affinity)", str(len(os.sched_getaffinity(0)))),
        ("Kernel", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("codeagent commit", git_revision(repo)),
    ]
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        rows.insert(2, ("Memory", f"{mem_kb / 1024 / 1024:.1f} GiB"))
    except (OSError, StopIteration, ValueError):
        pass
    for name in PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows
