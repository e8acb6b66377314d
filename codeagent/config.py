"""Settings: defaults < user config file < repository config file < environment < command line.

The user file is ``config.toml`` in the platform's config directory (``~/.config/codeagent`` on
Linux); the repository file is ``.codeagent/config.toml`` at the repository root. The environment
uses ``CODEAGENT_*`` names plus ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``. Every invalid value
becomes a ``ConfigError`` that names the setting, where the value came from and what is allowed.

The repository file is written by whoever writes the repository (the model included), so only its
harmless settings apply at once; the rest wait until the user trusts that exact file
(``codeagent.repo_config`` decides which is which, ``codeagent.trust`` remembers the decision).
"""

from __future__ import annotations

import contextvars
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from codeagent import APP_NAME, trust
from codeagent.agent.approvals import Policy
from codeagent.agent.mcp.server_config import McpServerConfig, check_server_names
from codeagent.config_flags import add_arguments, overrides_from_args
from codeagent.repo_config import RepoConfig, split_repo_config
from codeagent.responses.catalog import (
    DEFAULT_MODEL,
    Catalog,
    CatalogError,
    ReasoningEffort,
    load_catalog,
)
from codeagent.sanitize import register_secret, terminal_safe

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

    model: str = DEFAULT_MODEL
    #: ``[models."ID"]`` tables: catalog entries added or overridden (see responses/models.toml).
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Checked against the model's catalog entry (models the catalog does not know: unchecked).
    reasoning_effort: ReasoningEffort | None = None
    transport: Literal["auto", "websocket", "http"] = "auto"
    store: bool = False
    approval_policy: Policy = Policy.ASK
    sandbox: Literal["auto", "bwrap", "none"] = "auto"
    #: Environment for sandboxed commands beyond PATH, locale and an empty HOME: ``NAME``
    #: passes codeagent's own value on, ``NAME=value`` sets one.
    sandbox_env: list[str] = Field(default_factory=list)
    #: Server-side compaction (``context_management``) on every request.
    compaction: bool = True
    #: Tokens at which to compact; unset: 80% of the model's context window (from the catalog).
    compact_threshold: int | None = Field(default=None, gt=0)
    theme: str = "dark"
    #: When an approval waits or a turn ends while the terminal is not focused: nothing, the
    #: bell, or the bell and a desktop notification (OSC 9 / OSC 777; see codeagent.tui.notify).
    notify: Literal["off", "bell", "desktop"] = "bell"
    #: ``[keymap]`` binding id -> keys, e.g. ``app.quit = "ctrl+x"`` (see codeagent.tui.keymap).
    keymap: dict[str, str] = Field(default_factory=dict)
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
    #: A turn stops after this many model calls (a runaway loop); the user can continue it.
    max_model_calls_per_turn: int = Field(default=100, gt=0)
    max_connection_age: float = Field(default=3600.0, gt=0)
    #: Send apply_patch and shell as function tools, for models without the built-in tools.
    function_tools: bool = False
    #: The user's own instructions file, added after the base prompt and AGENTS.md files.
    instructions_file: Path | None = None
    #: ``[mcp_servers.NAME]`` tables: MCP servers whose tools the model may call.
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)

    @field_validator("mcp_servers")
    @classmethod
    def _check_mcp_servers(cls, value: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        return check_server_names(value)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if terminal_safe(value) != value or any(ch.isspace() for ch in value):
            raise ValueError("must not contain spaces or control characters")
        return value.rstrip("/")

    @field_validator("keymap", mode="before")
    @classmethod
    def _flatten_keymap(cls, value: Any) -> Any:
        # TOML reads `app.quit = "ctrl+x"` as {"app": {"quit": ...}}: the id is the dotted path
        if not isinstance(value, dict):
            return value
        flat: dict[str, Any] = {}

        def walk(prefix: str, table: dict) -> None:
            for key, item in table.items():
                name = f"{prefix}.{key}" if prefix else str(key)
                if isinstance(item, dict):
                    walk(name, item)
                else:
                    flat[name] = item

        walk("", value)
        return flat

    @field_validator("api_key")
    @classmethod
    def _register_key(cls, value: SecretStr | None) -> SecretStr | None:
        # Every process holding the key scrubs it from messages (see codeagent.sanitize).
        if value is not None:
            register_secret(value.get_secret_value())
        return value

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if terminal_safe(value) != value:  # it is shown in the status bar and in /status
            raise ValueError("must not contain control characters")
        return value.strip()

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        try:
            load_catalog(value)
        except CatalogError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("reasoning_effort")
    @classmethod
    def _check_effort(cls, value: str | None, info: ValidationInfo) -> str | None:
        model, models = info.data.get("model"), info.data.get("models")
        if value is None or model is None or models is None:
            return value  # an invalid model or catalog is reported on its own
        entry = load_catalog(models).get(model)
        if entry is not None and value not in entry.reasoning_efforts:
            accepted = ", ".join(entry.reasoning_efforts) or "no reasoning effort at all"
            raise ValueError(f"{model} does not accept {value!r} (it accepts: {accepted})")
        return value

    def catalog(self) -> Catalog:
        """The model catalog with this configuration's ``[models."ID"]`` entries merged in."""
        return load_catalog(self.models)

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


class _FileSource(PydanticBaseSettingsSource):
    """The merged config-file values of the ``load_settings`` call in progress.

    Not pydantic-settings' ``TomlConfigSettingsSource``: it opens and parses the files itself,
    while the repository file must be hashed and parsed from the same bytes (trust is given to
    one exact content), split into what applies at once and what waits for trust, and checked
    for unknown names with the file named in the error.
    """

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
    return _parse_config(path, text)


def _parse_config(path: Path, text: str) -> dict[str, Any]:
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


def read_repo_config(root: Path) -> RepoConfig | None:
    """The repository's config file, split into what applies at once and what needs trust
    (None when there is no file); ``ConfigError`` if it is unusable."""
    path = Path(root) / REPO_CONFIG
    try:
        data = path.read_bytes()  # hashed and parsed from the same bytes: no change in between
        text = data.decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    values = _parse_config(path, text)
    user_values = read_config_file(user_config_path())
    below = {
        name: user_values.get(name, field.get_default(call_default_factory=True))
        for name, field in Settings.model_fields.items()
    }
    return split_repo_config(path, data, values, Path(root), below)


def untrusted_repo_settings(
    root: Path, overrides: dict[str, Any] | None = None
) -> RepoConfig | None:
    """The repository config file when it sets settings that need trust, that would take effect
    (no flag or environment variable overrides them) and that the user has not trusted for this
    exact file content; its ``needs_trust`` then lists just those settings. Else None."""
    repo = read_repo_config(root)
    if repo is None or not repo.needs_trust or trust.is_trusted(root, repo.digest):
        return None
    clean = {k for k, v in (overrides or {}).items() if v is not None}
    pending = tuple(n for n in repo.needs_trust if n not in clean and not _in_environment(n))
    if not pending:
        return None
    return RepoConfig(repo.path, repo.digest, repo.values, pending)


def _in_environment(name: str) -> bool:
    names = {f"CODEAGENT_{name.upper()}"}
    if name in ("api_key", "base_url"):
        names.add(f"OPENAI_{name.upper()}")
    return any(key.upper() in names for key in os.environ)


def load_settings(
    root: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    trust_repo: bool | None = None,
) -> Settings:
    """Build the settings for a run in repository ``root`` (None: no repository file).

    Precedence, lowest first: defaults, the user file, ``root/.codeagent/config.toml``, the
    environment, ``overrides`` (command-line flags; ``None`` values are ignored). Of the
    repository file, the settings that need trust apply only when ``trust_repo`` is True (``exec
    --trust``) or, when it is None, the user trusted this exact file; otherwise they are left
    out (callers say so: see ``untrusted_repo_settings``).
    """
    user_path = user_config_path()
    user_layer = (str(user_path), read_config_file(user_path))
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(clean) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}")
    repo = read_repo_config(root) if root is not None else None
    if repo is None or root is None:
        return _build([user_layer], clean)
    full = [user_layer, (str(repo.path), repo.values)]
    trusted = trust_repo if trust_repo is not None else trust.is_trusted(root, repo.digest)
    if trusted or not repo.needs_trust:
        return _build(full, clean)
    _build(full, clean)  # an invalid value is reported even while it waits for trust
    return _build([user_layer, (str(repo.path), repo.harmless())], clean)


def _build(layers: list[tuple[str, dict[str, Any]]], clean: dict[str, Any]) -> Settings:
    file_values: dict[str, Any] = {}
    for _, values in layers:
        file_values.update(values)
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


__all__ = [
    "ConfigError",
    "Settings",
    "add_arguments",
    "load_settings",
    "overrides_from_args",
    "read_config_file",
    "read_repo_config",
    "untrusted_repo_settings",
    "user_config_path",
]
