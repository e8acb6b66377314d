"""The model catalog: the shipped data file, user overrides, and what the client derives from it."""

from __future__ import annotations

import typing
from datetime import date

import pytest
from openai.types.shared.chat_model import ChatModel
from openai.types.shared.responses_model import ResponsesModel

from codeagent.responses.catalog import (
    DEFAULT_MODEL,
    REASONING_EFFORTS,
    CatalogError,
    describe_catalog,
    load_catalog,
)


def _sdk_model_ids() -> set[str]:
    ids = set(typing.get_args(ChatModel))
    for arg in typing.get_args(ResponsesModel):
        ids |= set(typing.get_args(arg))
    return ids


def test_default_model_is_current_and_known_to_the_sdk():
    catalog = load_catalog()
    info = catalog.get(DEFAULT_MODEL)
    assert info is not None and info.status == "active"
    assert DEFAULT_MODEL in _sdk_model_ids()
    assert info.builtin_tools and info.steering
    assert catalog.suggest()[0] == DEFAULT_MODEL


def test_every_shipped_entry_is_well_formed():
    catalog = load_catalog()
    sdk = _sdk_model_ids()
    for m in catalog.models:
        assert set(m.reasoning_efforts) <= set(REASONING_EFFORTS), m.id
        assert m.max_output_tokens <= m.context_window, m.id
        if m.status != "active":
            assert m.shutdown_date is not None, m.id
        if m.replacement:
            repl = catalog.get(m.replacement)
            assert repl is not None and repl.status == "active", m.id
        # Only the codex line dropped out of the SDK's Literal after its shutdown.
        assert m.id in sdk or m.id == "gpt-5.2-codex", m.id


def test_lifecycle_of_the_old_default_and_the_gpt5_family():
    catalog = load_catalog()
    old = catalog.get("gpt-5.1-codex")
    assert old.status == "shut_down" and old.shutdown_date == date(2026, 7, 23)
    assert catalog.get("gpt-5.2-codex").status == "shut_down"
    gpt5 = catalog.get("gpt-5")
    assert gpt5.status == "deprecated" and gpt5.shutdown_date == date(2026, 12, 11)
    assert gpt5.replacement == "gpt-6.1-sol"
    assert catalog.get("gpt-5-mini").replacement == "gpt-6.1-terra"
    assert gpt5.lifecycle_note() == (
        "Model gpt-5 is deprecated and shuts down on 2026-12-11; use gpt-6.1-sol instead."
    )
    assert "was shut down on 2026-07-23" in old.lifecycle_note()
    assert catalog.get(DEFAULT_MODEL).lifecycle_note() is None


def test_active_and_suggest_never_offer_retired_models():
    catalog = load_catalog()
    active = {m.id for m in catalog.active()}
    assert "gpt-5.1-codex" not in active and "gpt-5" not in active
    assert len(catalog.suggest(3)) == 3
    assert set(catalog.suggest(50)) == active
    assert catalog.models[0].id == DEFAULT_MODEL  # file order


def test_efforts_differ_per_model():
    catalog = load_catalog()
    assert "ultra" in catalog.get("gpt-6-astra").reasoning_efforts
    assert "none" not in catalog.get("gpt-6-astra").reasoning_efforts
    assert "ultra" not in catalog.get("gpt-6-luna").reasoning_efforts
    assert "max" not in catalog.get("gpt-5.5").reasoning_efforts


def test_cost_uses_cached_price_and_is_unknown_without_prices():
    astra = load_catalog().get("gpt-6-astra")
    # 1M input of which 400k cached, 100k output: 0.6*10 + 0.4*1 + 0.1*50
    assert astra.cost(1_000_000, 400_000, 100_000) == pytest.approx(11.4)
    assert astra.cost(0, 0, 0) == 0
    assert load_catalog().get("gpt-5.6-sol").cost(10, 0, 10) is None
    assert load_catalog().get("gpt-5.5").cost(10, 5, 10) is None  # no cached price published
    assert load_catalog().get("gpt-5.5").cost(1_000_000, 0, 0) == pytest.approx(5.0)


def test_compaction_threshold_follows_the_window():
    catalog = load_catalog()
    assert catalog.get("gpt-6-astra").compact_threshold() == 840_000
    tiny = catalog.merged({"tiny": {"context_window": 500, "max_output_tokens": 100}}).get("tiny")
    assert tiny.compact_threshold() == 1000


def test_user_entries_add_and_override_by_id():
    base = load_catalog()
    merged = base.merged(
        {
            "gpt-6-astra": {"input_price": 9.5},
            "my-model": {
                "context_window": 32_000,
                "max_output_tokens": 4_000,
                "reasoning_efforts": [],
            },
        }
    )
    astra = merged.get("gpt-6-astra")
    assert astra.input_price == 9.5 and astra.output_price == 50.0  # only the named key changed
    mine = merged.get("my-model")
    assert mine.context_window == 32_000 and not mine.reasons and mine.status == "active"
    assert merged.models[-1].id == "my-model"
    assert base.get("my-model") is None and base.get("gpt-6-astra").input_price == 10.0
    assert load_catalog({"my-model": {"context_window": 8000, "max_output_tokens": 100}}).get(
        "my-model"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"context_window": 1000}, 'models."my-model" in your config: max_output_tokens: required'),
        (
            {"context_window": 1000, "max_output_tokens": 10, "reasoning_efforts": ["turbo"]},
            'models."my-model" in your config: reasoning_efforts.0:',
        ),
        (
            {"context_window": 1000, "max_output_tokens": 10, "input_prize": 1},
            "input_prize: unknown setting",
        ),
        ({"context_window": "big", "max_output_tokens": 10}, "context_window:"),
        ("not a table", 'models."my-model" must be a table'),
    ],
)
def test_bad_user_entries_name_the_entry_and_the_key(entry, expected):
    with pytest.raises(CatalogError) as info:
        load_catalog().merged({"my-model": entry})
    assert expected in str(info.value)
    assert "ValidationError" not in str(info.value) and "pydantic" not in str(info.value)


def test_listing_shows_prices_and_marks_the_current_model():
    text = describe_catalog(current="gpt-6-astra")
    lines = text.splitlines()
    astra = next(line for line in lines if "gpt-6-astra" in line)
    assert astra.startswith("*") and "$10.00 / $1.00 / $50.00" in astra
    assert "1,050k" in astra
    assert any("gpt-5 " in line and "shuts down 2026-12-11" in line for line in lines)
    assert "Shut down: gpt-5.1-codex, gpt-5.2-codex" in text
    assert "- / -" in next(line for line in lines if "gpt-5.6-sol" in line)
    assert "not in the catalog" in describe_catalog(current="my-local")
