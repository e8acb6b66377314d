"""``codeagent exec`` as a real subprocess against the local server: output, --json, exit codes,
approval under a non-interactive policy, config errors, resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.server.script import Episode, Script, Step, apply_patch, shell, text
from tests.exec_support import make_repo

KEY = "sk-exec-test-key-0987654321"
GREET_DIFF = '@@ def greet():\n-    print("Hi")\n+    print("Hello")\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"app.py": 'def greet():\n    print("Hi")\n'})


def run_exec(
    repo: Path, tmp_path: Path, *args: str, stdin: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codeagent exec ARGS`` in ``repo`` with an isolated state/config dir."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=KEY,
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", *args],
        cwd=repo,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_prints_the_answer_and_exits_zero(make_server, repo: Path, tmp_path: Path) -> None:
    server = make_server(api_key=KEY)
    result = run_exec(repo, tmp_path, "--base-url", server.base_url, "hello world")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You said: hello world"
    assert "session:" in result.stderr
    # a transcript was written, without the key
    assert len(list((tmp_path / "state" / "sessions").glob("*.jsonl"))) == 1
    for written in (tmp_path / "state").rglob("*"):
        if written.is_file():
            assert KEY not in written.read_text(errors="replace"), written
    assert KEY not in result.stderr + result.stdout


def test_task_from_stdin_and_json_lines(make_server, repo: Path, tmp_path: Path) -> None:
    server = make_server()
    result = run_exec(repo, tmp_path, "--json", "--base-url", server.base_url, stdin="from stdin\n")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "session" and kinds[1] == "turn_started"
    assert kinds[-1] == "turn_completed"
    assert events[-1]["final_text"] == "You said: from stdin"
    assert events[-1]["metrics"]["transport"] in ("websocket", "http")


def test_patch_under_ask_without_tty_exits_3_and_changes_nothing(
    make_server, repo: Path, tmp_path: Path
) -> None:
    server = make_server(
        Script([Episode([Step([apply_patch("update_file", "app.py", GREET_DIFF)])])])
    )
    result = run_exec(repo, tmp_path, "--base-url", server.base_url, "say hello")
    assert result.returncode == 3, result.stderr
    assert "--full-auto" in result.stderr
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'


def test_full_auto_applies_and_runs(make_server, repo: Path, tmp_path: Path) -> None:
    script = Script(
        [
            Episode(
                [
                    Step([apply_patch("update_file", "app.py", GREET_DIFF)]),
                    Step([shell(["python3 -c 'import app; app.greet()'"])]),
                    Step([text("Greeting fixed.")]),
                ]
            )
        ]
    )
    server = make_server(script)
    result = run_exec(repo, tmp_path, "--full-auto", "--base-url", server.base_url, "fix it")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Greeting fixed.")
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hello")\n'
    assert "• apply_patch: Edit app.py" in result.stderr
    assert "ok: (exit code 0)" in result.stderr or "Hello" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--approval-policy", "yolo", "x"], {}, "invalid choice"),
        (["x"], {"CODEAGENT_APPROVAL_POLICY": "yolo"}, "CODEAGENT_APPROVAL_POLICY"),
        (["--base-url", "nohttp", "x"], {}, "base_url"),
        ([], {}, "no task given"),
        (["resume", "nonexistent", "x"], {}, "no session 'nonexistent'"),
        (["--instructions", "/no/such/file.md", "x"], {}, "instructions file not found"),
    ],
)
def test_usage_and_config_errors_exit_2(
    repo: Path, tmp_path: Path, args: list[str], env: dict, message: str
) -> None:
    result = run_exec(repo, tmp_path, *args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    # nothing was started: no transcript left behind
    assert not list((tmp_path / "state").glob("sessions/*.jsonl"))


def test_not_a_repository_exits_2(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run_exec(plain, tmp_path, "--base-url", "http://127.0.0.1:9/v1", "x")
    assert result.returncode == 2
    assert "git" in result.stderr.lower() and "Traceback" not in result.stderr


def test_server_refusing_the_key_exits_1(make_server, repo: Path, tmp_path: Path) -> None:
    server = make_server(api_key="sk-other")
    result = run_exec(repo, tmp_path, "--base-url", server.base_url, "hi")
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr
    assert KEY not in result.stderr


def test_resume_last_continues_the_conversation(make_server, repo: Path, tmp_path: Path) -> None:
    server = make_server()
    first = run_exec(repo, tmp_path, "--base-url", server.base_url, "the code word is mango")
    assert first.returncode == 0, first.stderr
    second = run_exec(
        repo, tmp_path, "--base-url", server.base_url, "resume", "--last", "what was it?"
    )
    assert second.returncode == 0, second.stderr
    assert "mango" in json.dumps(server.record[-1].payload["input"])
    assert len(list((tmp_path / "state" / "sessions").glob("*.jsonl"))) == 1


def test_demo_end_to_end_fixes_fizz_buzz(make_server, tmp_path: Path) -> None:
    """The issue's "done when": full-auto exec runs the demo: 20+ tool calls, bug fixed, tests
    green, transcript written."""
    from codeagent.server.demo import copy_sample_repo, demo_script

    repo = copy_sample_repo(tmp_path / "sample")
    before = subprocess.run([sys.executable, "-m", "unittest"], cwd=repo, capture_output=True)
    assert before.returncode != 0  # the bug is there
    server = make_server(demo_script(first_token_delay=0.0, tokens_per_second=None))
    result = run_exec(
        repo, tmp_path, "--json", "--approval", "full-auto", "--base-url", server.base_url,
        "fix fizz_buzz",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    done = events[-1]
    assert done["kind"] == "turn_completed"
    assert done["tool_calls"] >= 20
    assert "fizzbuzz/core.py" in done["files_changed"]
    # chaining: far fewer bytes on the wire than resending the history every call
    assert done["metrics"]["bytes_sent"] < done["metrics"]["bytes_full_resend"]
    after = subprocess.run([sys.executable, "-m", "unittest"], cwd=repo, capture_output=True)
    assert after.returncode == 0, after.stderr
    [transcript] = (tmp_path / "state" / "sessions").glob("*.jsonl")
    assert '"turn_completed"' in transcript.read_text()


def test_sigint_interrupts_cleanly(make_server, repo: Path, tmp_path: Path) -> None:
    """Ctrl-C while a command runs: exit 130, the command's process group is gone, and the
    saved conversation answers the interrupted call."""
    import signal

    server = make_server(Script([Episode([Step([shell(["touch started && sleep 60"])])])]))
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(CODEAGENT_STATE_DIR=str(tmp_path / "state"), OPENAI_API_KEY=KEY)
    process = subprocess.Popen(
        [sys.executable, "-m", "codeagent", "exec", "--full-auto", "--base-url", server.base_url,
         "wait a minute"],
        cwd=repo, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        import time

        while not (repo / "started").exists():  # the command is running
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err, err
    [saved] = (tmp_path / "state" / "sessions").glob("*.state.json")
    state = json.loads(saved.read_text())["conversation"]
    assert "interrupted by the user" in json.dumps(state["items"][-1])


@pytest.mark.parametrize(
    ("answers", "applied", "reason_sent"),
    [("y\n", True, None), ("n\nplease keep Hi\n", False, "please keep Hi")],
)
def test_terminal_approval(
    make_server, repo: Path, tmp_path: Path, answers: str, applied: bool, reason_sent: str | None
) -> None:
    """With a terminal on stdin, ``ask`` asks there: yes applies, no sends the reason."""
    import pty

    server = make_server(
        Script([Episode([Step([apply_patch("update_file", "app.py", GREET_DIFF)])])])
    )
    controller, terminal = pty.openpty()
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(CODEAGENT_STATE_DIR=str(tmp_path / "state"), OPENAI_API_KEY=KEY)
    try:
        os.write(controller, answers.encode())  # the terminal buffers the typed lines
        result = subprocess.run(
            [sys.executable, "-m", "codeagent", "exec", "--base-url", server.base_url, "edit"],
            cwd=repo, env=environment, stdin=terminal, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert "Apply Edit app.py?" in result.stderr
    changed = (repo / "app.py").read_text() != 'def greet():\n    print("Hi")\n'
    assert changed is applied
    [output] = [
        item
        for frame in server.record
        for item in frame.payload.get("input", [])
        if item.get("type") == "apply_patch_call_output"
    ]
    if reason_sent:
        assert reason_sent in output["output"] and output["status"] == "failed"
    else:
        assert output["status"] == "completed"
