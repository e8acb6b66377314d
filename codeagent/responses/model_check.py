"""Is the chosen model still current? The catalog's word at once, the server's in the background.

``GET {base_url}/models`` lists the models the key may use, each with an optional
``shutdown_date`` (YYYY-MM-DD). It is asked at most once a day per base URL (the answer is cached
in the state directory) and never on the way of the first paint or the first request: the check
runs as a background task and its notes are picked up at the next turn. A server that does not
answer (offline, a custom base URL without the endpoint, a refused key) is simply not heard: a
failed check says nothing and is retried at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from codeagent.responses.catalog import Catalog

LOG = logging.getLogger("codeagent.responses")

#: How long an answer of ``GET /models`` is reused.
CACHE_SECONDS = 24 * 3600
CACHE_FILE = "model-check.json"
TIMEOUT_SECONDS = 5.0


def default_cache_path() -> Path:
    """``model-check.json`` in the state directory (``CODEAGENT_STATE_DIR`` or the platform's)."""
    override = os.environ.get("CODEAGENT_STATE_DIR")
    if override:
        return Path(override) / CACHE_FILE
    import platformdirs  # only when the check runs, not at import

    return Path(platformdirs.user_state_dir("codeagent")) / CACHE_FILE


class ModelCheck:
    """The lifecycle notes for one model: ``take_notes()`` returns each note once.

    ``start()`` begins the server check in the background (idempotent; needs a running loop).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        catalog: Catalog,
        *,
        cache_path: Path | None = None,
        clock: Callable[[], float] = time.time,
        today: Callable[[], date] = date.today,
    ):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.model = model
        self.catalog = catalog
        self.cache_path = cache_path
        self._clock = clock
        self._today = today
        self._task: asyncio.Task[dict[str, str | None] | None] | None = None
        self._told: set[str] = set()

    # ------------------------------------------------------------------ notes

    def take_notes(self) -> list[str]:
        """Notes not given yet: the catalog's at once, the server's once its answer is in."""
        notes = []
        entry = self.catalog.get(self.model)
        if entry is not None and entry.lifecycle_note():
            notes.append(entry.lifecycle_note() or "")
        if self._task is not None and self._task.done() and not self._task.cancelled():
            listed = self._task.result()
            if listed is not None:
                notes.extend(self._server_notes(listed, known=bool(notes)))
        fresh = [n for n in notes if n not in self._told]
        self._told.update(fresh)
        return fresh

    def _server_notes(self, listed: dict[str, str | None], *, known: bool) -> list[str]:
        """What the server's list adds to the catalog: a shutdown date the catalog does not have.
        (A model the server does not offer at all is named by its ``model_not_found`` answer.)"""
        shutdown = listed.get(self.model)
        if not shutdown or known:
            return []  # current, or the catalog already said so
        entry = self.catalog.get(self.model)
        replacement = f"; use {entry.replacement} instead" if entry and entry.replacement else ""
        try:
            past = date.fromisoformat(shutdown) <= self._today()
        except ValueError:
            past = False
        verb = "was shut down on" if past else "is deprecated and shuts down on"
        return [f"Model {self.model} {verb} {shutdown} (per the server){replacement}."]

    # ------------------------------------------------------------------ the server check

    def start(self) -> None:
        """Begin ``GET /models`` in the background unless it already ran or runs."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.fetch())

    @property
    def started(self) -> bool:
        """Whether the server check was started (it runs at most once per ``ModelCheck``)."""
        return self._task is not None

    async def wait(self) -> None:
        """Wait for the background check (tests, and a UI that wants the answer now)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def close(self) -> None:
        """Stop a check still running (at shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def fetch(self) -> dict[str, str | None] | None:
        """``{model id: shutdown date or None}`` from the cache or the server; None on failure."""
        cached = self._read_cache()
        if cached is not None:
            return cached
        try:
            listed = await self._get_models()
        except Exception as exc:  # offline, no such endpoint, refused: say nothing
            LOG.info("model check skipped: %s", type(exc).__name__)
            return None
        self._write_cache(listed)
        return listed

    async def _get_models(self) -> dict[str, str | None]:
        # httpx (slow to import) is loaded off the event loop, so a WebSocket session's
        # first request and screen updates do not wait for it.
        httpx = await asyncio.to_thread(importlib.import_module, "httpx")
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            response = await client.get(f"{self.base_url}/models", headers=headers)
        response.raise_for_status()
        data = response.json().get("data")
        if not isinstance(data, list):
            raise ValueError("no model list in the answer")
        listed: dict[str, str | None] = {}
        for model in data:
            if isinstance(model, dict) and isinstance(model.get("id"), str):
                shutdown = model.get("shutdown_date")
                listed[model["id"]] = shutdown if isinstance(shutdown, str) else None
        return listed

    # ------------------------------------------------------------------ cache

    def _cache(self) -> dict[str, Any]:
        path = self.cache_path or default_cache_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _read_cache(self) -> dict[str, str | None] | None:
        entry = self._cache().get(self.base_url)
        if not isinstance(entry, dict) or not isinstance(entry.get("models"), dict):
            return None
        age = self._clock() - float(entry.get("at") or 0)
        return entry["models"] if 0 <= age < CACHE_SECONDS else None

    def _write_cache(self, listed: dict[str, str | None]) -> None:
        path = self.cache_path or default_cache_path()
        data = self._cache()
        data[self.base_url] = {"at": self._clock(), "models": listed}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:  # a read-only state dir only costs a check per start
            LOG.info("model check not cached: %s", exc)


__all__ = ["CACHE_SECONDS", "ModelCheck", "default_cache_path"]
