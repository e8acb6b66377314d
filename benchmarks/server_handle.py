"""The parent side of ``server_proc``: start the server process, reset it, fetch its records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def child_env(**extra: str) -> dict[str, str]:
    """The environment for benchmark subprocesses: the repo importable, output unbuffered."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class ServerProcess:
    """A ``server_proc`` child. ``prefix`` runs it elsewhere (``ip netns exec NAME``).

    ``port`` is the server's port once ``start()`` returns. ``dump()`` returns the server's
    ``record`` and ``timeline`` as plain dicts; ``reset()`` clears them.
    """

    def __init__(
        self,
        script: str,
        *,
        host: str = "127.0.0.1",
        certfile: Path | None = None,
        keyfile: Path | None = None,
        prefix: list[str] | None = None,
        scratch: Path,
    ) -> None:
        argv = [sys.executable, "-m", "benchmarks.server_proc", "--script", script, "--host", host]
        if certfile:
            argv += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
        self.argv = [*(prefix or []), *argv]
        self.scratch = scratch
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None
        self._dumps = 0

    def start(self) -> ServerProcess:
        """Start the child and wait for its port line; raise with its stderr if it dies."""
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line:
            self._proc.wait(timeout=10)
            err = self._proc.stderr.read() if self._proc.stderr else ""
            raise RuntimeError(f"benchmark server did not start: {err.strip()[-1500:]}")
        self.port = int(json.loads(line)["port"])
        return self

    def _command(self, text: str) -> None:
        assert self._proc and self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(text + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"benchmark server answered {answer!r} to {text!r}")

    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._command("reset")

    def dump(self) -> dict[str, Any]:
        """The record and timeline since the last reset."""
        self._dumps += 1
        path = self.scratch / f"server-dump-{self._dumps}.json"
        self._command(f"dump {path}")
        return json.loads(path.read_text())

    def stop(self) -> None:
        """Ask the child to quit; kill it if it does not within 10 s."""
        if self._proc is None:
            return
        try:
            if self._proc.stdin:
                self._proc.stdin.write("quit\n")
                self._proc.stdin.close()
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
