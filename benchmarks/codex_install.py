"""Codex CLI for the peer benchmark: installed from npm into the benchmark's own cache.

``ensure_codex()`` runs ``npm install --prefix benchmarks/.cache/codex @openai/codex@VERSION``
once (the cache is gitignored) and returns the native binary that package ships for this
platform, so the benchmark times Codex's own Rust binary, not the Node launcher in front of it.
Anything that keeps it from working (no npm, no registry, no binary for this platform) is a
:class:`CodexUnavailable` whose message is the report's skip reason.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from benchmarks.server_handle import REPO

#: The version measured; pinned so two reports compare the same client.
CODEX_VERSION = "0.171.0"
CACHE = REPO / "benchmarks" / ".cache"
PACKAGE = "@openai/codex"


class CodexUnavailable(RuntimeError):
    """Codex cannot be installed or run here; the message says why (a report skip reason)."""


def native_binary(prefix: Path) -> Path | None:
    """The platform binary inside an npm install at ``prefix`` (the package puts it under
    ``node_modules/@openai/codex-<platform>/vendor/<target triple>/bin/codex``)."""
    found = sorted(prefix.glob("node_modules/@openai/codex*/vendor/*/bin/codex"))
    return found[0] if found else None


def installed_version(binary: Path) -> str:
    """``codex --version`` of ``binary`` (e.g. ``codex-cli 0.171.0``)."""
    proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    return proc.stdout.strip() or proc.stderr.strip()


def ensure_codex(version: str = CODEX_VERSION, cache: Path = CACHE) -> Path:
    """The native Codex binary of ``version``, installing it into ``cache`` when missing."""
    prefix = cache / f"codex-{version}"
    binary = native_binary(prefix)
    if binary is not None and version in installed_version(binary):
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise CodexUnavailable("npm is not installed, so Codex CLI could not be installed")
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"{PACKAGE}@{version}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired as exc:
        raise CodexUnavailable(f"`npm install {PACKAGE}@{version}` took over 300 s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-600:]
        raise CodexUnavailable(f"`npm install {PACKAGE}@{version}` failed:\n\n```\n{tail}\n```")
    binary = native_binary(prefix)
    if binary is None:
        raise CodexUnavailable(
            f"{PACKAGE}@{version} installed, but it has no native binary for this platform"
        )
    return binary
