"""One ``codeagent exec`` run as a subprocess, with its JSON events timestamped on arrival."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.server_handle import REPO, child_env


@dataclass
class ExecResult:
    """What one run produced: exit code, wall time, CPU time, events (with ``t`` = arrival
    time on ``time.monotonic``), and the tail of stderr for error messages."""

    exit_code: int
    wall: float
    cpu: float
    started: float
    events: list[dict[str, Any]] = field(default_factory=list)
    stderr_tail: str = ""
    stdout_other: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("kind") == kind]


def run_exec(
    task: str,
    *,
    cwd: Path,
    base_url: str,
    transport: str,
    home: Path,
    ca_file: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 300.0,
) -> ExecResult:
    """Run ``codeagent exec --json`` on ``task`` in ``cwd`` and collect its events.

    ``home`` isolates config and session files (XDG dirs) from the user's own. ``ca_file`` is
    the CA the client must trust (``SSL_CERT_FILE``).
    """
    argv = [
        sys.executable,
        "-m",
        "codeagent",
        "exec",
        "--json",
        "--transport",
        transport,
        "--approval-policy",
        "full-auto",
        "--base-url",
        base_url,
        *(extra_args or []),
        task,
    ]
    env = client_env(home, base_url)
    # Nothing from the caller's environment may reroute or reconfigure the client under test.
    for name in (
        "CODEAGENT_TRANSPORT",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        env.pop(name, None)
    if ca_file is not None:
        env["SSL_CERT_FILE"] = str(ca_file)
    return run_jsonl(argv, cwd=cwd, env=env, timeout=timeout)


def run_jsonl(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300.0
) -> ExecResult:
    """Run ``argv`` (any program printing JSON lines on stdout, e.g. ``codex exec --json``),
    timestamp each line on arrival and collect exit code, wall and CPU time (stdin closed)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    events: list[dict[str, Any]] = []
    other: list[str] = []
    err_chunks: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout
        for line in proc.stdout:
            now = time.monotonic()
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                other.append(line.rstrip())
                continue
            if isinstance(event, dict):
                event["t"] = now
                events.append(event)

    def read_stderr() -> None:
        assert proc.stderr
        err_chunks.append(proc.stderr.read())

    readers = [threading.Thread(target=read_stdout), threading.Thread(target=read_stderr)]
    for r in readers:
        r.start()
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return ExecResult(
        exit_code=proc.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        started=started,
        events=events,
        stderr_tail="".join(err_chunks)[-2000:],
        stdout_other=other,
    )


__all__ = ["REPO", "ExecResult", "run_exec", "run_jsonl"]


def client_env(home: Path, base_url: str, **extra: str) -> dict[str, str]:
    """A codeagent client's environment: config, sessions and trust records in ``home``, the
    local server as the endpoint, a key that is not a real one (plus ``extra``)."""
    return child_env(
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY="sk-benchmark-not-a-real-key",
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        CODEAGENT_STATE_DIR=str(home / "state" / "codeagent"),
        **extra,
    )
