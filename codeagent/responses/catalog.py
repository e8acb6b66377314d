"""The model catalog: context windows, prices, reasoning efforts and lifecycle of each model.

The facts live in ``models.toml`` next to this module (data, with a source per entry); users add
or override entries with ``[models."ID"]`` tables in their config, merged by ``Catalog.merged``.
The client uses it for the default model, the ``/model`` listing with prices, reasoning-effort
checks, the compaction threshold and the deprecation notices; the local server for its list of
known models.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: Every reasoning effort a user may choose, weakest first. ``ultra`` (GPT-6 / GPT-5.6) is a
#: client-side tier: the API's own levels stop at ``max``, which is what is sent for it.
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"]
REASONING_EFFORTS: tuple[str, ...] = (
    "none",
    "minimal",
    "low",
    "medium",
    "high",
    "xhigh",
    "max",
    "ultra",
)

#: What OpenAI's code-generation guide says to start with for API-based code generation.
DEFAULT_MODEL = "gpt-6-astra"

#: Server-side compaction starts at this share of the model's context window.
COMPACT_SHARE = 0.8
#: The API refuses a ``compact_threshold`` below this.
MIN_COMPACT_THRESHOLD = 1000

ModelStatus = Literal["active", "deprecated", "shut_down"]


class CatalogError(ValueError):
    """A catalog entry that does not validate; the message names the entry and the key."""


class ModelInfo(BaseModel):
    """One model's published facts. Prices are USD per 1M tokens, ``None`` when unpublished."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    input_price: float | None = Field(default=None, ge=0)
    cached_input_price: float | None = Field(default=None, ge=0)
    output_price: float | None = Field(default=None, ge=0)
    reasoning_efforts: tuple[ReasoningEffort, ...] = ("low", "medium", "high")
    builtin_tools: bool = False
    steering: bool = False
    status: ModelStatus = "active"
    shutdown_date: date | None = None
    replacement: str | None = None
    #: Offered first when the client suggests models (``Catalog.suggest``).
    recommended: bool = False

    def cost(self, input_tokens: int, cached_tokens: int, output_tokens: int) -> float | None:
        """USD for one call's usage, or ``None`` when a price it needs is not published.

        ``input_tokens`` includes the cached ones, as in the API's ``usage``.
        """
        if self.input_price is None or self.output_price is None:
            return None
        cached = min(max(cached_tokens, 0), max(input_tokens, 0))
        if cached and self.cached_input_price is None:
            return None
        fresh = max(input_tokens, 0) - cached
        total = fresh * self.input_price + max(output_tokens, 0) * self.output_price
        if cached:
            total += cached * (self.cached_input_price or 0.0)
        return total / 1_000_000

    @property
    def reasons(self) -> bool:
        """Whether the model takes a ``reasoning`` parameter at all."""
        return bool(self.reasoning_efforts)

    def compact_threshold(self) -> int:
        """The server-side compaction threshold for this model's window (80%, at least 1000)."""
        return max(MIN_COMPACT_THRESHOLD, int(self.context_window * COMPACT_SHARE))

    def lifecycle_note(self) -> str | None:
        """A sentence for the user when the model is deprecated or shut down, else ``None``."""
        if self.status == "active":
            return None
        when = self.shutdown_date.isoformat() if self.shutdown_date else None
        if self.status == "shut_down":
            text = f"Model {self.id} was shut down" + (f" on {when}" if when else "")
        else:
            text = f"Model {self.id} is deprecated" + (f" and shuts down on {when}" if when else "")
        if self.replacement:
            text += f"; use {self.replacement} instead"
        return text + "."


class Catalog:
    """An ordered, read-only set of ``ModelInfo`` entries keyed by id."""

    def __init__(self, models: Iterable[ModelInfo]) -> None:
        self._by_id: dict[str, ModelInfo] = {}
        for info in models:
            self._by_id[info.id] = info

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        """Every entry, in file order (user additions last)."""
        return tuple(self._by_id.values())

    def get(self, model_id: str) -> ModelInfo | None:
        """The entry for ``model_id``, or ``None`` for a model the catalog does not know."""
        return self._by_id.get(model_id)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def active(self) -> tuple[ModelInfo, ...]:
        """The entries that are neither deprecated nor shut down."""
        return tuple(m for m in self._by_id.values() if m.status == "active")

    def suggest(self, n: int = 3) -> tuple[str, ...]:
        """Up to ``n`` current model ids to offer: recommended first, then other active ones."""
        active = self.active()
        ranked = [m.id for m in active if m.recommended]
        ranked += [m.id for m in active if not m.recommended]
        return tuple(ranked[: max(n, 0)])

    def merged(self, overrides: Mapping[str, Mapping[str, Any]]) -> Catalog:
        """A new catalog with the user's ``[models."ID"]`` entries added or laid over by id.

        An override of a known model changes only the keys it names; a new model needs at least
        ``context_window`` and ``max_output_tokens``. A bad entry raises ``CatalogError``.
        """
        entries = {m.id: m.model_dump(exclude={"id"}) for m in self._by_id.values()}
        for model_id, table in overrides.items():
            if not isinstance(table, Mapping):
                raise CatalogError(f'models."{model_id}" must be a table of settings')
            base = entries.get(model_id, {})
            entries[model_id] = {**base, **table}
        return Catalog(_parse(entries, overridden=set(overrides)))


