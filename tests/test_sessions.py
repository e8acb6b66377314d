"""Session transcripts: append-only JSONL, listing, loading, damage tolerance, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeagent.agent.events import TextDone, TurnStarted, event_to_dict
from codeagent.sessions import SessionError, SessionStore


def test_create_append_load_roundtrip(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state")
    repo = tmp_path / "repo"
    repo.mkdir()
    session = store.create(repo)
    session.append_event(event_to_dict(TurnStarted(text="fix the bug")))
    session.append_event(event_to_dict(TextDone(item_id="m1", text="done")))
    session.save_state({"items": [1]})
    session.save_state({"items": [1, 2]})

    again = store.load(session.id)
    assert again.root == str(repo.resolve())
    assert [e["kind"] for e in again.events()] == ["turn_started", "text_done"]
    assert again.last_state() == {"items": [1, 2]}
    # append-only: every line is still there; the state lives beside it, replaced each time
    assert len(again.path.read_text().splitlines()) == 5
    assert json.loads(again.state_path.read_text()) == {"items": [1, 2]}


def test_list_filters_by_root_and_titles(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    s1 = store.create(a)
    s1.append_event(event_to_dict(TurnStarted(text="first   task\nwith lines")))
    s2 = store.create(b)
    infos = store.list()
    assert {i.id for i in infos} == {s1.id, s2.id}
    only_a = store.list(a)
    assert [i.id for i in only_a] == [s1.id]
    assert only_a[0].title == "first task with lines"
    assert store.list(b)[0].title == "(empty)"
    assert store.latest(a).id == s1.id


def test_missing_and_invalid_sessions(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state")
    assert store.list() == []
    with pytest.raises(SessionError, match="no saved sessions"):
        store.latest()
    with pytest.raises(SessionError, match="no session 'nope'"):
        store.load("nope")
    with pytest.raises(SessionError, match="invalid session id"):
        store.load("../etc/passwd")


def test_damaged_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = store.create(tmp_path)
    session.append_event(event_to_dict(TurnStarted(text="one")))
    with session.path.open("a") as handle:
        handle.write('{"type": "event", "event": {"kind": "text_do')  # a crash mid-write
    loaded = store.load(session.id)
    assert [e["kind"] for e in loaded.events()] == ["turn_started"]
    # and writing continues after the damage on a fresh line
    loaded.append({"type": "event", "event": {"kind": "after_crash"}})
    assert [e["kind"] for e in store.load(session.id).events()] == ["turn_started", "after_crash"]


def test_redacted_secret_never_written(tmp_path: Path) -> None:
    """A key-shaped secret is scrubbed from the event lines (the source keeps it out of the
    state; see tests/test_transcript_integrity.py)."""
    key = "sk-proj-" + "a1B2c3D4e5" * 4
    store = SessionStore(tmp_path)
    session = store.create(tmp_path)
    session.redact(key)
    session.append_event({"kind": "error", "message": f"auth failed for {key}"})
    text = session.path.read_text()
    assert key not in text
    assert "auth failed for [redacted]" in text


def test_short_key_is_no_pattern_and_state_is_never_edited(tmp_path: Path) -> None:
    """A key like ``X`` or ``demo`` is not a secret pattern: replacing it rewrote ordinary
    text and signed reasoning (issue 12). The saved state is written exactly as given."""
    store = SessionStore(tmp_path)
    session = store.create(tmp_path)
    session.redact("X")
    session.redact("demo")
    session.append_event({"kind": "text_done", "text": "eXtra demo eXamples"})
    signed = {"type": "reasoning", "encrypted_content": "gAAAAXdemoX+sk-proj-" + "Q" * 40}
    session.redact("sk-proj-" + "Q" * 40)
    session.save_state({"conversation": {"items": [signed]}})
    assert "eXtra demo eXamples" in session.path.read_text()
    assert json.loads(session.state_path.read_text()) == {"conversation": {"items": [signed]}}


def test_default_directory_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "st"))
    store = SessionStore()
    assert store.directory == tmp_path / "st" / "sessions"
    session = store.create(tmp_path)
    assert session.path.parent == tmp_path / "st" / "sessions"


def test_unreadable_state_is_a_clear_error(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    session = store.create(tmp_path)
    assert session.last_state() is None
    session.state_path.write_text("{broken")
    with pytest.raises(SessionError, match="unreadable"):
        store.load(session.id).last_state()
    assert session.state_path.read_text() == "{broken"  # left for the user to inspect
