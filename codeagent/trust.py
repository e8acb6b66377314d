"""Which repository config files the user has trusted, kept outside every repository.

A decision is bound to the repository's resolved path *and* the SHA-256 of its
``.codeagent/config.toml``: any change to the file (by the model, a pull, anyone) voids it and the
user is asked again. The store is ``trusted-repos.json`` in codeagent's user config directory
(``CODEAGENT_CONFIG_DIR`` or the platform's, ``~/.config/codeagent`` on Linux), written
atomically and readable only by the user.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import platformdirs

from codeagent import APP_NAME

STORE_NAME = "trusted-repos.json"


def store_path() -> Path:
    """The trust store file (it need not exist)."""
    override = os.environ.get("CODEAGENT_CONFIG_DIR")
    base = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))
    return base / STORE_NAME


def _key(root: Path) -> str:
    return str(Path(root).resolve())


def _read(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}  # no store, or a damaged one: nothing is trusted (the safe reading)
    repos = data.get("repositories") if isinstance(data, dict) else None
    return {k: v for k, v in (repos or {}).items() if isinstance(v, dict)}


def is_trusted(root: Path, digest: str) -> bool:
    """Whether the user trusted this repository's config file with exactly this content."""
    entry = _read(store_path()).get(_key(root))
    return entry is not None and entry.get("sha256") == digest


def trust(root: Path, digest: str) -> None:
    """Record that the user trusts the config file of ``root`` whose content hashes to
    ``digest`` (replacing any older decision for that repository)."""
    path = store_path()
    repos = _read(path)
    repos[_key(root)] = {"sha256": digest, "trusted_at": time.time()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".trusted-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"repositories": repos}, handle, indent=2, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["is_trusted", "store_path", "trust"]