def _parse(entries: Mapping[str, Any], overridden: set[str] | None = None) -> list[ModelInfo]:
    """Validate ``{id: table}`` into ``ModelInfo``s, naming the entry in any error."""
    infos = []
    for model_id, table in entries.items():
        if not isinstance(table, Mapping):
            raise CatalogError(f'models."{model_id}" must be a table of settings')
        try:
            infos.append(ModelInfo(id=model_id, **table))
        except ValidationError as exc:
            where = "in your config" if overridden and model_id in overridden else "in the catalog"
            raise CatalogError(f'models."{model_id}" {where}: {_describe(exc)}') from None
        except TypeError as exc:  # e.g. a key "id" inside the table
            raise CatalogError(f'models."{model_id}": {exc}') from None
    return infos


def _describe(exc: ValidationError) -> str:
    """One readable line per problem: ``key: what is wrong``."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "entry"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown setting"
        elif err["type"] == "missing":
            msg = "required for a model the catalog does not know"
        parts.append(f"{key}: {msg}")
    return "; ".join(parts)


@functools.cache
def _shipped() -> Catalog:
    text = resources.files(__package__).joinpath("models.toml").read_text(encoding="utf-8")
    return Catalog(_parse(tomllib.loads(text).get("models", {})))


def load_catalog(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Catalog:
    """The shipped catalog (parsed once per process), with the user's entries merged over it."""
    catalog = _shipped()
    return catalog.merged(overrides) if overrides else catalog


_MODEL_IN_MESSAGE = re.compile(r"[Tt]he model [`'\"]?([\w.:/-]+?)[`'\"]? does not exist")


def model_not_found_text(message: str, model: str | None = None) -> str:
    """The user's message for ``model_not_found``: the server's words, what the catalog knows of
    the model (shut down? replaced?), and the current models to pick from."""
    catalog = load_catalog()
    if model is None:
        match = _MODEL_IN_MESSAGE.search(message)
        model = match.group(1) if match else None
    parts = [message.rstrip(".") + "."]
    entry = catalog.get(model) if model else None
    if entry is not None and entry.lifecycle_note():
        parts.append(entry.lifecycle_note() or "")
    elif model:
        parts.append(f"The server does not offer {model}.")
    parts.append(
        f"Current models: {', '.join(catalog.suggest())}. Choose one with --model "
        "(or /model in the app)."
    )
    return " ".join(parts)


def format_price(value: float | None) -> str:
    """``$1.25`` style (``$0.005`` below a cent), or ``-`` for an unpublished price."""
    if value is None:
        return "-"
    return f"${value:,.2f}" if round(value, 2) == value else f"${value:,.3f}"


def describe_catalog(current: str | None = None, catalog: Catalog | None = None) -> str:
    """The ``/model`` listing: one line per model with window, prices and lifecycle.

    ``current`` is marked with ``*``. Shut-down models are left out of the list but named at
    the end, so a user who remembers one learns why it is gone.
    """
    catalog = catalog or load_catalog()
    lines = ["Models (USD per 1M tokens: input / cached input / output):"]
    gone = []
    for m in catalog.models:
        if m.status == "shut_down":
            gone.append(m.id)
            continue
        mark = "*" if m.id == current else " "
        prices = " / ".join(
            format_price(p) for p in (m.input_price, m.cached_input_price, m.output_price)
        )
        window = f"{m.context_window // 1000:,}k"
        extra = ""
        if m.status == "deprecated":
            extra = "  deprecated"
            if m.shutdown_date:
                extra += f", shuts down {m.shutdown_date}"
        lines.append(f"{mark} {m.id:<16} {window:>7}  {prices}{extra}")
    if current and current not in catalog:
        lines.append(f"* {current} (not in the catalog: no prices or limits known)")
    if gone:
        lines.append("Shut down: " + ", ".join(gone))
    lines.append('Switch with /model NAME; add or override models in config ([models."NAME"]).')
    return "\n".join(lines)
