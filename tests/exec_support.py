"""Shared helpers for the ``codeagent exec`` end-to-end security tests: a git repository, the
exec subprocess with isolated config/state directories, and a raw HTTP server that echoes the
Authorization header back in a 401 (the way some proxies do)."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def realistic_key() -> str:
    """A key shaped like a real project key: ``sk-proj-`` and 40 random characters."""
    alphabet = string.ascii_letters + string.digits
    return "sk-proj-" + "".join(secrets.choice(alphabet) for _ in range(40))


GREET_APP = 'def greet():\n    print("Hi")\n'


def make_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository with ``files`` committed (default: ``app.py`` with ``greet``)."""
    root.mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "T"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    for name, text in (files or {"app.py": GREET_APP}).items():
        (root / name).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


def exec_env(tmp_path: Path, key: str, **extra: str) -> dict[str, str]:
    """The environment of an exec run: no CODEAGENT_/OPENAI_ leaks, its own state and config."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=key,
        **extra,
    )
    return environment


def run_exec(
    repo: Path, tmp_path: Path, key: str, *args: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m codeagent exec ARGS`` in ``repo`` (stdin empty, not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", *args],
        cwd=repo,
        input="",
        capture_output=True,
        text=True,
        env=exec_env(tmp_path, key, **extra_env),
        timeout=90,
    )


def write_user_config(tmp_path: Path, text: str) -> None:
    """The user's own config file (``CODEAGENT_CONFIG_DIR/config.toml``)."""
    (tmp_path / "conf").mkdir(parents=True, exist_ok=True)
    (tmp_path / "conf" / "config.toml").write_text(text)


def write_repo_config(repo: Path, text: str) -> Path:
    """The repository's ``.codeagent/config.toml``."""
    path = repo / ".codeagent" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def files_containing(needle: str, *roots: Path) -> list[Path]:
    """Every file under ``roots`` whose bytes contain ``needle`` (.git objects included)."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and needle.encode() in path.read_bytes():
                found.append(path)
    return found


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers everything with a 401 whose message repeats the Authorization header."""

    protocol_version = "HTTP/1.1"  # the WebSocket client rejects an HTTP/1.0 status line

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        token = self.headers.get("authorization", "").removeprefix("Bearer ")
        self.server.seen.append(token)  # type: ignore[attr-defined]
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {token}. Find your key at ...",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@contextmanager
def echoing_401_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server refusing every request with a 401 that echoes the key.

    Yields ``(base_url, tokens_seen)``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
