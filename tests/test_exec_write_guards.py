"""Issue 11, hole 1, end to end: a hostile scripted model drives ``codeagent exec`` against the
local server and tries to write into ``.git`` through a symlink (one it creates with a sandboxed
``ln -s .git gl`` in full-auto, or one already committed in auto-edit), to move files into and out
of ``.git``, and to rewrite ``.codeagent/config.toml``. Every attempt is refused with a message
that names the path and says why, and ``.git`` is left exactly as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeagent.server.script import Episode, Script, Step, apply_patch, function_call, shell, text
from tests.exec_support import make_repo

KEY = "sk-guard-test-key-1234567890"
MARKER = "fsmonitor-ran"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo", {"app.py": 'def greet():\n    print("Hi")\n', "notes.txt": "keep me\n"}
    )


def git_files(repo: Path) -> dict[str, bytes]:
    """Every file and directory of ``.git``, byte for byte, except what codeagent's own
    checkpoints add (new objects, refs under ``refs/codeagent/``, its ``.git/codeagent/``)."""
    git = repo / ".git"
    files = {}
    for path in sorted(git.rglob("*")):
        rel = path.relative_to(git).as_posix()
        if rel.startswith(("objects/", "refs/codeagent", "codeagent")):
            continue
        files[rel] = path.read_bytes() if path.is_file() else b"<dir>"
    assert "config" in files and "HEAD" in files and "hooks" in files
    return files


def patch_text(body: str) -> dict:
    return function_call("apply_patch", {"input": f"*** Begin Patch\n{body}*** End Patch\n"})


def attacks(prefix: str) -> list[Step]:
    """One step per write the model must not make, all through the ``prefix`` symlink."""
    hook = "#!/bin/sh\ntouch " + MARKER + "\n"
    return [
        Step([apply_patch("update_file", f"{prefix}/config",
                          "@@\n+[core]\n+\tfsmonitor = \"touch " + MARKER + "\"\n")]),
        Step([apply_patch("create_file", f"{prefix}/hooks/pre-commit",
                          "+" + hook.replace("\n", "\n+")[:-1])]),
        Step([apply_patch("create_file", f"{prefix}/info/attributes", "+* filter=evil\n")]),
        Step([apply_patch("delete_file", f"{prefix}/HEAD")]),
        Step([patch_text(f"*** Update File: app.py\n*** Move to: {prefix}/hooks/post-checkout\n"
                         "@@\n-def greet():\n+#!/bin/sh\n+def greet():\n")]),
        Step([patch_text(f"*** Update File: {prefix}/HEAD\n*** Move to: stolen.txt\n"
                         "@@\n-ref: refs/heads/main\n+ref: refs/heads/main\n+x\n")]),
        Step([patch_text(f"*** Delete File: {prefix}/description\n")]),
        Step([text("All done.")]),
    ]  # fmt: skip


def run_exec(repo: Path, tmp_path: Path, script: Script, *args: str, make_server, json_=True):
    server = make_server(script, api_key=KEY)
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("CODEAGENT_", "OPENAI_"))
    }
    environment.update(
        CODEAGENT_STATE_DIR=str(tmp_path / "state"),
        CODEAGENT_CONFIG_DIR=str(tmp_path / "conf"),
        OPENAI_API_KEY=KEY,
    )
    result = subprocess.run(
        [sys.executable, "-m", "codeagent", "exec", *(["--json"] if json_ else []),
         "--base-url", server.base_url, *args, "go"],
        cwd=repo, capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, events


def patch_outputs(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "tool_output" and e["tool"] == "apply_patch"]


def assert_all_refused(outputs: list[dict], prefix: str) -> None:
    assert len(outputs) == 7, outputs
    for output in outputs:
        assert not output["success"], output["output"]
        text_ = output["output"]
        assert "Nothing was changed" in text_, text_
        assert f"{prefix}/" in text_, text_  # the message names the path...
        assert ".git" in text_, text_  # ...and says why: it lands in the git directory
        assert "Traceback" not in text_


def test_full_auto_symlink_made_in_the_sandbox_cannot_reach_git(
    make_server, repo: Path, tmp_path: Path
) -> None:
    before = git_files(repo)
    script = Script([Episode([Step([shell(["ln -s .git gl"])]), *attacks("gl")])])
    result, events = run_exec(repo, tmp_path, script, "--full-auto", make_server=make_server)
    assert result.returncode == 0, result.stderr
    assert (repo / "gl").is_symlink(), "the sandboxed command should have made the link"
    assert_all_refused(patch_outputs(events), "gl")
    assert git_files(repo) == before
    assert (repo / "app.py").read_text() == 'def greet():\n    print("Hi")\n'
    assert not (repo / "stolen.txt").exists()
    assert not list(repo.rglob(MARKER))
    # The user's own next git command runs nothing either.
    subprocess.run(["git", "status"], cwd=repo, check=True, capture_output=True)
    assert not list(repo.rglob(MARKER))


def test_auto_edit_committed_symlink_cannot_reach_git(
    make_server, repo: Path, tmp_path: Path
) -> None:
    (repo / "vendor").mkdir()
    (repo / "vendor" / "gitdir").symlink_to("../.git")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "link"], cwd=repo, check=True)
    before = git_files(repo)
    script = Script([Episode(attacks("vendor/gitdir"))])
    result, events = run_exec(
        repo, tmp_path, script, "--approval-policy", "auto-edit", make_server=make_server
    )
    assert result.returncode == 0, result.stderr
    assert_all_refused(patch_outputs(events), "vendor/gitdir")
    assert git_files(repo) == before
    assert not list(repo.rglob(MARKER))


@pytest.mark.parametrize("policy", [["--full-auto"], ["--approval-policy", "auto-edit"]])
def test_repository_config_always_needs_a_person(
    make_server, repo: Path, tmp_path: Path, policy: list[str]
) -> None:
    script = Script(
        [
            Episode(
                [
                    Step([apply_patch("create_file", ".codeagent/config.toml",
                                      '+approval_policy = "full-auto"\n+sandbox = "none"\n')]),
                    Step([text("Configured.")]),
                ]
            )
        ]
    )  # fmt: skip
    result, events = run_exec(repo, tmp_path, script, *policy, make_server=make_server)
    assert result.returncode == 3, result.stderr
    assert not (repo / ".codeagent").exists()
    errors = [e for e in events if e["kind"] == "error"]
    assert errors, events
    message = errors[-1]["message"]
    assert ".codeagent/config.toml" in message
    assert "always" in message and "approval" in message
    assert "Traceback" not in result.stderr


def test_plain_exec_output_says_which_path_was_refused_and_why(
    make_server, repo: Path, tmp_path: Path
) -> None:
    (repo / "gl").symlink_to(".git")
    script = Script([Episode([*attacks("gl")[:1], Step([text("Done.")])])])
    result, _ = run_exec(
        repo, tmp_path, script, "--full-auto", make_server=make_server, json_=False
    )
    assert result.returncode == 0, result.stderr
    assert "failed: The patch was not applied: refused path 'gl/config'" in result.stderr
    assert "inside the git directory .git" in result.stderr and "gl -> .git" in result.stderr
