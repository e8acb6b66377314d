"""Issue 12, "Transcripts stay intact": the key is kept out at the source, so transcripts are not
rewritten. A realistic key never appears in any file or output after normal turns and a 401
that echoes it; a one-letter key (a local server's ``X``) is no pattern: the text is stored as
it was and ``exec resume`` replays the signed reasoning unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from exec_support import files_containing, make_repo, realistic_key, run_exec

from codeagent.server.script import Episode, Script, Step, reasoning, text


def _script() -> Script:
    return Script(
        [
            Episode(
                [Step([reasoning("Xylophones eXist; checking eXamples."), text("eXtra eXamples")])],
                match="first",
            ),
            Episode([Step([text("Still here: eXactly.")])]),
        ]
    )


def test_a_realistic_key_is_in_no_file_and_no_output(make_server, tmp_path: Path) -> None:
    key = realistic_key()
    repo = make_repo(tmp_path / "repo")
    server = make_server(_script(), api_key=key)
    outputs = []
    first = run_exec(repo, tmp_path, key, "--base-url", server.base_url, "first turn")
    assert first.returncode == 0, first.stderr
    outputs.append(first)
    server.state.faults.error("invalid_api_key", 401, f"Incorrect API key provided: {key}")
    echoed = run_exec(
        repo, tmp_path, key, "--json", "--base-url", server.base_url, "resume", "--last", "again"
    )
    assert echoed.returncode == 1, echoed.stderr
    outputs.append(echoed)
    last = run_exec(repo, tmp_path, key, "--base-url", server.base_url, "resume", "--last", "more")
    assert last.returncode == 0, last.stderr
    outputs.append(last)
    assert files_containing(key, tmp_path / "state", tmp_path / "conf", repo) == []
    for result in outputs:
        assert key not in result.stdout + result.stderr
    assert "[redacted]" in echoed.stdout  # the echo was there, and was scrubbed at the source


def test_a_one_letter_key_changes_nothing_and_resume_works(make_server, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    server = make_server(_script(), api_key="X")
    first = run_exec(repo, tmp_path, "X", "--base-url", server.base_url, "first: eXplain X")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "eXtra eXamples"
    [transcript] = (tmp_path / "state" / "sessions").glob("*.jsonl")
    [state_file] = (tmp_path / "state" / "sessions").glob("*.state.json")
    assert "[redacted]" not in transcript.read_text() + state_file.read_text()
    assert "first: eXplain X" in transcript.read_text()
    items = json.loads(state_file.read_text())["conversation"]["items"]
    signed = [i["encrypted_content"] for i in items if i.get("type") == "reasoning"]
    assert signed and all(signed)

    again = run_exec(
        repo, tmp_path, "X", "--base-url", server.base_url, "resume", "--last", "eXactly?"
    )
    assert again.returncode == 0, again.stderr  # the server accepted the replayed reasoning
    assert again.stdout.strip() == "Still here: eXactly."
    replayed = [
        item["encrypted_content"]
        for item in server.record[-1].payload["input"]
        if item.get("type") == "reasoning"
    ]
    assert replayed == signed
    assert "first: eXplain X" in json.dumps(server.record[-1].payload["input"])
