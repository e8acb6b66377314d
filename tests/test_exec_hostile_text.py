"""Issue 11, hole 6: hostile text. Terminal control sequences from the model's answer and from
command output never reach the terminal raw in ``exec``'s output (piped or on a terminal), and
``--json`` stays valid JSON with the sequences as JSON escapes. A key echoed by a server's 401
(the local server's error, or a proxy echoing the Authorization header over WebSocket and HTTP)
never appears on stdout, stderr, in ``--json`` or in any file."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from exec_support import (
    echoing_401_server,
    exec_env,
    files_containing,
    make_repo,
    realistic_key,
    run_exec,
)

from codeagent.server.script import Episode, Script, Step, shell, text

#: What a terminal would act on (every C0 control but newline and tab, DEL, C1).
ACTIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE = (
    "Done ✓ naïve 日本語\x1b]52;c;cm0gLXJmIH4K\x07 title\x1b]0;pwned\x1b\\ clear\x1b[2J\x1b[H"
    " c1\x9b2J end"
)
COMMAND = r"printf 'ran \033]0;owned\007 \033]52;c;ZXZpbA==\007 ok\n'"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def hostile_script() -> Script:
    return Script([Episode([Step([shell([COMMAND])]), Step([text(HOSTILE)])])])


def _assert_inert(output: str) -> None:
    assert not ACTIVE.search(output.replace("\r\n", "\n")), repr(output)


def test_piped_output_has_no_control_sequences(make_server, repo: Path, tmp_path: Path) -> None:
    key = realistic_key()
    server = make_server(hostile_script())
    result = run_exec(repo, tmp_path, key, "--full-auto", "--base-url", server.base_url, "go")
    assert result.returncode == 0, result.stderr
    _assert_inert(result.stdout)
    _assert_inert(result.stderr)
    # the text itself is kept, visibly: nothing the user should see is hidden
    assert "Done ✓ naïve 日本語" in result.stdout and result.stdout.rstrip().endswith("end")
    assert "␛]52;c;cm0gLXJmIH4K␇" in result.stdout
    assert "ran ␛]0;owned␇" in result.stderr


def test_live_terminal_output_has_no_control_sequences(
    make_server, repo: Path, tmp_path: Path
) -> None:
    """stdout on a terminal streams the answer token by token: each piece is made safe."""
    server = make_server(hostile_script())
    controller, terminal = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "codeagent", "exec", "--full-auto", "--base-url",
             server.base_url, "go"],
            cwd=repo, env=exec_env(tmp_path, realistic_key()), stdin=subprocess.DEVNULL,
            stdout=terminal, stderr=subprocess.PIPE, timeout=90,
        )  # fmt: skip
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    shown = b"".join(chunks).decode("utf-8", errors="replace")
    assert result.returncode == 0, result.stderr
    assert "Done ✓ naïve 日本語" in shown
    _assert_inert(shown)


def test_json_lines_stay_valid_and_carry_the_text_as_escapes(
    make_server, repo: Path, tmp_path: Path
) -> None:
    server = make_server(hostile_script())
    result = run_exec(
        repo, tmp_path, realistic_key(), "--json", "--full-auto", "--base-url", server.base_url,
        "go",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _assert_inert(result.stdout)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["kind"] == "turn_completed"
    assert events[-1]["final_text"] == HOSTILE  # machine readers get the exact text
    outputs = [e for e in events if e["kind"] == "tool_output"]
    assert "\x1b]0;owned\x07" in outputs[0]["output"]


@pytest.mark.parametrize("transport", ["websocket", "http"])
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_401_echoing_the_key_never_shows_it(
    make_server, repo: Path, tmp_path: Path, transport: str, json_mode: bool
) -> None:
    key = realistic_key()
    server = make_server(api_key=key)
    server.state.faults.error("invalid_api_key", 401, f"Incorrect API key provided: {key}.")
    args = ["--json"] if json_mode else []
    result = run_exec(
        repo, tmp_path, key, *args, "--transport", transport, "--base-url", server.base_url, "hi"
    )
    assert result.returncode == 1, result.stderr
    assert "Incorrect API key provided: [redacted]" in result.stdout + result.stderr
    assert key not in result.stdout + result.stderr
    assert files_containing(key, tmp_path / "state", repo) == []


@pytest.mark.parametrize("transport", ["websocket", "http"])
def test_a_proxy_echoing_the_authorization_header_never_shows_the_key(
    repo: Path, tmp_path: Path, transport: str
) -> None:
    """A raw HTTP server answers the WebSocket upgrade / the POST with a 401 repeating the
    header it got (so the key really is in what comes back)."""
    key = realistic_key()
    with echoing_401_server() as (base_url, seen):
        result = run_exec(
            repo, tmp_path, key, "--transport", transport, "--base-url", base_url, "hi"
        )
    assert key in seen  # the echo really carried the key
    assert result.returncode == 1, result.stderr
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert key not in result.stdout + result.stderr
    assert files_containing(key, tmp_path / "state", repo) == []
