"""Settings: defaults < user config file < repository config file < environment < command line.

The user file is ``config.toml`` in the platform's config directory (``~/.config/codeagent`` on
Linux); the repository file is ``.codeagent/config.toml`` at the repository root. The environment
uses ``CODEAGENT_*`` names plus ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``. Every invalid value
becomes a ``ConfigError`` that names the setting, where the value came from and what is allowed.
"""

from __future__ import annotations

import argparse
import contextvars
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from codeagent.agent.approvals import Policy

APP_NAME = "codeagent"
REPO_CONFIG = Path(".codeagent") / "config.toml"

#: The merged values of the config files for the ``Settings`` being built (see ``_FileSource``).
_FILE_VALUES: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "codeagent_file_values", default=None
)


class ConfigError(Exception):
    """A configuration problem, with a message fit to show the user as is."""


class Settings(BaseSettings):
    """Every knob of codeagent. Build it with ``load_settings`` to get the layered sources."""

    model_config = SettingsConfigDict(
        env_prefix="CODEAGENT_", extra="forbid", populate_by_name=True, validate_default=True
    )

    model: str = "gpt-5.1-codex"
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    transport: Literal["auto", "websocket", "http"] = "auto"
    store: bool = False
    approval_policy: Policy = Policy.ASK
    sandbox: Literal["auto", "bwrap", "none"] = "auto"
    compact_threshold: int | None = Field(default=None, gt=0)
    theme: str = "dark"
    base_url: str = Field(
        default="https://api.openai.com/v1",
        validation_alias=AliasChoices("base_url", "CODEAGENT_BASE_URL", "OPENAI_BASE_URL"),
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("api_key", "CODEAGENT_API_KEY", "OPENAI_API_KEY"),
        repr=False,
    )
    auto_commit: bool = False
    no_git: bool = False
    idle_timeout: float = Field(default=300.0, gt=0)
    max_connection_age: float = Field(default=3600.0, gt=0)
    #: Send apply_patch and shell as function tools, for models without the built-in tools.
    function_tools: bool = False
    #: The user's own instructions file, added after the base prompt and AGENTS.md files.
    instructions_file: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: overrides, then the environment, then the config files.
        return (init_settings, env_settings, _FileSource(settings_cls))

    def public_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values, the API key masked (for logs and status)."""
        data = self.model_dump(mode="json")
        data["api_key"] = "set" if self.api_key else None
        return data


class _FileSource(PydanticBaseSettingsSource):
    """The merged config-file values of the ``load_settings`` call in progress."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        value = (_FILE_VALUES.get() or {}).get(field_name)
        return value, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_VALUES.get() or {})


def user_config_path() -> Path:
    """The user-wide config file (it need not exist)."""
    override = os.environ.get("CODEAGENT_CONFIG_DIR")
    base = Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))
    return base / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in one TOML file ({} when it does not exist); ``ConfigError`` if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    data = {str(key).replace("-", "_"): value for key, value in data.items()}
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        known = ", ".join(sorted(Settings.model_fields))
        raise ConfigError(f"unknown setting {unknown[0]!r} in {path}. Known settings: {known}")
    return data


def load_settings(root: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings for a run in repository ``root`` (None: no repository file).

    Precedence, lowest first: defaults, the user file, ``root/.codeagent/config.toml``, the
    environment, ``overrides`` (command-line flags; ``None`` values are ignored).
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    user_path = user_config_path()
    layers.append((str(user_path), read_config_file(user_path)))
    if root is not None:
        repo_path = root / REPO_CONFIG
        layers.append((str(repo_path), read_config_file(repo_path)))
    file_values: dict[str, Any] = {}
    for _, values in layers:
        file_values.update(values)
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(clean) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    token = _FILE_VALUES.set(file_values)
    try:
        return Settings(**clean)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, layers, clean)) from None
    finally:
        _FILE_VALUES.reset(token)


#: Environment names that pydantic reports instead of the setting's own name.
_ALIASES = {
    "CODEAGENT_API_KEY": "api_key",
    "OPENAI_API_KEY": "api_key",
    "CODEAGENT_BASE_URL": "base_url",
    "OPENAI_BASE_URL": "base_url",
}


def _explain(
    exc: ValidationError, layers: list[tuple[str, dict[str, Any]]], overrides: dict[str, Any]
) -> str:
    """One line per invalid setting: its name, where it came from, and what is wrong."""
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "(settings)"
        name = _ALIASES.get(name, name)
        source = _source_of(name, layers, overrides)
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"invalid setting {name} (from {source}): {message}")
    return "\n".join(lines) or str(exc)


def _source_of(name: str, layers: list[tuple[str, dict[str, Any]]], overrides: dict) -> str:
    if name in overrides:
        return "the command line"
    env_names = [f"CODEAGENT_{name.upper()}"]
    if name in ("api_key", "base_url"):
        env_names.append(f"OPENAI_{name.upper()}")
    for env_name in env_names:
        if env_name in os.environ:
            return f"environment variable {env_name}"
    for path, values in reversed(layers):
        if name in values:
            return path
    return "the defaults"


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags that override settings (shared by the TUI and ``exec``)."""
    group = parser.add_argument_group("settings (override config files and environment)")
    group.add_argument("--model", "-m", help="model name (default gpt-5.1-codex)")
    group.add_argument(
        "--reasoning-effort",
        choices=["none", "minimal", "low", "medium", "high", "xhigh"],
        help="reasoning effort for reasoning models",
    )
    group.add_argument(
        "--transport", choices=["auto", "websocket", "http"], help="how to reach the API"
    )
    group.add_argument(
        "--approval-policy",
        "--approval",
        dest="approval_policy",
        choices=[p.value for p in Policy],
        help="what may run without asking (default ask)",
    )
    group.add_argument(
        "--full-auto",
        dest="approval_policy",
        action="store_const",
        const=Policy.FULL_AUTO.value,
        help="same as --approval-policy full-auto",
    )
    group.add_argument("--sandbox", choices=["auto", "bwrap", "none"], help="command sandbox")
    group.add_argument("--base-url", help="Responses API base URL, e.g. http://127.0.0.1:8000/v1")
    group.add_argument(
        "--store",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let the server store responses (default off: zero data retention)",
    )
    group.add_argument("--no-git", action="store_const", const=True, help="no git checkpoints")
    group.add_argument(
        "--auto-commit", action="store_const", const=True, help="commit after every turn"
    )
    group.add_argument(
        "--function-tools",
        action="store_const",
        const=True,
        help="send apply_patch and shell as function tools (models without built-in tools)",
    )
    group.add_argument("--instructions", dest="instructions_file", help="extra instructions file")


#: Flag destinations that map one-to-one onto settings.
_ARG_SETTINGS = (
    "model",
    "reasoning_effort",
    "transport",
    "approval_policy",
    "sandbox",
    "base_url",
    "store",
    "no_git",
    "auto_commit",
    "function_tools",
    "instructions_file",
    "theme",
)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user gave on the command line (flags left out are not included)."""
    values = {name: getattr(args, name, None) for name in _ARG_SETTINGS}
    return {name: value for name, value in values.items() if value is not None}


__all__ = [
    "ConfigError",
    "Settings",
    "add_arguments",
    "load_settings",
    "overrides_from_args",
    "read_config_file",
    "user_config_path",
]
