"""Session transcripts: one append-only JSONL file per session under the platform state directory.

Line kinds (``type``): ``session`` (the header: id, repository root, creation time), ``event``
(an ``AgentEvent`` as a dict, streaming deltas left out) and ``state_saved`` (a turn ended and
the conversation state beside the transcript, ``<id>.state.json``, was replaced).

The API key is kept out at the source: wire errors scrub it from their messages and nothing that
writes here holds it. The event lines are additionally scrubbed of registered secrets (only
key-shaped ones: replacing a short key like ``demo`` would rewrite ordinary text). The saved
state is never edited: it holds items replayed to the model, including signed reasoning
(``encrypted_content``) that the server checks byte for byte.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from codeagent import APP_NAME
from codeagent.sanitize import REDACTED, register_secret, scrub_structure


class SessionError(Exception):
    """A session that cannot be found or read; the message is fit for the user."""


def default_state_dir() -> Path:
    """Where sessions live: ``CODEAGENT_STATE_DIR`` or the platform's user state directory."""
    override = os.environ.get("CODEAGENT_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir(APP_NAME))


@dataclass(frozen=True)
class SessionInfo:
    """A summary of one stored session, for listings and ``resume --last``."""

    id: str
    root: str
    created: float
    updated: float
    title: str
    path: Path


class Session:
    """One session's transcript file. ``append`` writes one JSON line and flushes it."""

    def __init__(self, path: Path, session_id: str, root: str, created: float):
        self.path = path
        self.id = session_id
        self.root = root
        self.created = created

    def redact(self, secret: str | None) -> None:
        """Scrub ``secret`` (the API key) from the event lines and every message from now on.

        A value too short to be a real key is ignored (see ``codeagent.sanitize``)."""
        register_secret(secret)

    def append(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` as one JSON line, registered secrets replaced in its strings."""
        line = json.dumps(scrub_structure(entry), ensure_ascii=False, default=_json_default)
        data = (line + "\n").encode("utf-8")
        with self.path.open("ab+") as handle:
            # A line cut short by a crash must not swallow the next entry: start a fresh line.
            if handle.seek(0, os.SEEK_END) > 0:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    data = b"\n" + data
            handle.write(data)
            handle.flush()

    def append_event(self, event: dict[str, Any]) -> None:
        """Record an agent event (a dict from ``event_to_dict``)."""
        self.append({"type": "event", "at": time.time(), "event": event})

    @property
    def state_path(self) -> Path:
        """Where the newest conversation state lives (beside the transcript)."""
        return self.path.with_suffix(".state.json")

    def save_state(self, state: dict[str, Any]) -> None:
        """Replace the saved conversation state (atomically: a crash keeps the previous one).

        The state is a separate file, not a transcript line, so a long session does not write
        its whole history again after every turn. It is written exactly as given: it is replayed
        to the model and holds signed content, so nothing in it may be rewritten.
        """
        text = json.dumps(state, ensure_ascii=False, default=_json_default)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.state_path)
        self.append({"type": "state_saved", "at": time.time()})

    def entries(self) -> list[dict[str, Any]]:
        """Every readable line. A damaged line (e.g. cut by a crash) is skipped, not fatal."""
        result = []
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise SessionError(f"cannot read session {self.id}: {exc}") from None
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict):
                result.append(entry)
        return result

    def events(self) -> list[dict[str, Any]]:
        """The recorded agent events, oldest first (what a UI re-renders on resume)."""
        return [e["event"] for e in self.entries() if e.get("type") == "event" and "event" in e]

    def last_state(self) -> dict[str, Any] | None:
        """The newest saved conversation state, or None when no turn completed yet."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SessionError(
                f"the saved state of session {self.id} is unreadable: {exc}"
            ) from None
        return state if isinstance(state, dict) else None


class SessionStore:
    """All sessions in ``directory`` (default: ``default_state_dir()/sessions``)."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory else default_state_dir() / "sessions"

    def create(self, root: Path) -> Session:
        """Start a new session for the repository at ``root`` and write its header line."""
        self.directory.mkdir(parents=True, exist_ok=True)
        created = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(created))
        session_id = f"{stamp}-{secrets.token_hex(3)}"
        path = self.directory / f"{session_id}.jsonl"
        session = Session(path, session_id, str(Path(root).resolve()), created)
        session.append(
            {"type": "session", "id": session_id, "root": session.root, "created": created}
        )
        return session

    def load(self, session_id: str) -> Session:
        """Open an existing session; ``SessionError`` when there is none by that id."""
        if not session_id or "/" in session_id or session_id.startswith("."):
            raise SessionError(f"invalid session id {session_id!r}")
        path = self.directory / f"{session_id}.jsonl"
        if not path.is_file():
            raise SessionError(f"no session {session_id!r} in {self.directory}")
        header = _read_header(path)
        if header is None:
            raise SessionError(f"session file {path} has no valid header line")
        return Session(path, session_id, str(header.get("root", "")), float(header["created"]))

    def list(self, root: Path | None = None) -> list[SessionInfo]:
        """Stored sessions, newest first; only those of repository ``root`` when given."""
        if not self.directory.is_dir():
            return []
        wanted = str(Path(root).resolve()) if root is not None else None
        infos = []
        for path in self.directory.glob("*.jsonl"):
            header = _read_header(path)
            if header is None or (wanted is not None and header.get("root") != wanted):
                continue
            infos.append(
                SessionInfo(
                    id=path.stem,
                    root=str(header.get("root", "")),
                    created=float(header.get("created", 0.0)),
                    updated=path.stat().st_mtime,
                    title=_title(path),
                    path=path,
                )
            )
        infos.sort(key=lambda info: (info.updated, info.created, info.id), reverse=True)
        return infos

    def latest(self, root: Path | None = None) -> Session:
        """The most recently used session (of ``root`` when given)."""
        infos = self.list(root)
        if not infos:
            where = f" for {Path(root).resolve()}" if root is not None else ""
            raise SessionError(f"no saved sessions{where}")
        return self.load(infos[0].id)


def _read_header(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
        header = json.loads(first)
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(header, dict) or header.get("type") != "session" or "created" not in header:
        return None
    return header


def _title(path: Path) -> str:
    """The first user message of a session, shortened (or "(empty)")."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if '"turn_started"' not in line:
                    continue
                try:
                    event = json.loads(line).get("event", {})
                except json.JSONDecodeError:
                    continue
                text = " ".join(str(event.get("text", "")).split())
                return text[:80] + ("…" if len(text) > 80 else "")
    except OSError:
        pass
    return "(empty)"


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


__all__ = [
    "REDACTED",
    "Session",
    "SessionError",
    "SessionInfo",
    "SessionStore",
    "default_state_dir",
]
