"""The repository's config file (``.codeagent/config.toml``), split by what it may change.

The file is part of the repository, so the model (or whoever wrote the repository) can write it.
Settings that only change how codeagent looks or which model it asks on the user's own endpoint
apply at once. Everything else -- what the agent may do without asking, the sandbox, where
requests and the key go, which local files are sent -- applies only once the user trusts this
exact file (see ``codeagent.trust``). The list of harmless settings is an allow-list: a setting
added later needs trust until someone decides otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeagent.agent.approvals import Policy

#: Settings a repository may set without the user's trust (listed in the README).
HARMLESS = frozenset(
    {
        "model",
        "models",
        "reasoning_effort",
        "compaction",
        "theme",
        "transport",
        "compact_threshold",
        "idle_timeout",
        "max_connection_age",
        "function_tools",
    }
)

_POLICY_RANK = {Policy.READ_ONLY: 0, Policy.ASK: 1, Policy.AUTO_EDIT: 2, Policy.FULL_AUTO: 3}
#: Limits a repository may lower (never raise) without trust.
_LOWER_IS_STRICTER = frozenset({"max_model_calls_per_turn"})
#: Keys that send requests (and the key) somewhere else when found inside a table value.
_DESTINATION_KEYS = {"base_url", "api_key"}


def file_digest(data: bytes) -> str:
    """The content hash a trust decision is bound to."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RepoConfig:
    """What one repository config file sets, and which of it waits for the user's trust."""

    path: Path
    digest: str
    #: every setting the file sets (``instructions_file`` made absolute)
    values: dict[str, Any]
    #: the names of the settings that apply only once this exact file is trusted
    needs_trust: tuple[str, ...]

    def harmless(self) -> dict[str, Any]:
        """The settings that apply whether or not the file is trusted."""
        return {k: v for k, v in self.values.items() if k not in self.needs_trust}

    def describe(self, names: Iterable[str] | None = None) -> list[str]:
        """``name = value`` lines for ``names`` (default: the settings that need trust)."""
        chosen = self.needs_trust if names is None else tuple(names)
        return [
            f"{name} = {_show(name, self.values[name])}" for name in chosen if name in self.values
        ]


def split_repo_config(
    path: Path, data: bytes, values: Mapping[str, Any], root: Path, below: Mapping[str, Any]
) -> RepoConfig:
    """Classify the parsed ``values`` of the repository file at ``path`` (raw bytes ``data``).

    ``below`` holds the value each setting has without the repository file (the user's file or
    the default), so a repository can always narrow: a stricter approval policy, the sandbox
    required, retention or auto-commit off, or simply the value already in effect.
    """
    values = dict(values)
    if values.get("instructions_file") is not None:
        values["instructions_file"] = _absolute(root, values["instructions_file"])
    needs = [
        name for name, value in values.items() if not _harmless(name, value, root, below.get(name))
    ]
    return RepoConfig(path, file_digest(data), values, tuple(needs))


def _harmless(name: str, value: Any, root: Path, below: Any) -> bool:
    if name == "api_key":
        return False  # another account, or a key the repository wants the server to see
    if isinstance(value, Mapping) and _mentions_destination(value):
        return False
    if name in HARMLESS:
        return True
    if name == "instructions_file":
        # Inside the repository it is the repository's own text, like AGENTS.md; outside, it
        # could be any file of the user's (~/.ssh/id_rsa) sent to the server.
        return Path(value).resolve().is_relative_to(root.resolve())
    if name == "approval_policy":
        try:
            return _POLICY_RANK[Policy(value)] <= _POLICY_RANK[Policy(below)]
        except (ValueError, KeyError):
            return False  # an invalid value: not trusted here, reported by validation
    if name == "sandbox" and value == "bwrap":
        return True  # requiring the sandbox never widens anything
    if name in ("store", "no_git", "auto_commit") and value is False:
        return True
    if name in _LOWER_IS_STRICTER:
        try:
            return int(value) <= int(below)
        except (TypeError, ValueError):
            return False
    return _same(value, below)


def _mentions_destination(value: Mapping[str, Any]) -> bool:
    for key, inner in value.items():
        if str(key).replace("-", "_") in _DESTINATION_KEYS:
            return True
        if isinstance(inner, Mapping) and _mentions_destination(inner):
            return True
    return False


def _same(value: Any, below: Any) -> bool:
    if isinstance(value, (dict, list)) or isinstance(below, (dict, list)):
        return value == below
    if below is None:
        return value is None
    return str(getattr(below, "value", below)) == str(value)  # enums compare by their value


def _absolute(root: Path, value: Any) -> str:
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else root / path)


def _show(name: str, value: Any) -> str:
    if name == "api_key":
        return "(a key; not shown)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


__all__ = ["HARMLESS", "RepoConfig", "file_digest", "split_repo_config"]
