"""Model settings: the default model, reasoning efforts checked against the catalog, the user's
``[models."ID"]`` entries, and the request fields derived from them (reasoning, compaction)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from codeagent.agent.assembly import (
    client_compact_threshold,
    context_management,
    conversation_options,
    reasoning_param,
)
from codeagent.config import ConfigError, add_arguments, load_settings
from codeagent.responses.catalog import DEFAULT_MODEL


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    path = tmp_path / "userconf"
    path.mkdir()
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(path))
    return path


def user_config(user_dir: Path, text: str) -> Path:
    path = user_dir / "config.toml"
    path.write_text(text)
    return path


def test_a_fresh_install_uses_the_recommended_model(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.model == DEFAULT_MODEL == "gpt-6-astra"
    assert settings.catalog().get(settings.model).status == "active"


def test_help_names_the_current_default_and_every_effort() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    text = parser.format_help()
    assert "default gpt-6-astra" in text and "gpt-5.1-codex" not in text
    for effort in ("none", "minimal", "xhigh", "max", "ultra"):
        assert effort in text
    assert parser.parse_args(["--reasoning-effort", "ultra"]).reasoning_effort == "ultra"


@pytest.mark.parametrize(("model", "effort"), [("gpt-6-astra", "ultra"), ("gpt-6-luna", "max")])
def test_every_level_the_model_accepts_is_allowed(tmp_path: Path, model: str, effort: str) -> None:
    settings = load_settings(tmp_path, {"model": model, "reasoning_effort": effort})
    assert settings.reasoning_effort == effort


@pytest.mark.parametrize(
    ("model", "effort", "accepted"),
    [
        ("gpt-6-astra", "none", "low, medium, high, xhigh, max, ultra"),
        ("gpt-6-luna", "ultra", "none, low, medium, high, xhigh, max"),
        ("gpt-4.1", "low", "no reasoning effort at all"),
    ],
)
def test_an_effort_the_model_does_not_accept_is_a_clear_error(
    tmp_path: Path, model: str, effort: str, accepted: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, {"model": model, "reasoning_effort": effort})
    message = str(info.value)
    assert f"{model} does not accept '{effort}'" in message
    assert accepted in message and "the command line" in message
    assert "Traceback" not in message and "pydantic" not in message


def test_models_the_catalog_does_not_know_take_any_level(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {"model": "local-llm", "reasoning_effort": "ultra"})
    assert settings.reasoning_effort == "ultra"


def test_user_can_add_a_model_and_its_efforts_are_checked(tmp_path: Path, user_dir: Path) -> None:
    user_config(
        user_dir,
        'model = "my-model"\n'
        '[models."my-model"]\n'
        "context_window = 64000\nmax_output_tokens = 8000\n"
        'reasoning_efforts = ["low", "high"]\ninput_price = 0.5\noutput_price = 1.5\n'
        '[models."gpt-6-astra"]\ninput_price = 9.0\n',
    )
    settings = load_settings(tmp_path, {})
    mine = settings.catalog().get("my-model")
    assert mine.context_window == 64_000 and mine.cost(1_000_000, 0, 1_000_000) == 2.0
    assert settings.catalog().get("gpt-6-astra").input_price == 9.0
    assert context_management(settings) == [{"type": "compaction", "compact_threshold": 51_200}]
    with pytest.raises(ConfigError, match="my-model does not accept 'medium'"):
        load_settings(tmp_path, {"reasoning_effort": "medium"})


def test_a_bad_model_entry_names_the_file_the_entry_and_the_key(
    tmp_path: Path, user_dir: Path
) -> None:
    path = user_config(user_dir, '[models."my-model"]\ncontext_window = 64000\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, {})
    message = str(info.value)
    assert f"invalid setting models (from {path})" in message
    assert 'models."my-model" in your config: max_output_tokens: required' in message


def test_reasoning_summaries_are_requested_whenever_the_model_reasons(tmp_path: Path) -> None:
    def param(**overrides):
        return reasoning_param(load_settings(tmp_path, overrides))

    assert param() == {"summary": "auto"}  # gpt-6-astra reasons by default
    assert param(reasoning_effort="high") == {"effort": "high", "summary": "auto"}
    assert param(reasoning_effort="ultra") == {"effort": "max", "summary": "auto"}
    assert param(model="gpt-6-luna", reasoning_effort="none") == {"effort": "none"}
    assert param(model="gpt-4.1") is None  # not a reasoning model
    assert param(model="local-llm") is None  # unknown: leave the server's default


def test_compaction_is_on_by_default_and_follows_the_model(tmp_path: Path) -> None:
    def cm(**overrides):
        return context_management(load_settings(tmp_path, overrides))

    def client(**overrides):
        return client_compact_threshold(load_settings(tmp_path, overrides))

    # A steerable model (the default, gpt-6-astra): the API does not steer responses that use
    # context_management, so the client compacts at the same 80% of the window itself.
    assert cm() is None and client() == 840_000
    assert cm(compact_threshold=50_000) is None and client(compact_threshold=50_000) == 50_000
    # A model without steering keeps server-side compaction; the client only on request.
    assert cm(model="gpt-5") == [{"type": "compaction", "compact_threshold": 320_000}]
    assert client(model="gpt-5") is None
    gpt5 = {"model": "gpt-5", "compact_threshold": 50_000}
    assert cm(**gpt5) == [{"type": "compaction", "compact_threshold": 50_000}]
    assert client(**gpt5) == 50_000
    assert cm(model="gpt-5", compact_threshold=10) == [
        {"type": "compaction", "compact_threshold": 1000}
    ]
    assert cm(compaction=False) is None and client(compaction=False) is None
    assert cm(model="local-llm") is None  # window unknown and no threshold given
    assert client(model="local-llm") is None


def test_conversation_options_carry_a_per_session_cache_key(tmp_path: Path) -> None:
    options = conversation_options(load_settings(tmp_path, {}), "20261201-abc")
    assert options["extra"] == {"prompt_cache_key": "20261201-abc"}
    assert {"type": "shell", "environment": {"type": "local"}} in options["tools"]
    assert options["model"] == DEFAULT_MODEL


def test_a_model_without_builtin_tools_gets_function_tools(tmp_path: Path) -> None:
    tools = conversation_options(load_settings(tmp_path, {"model": "gpt-5"}), "s")["tools"]
    assert {t["type"] for t in tools} == {"function"}
    tools = conversation_options(load_settings(tmp_path, {"model": "local-llm"}), "s")["tools"]
    assert {"type": "apply_patch"} in tools  # unknown: as configured (built-in by default)


def test_switching_model_adapts_reasoning_tools_and_compaction(tmp_path: Path) -> None:
    from codeagent.agent.assembly import model_note, model_switch

    settings = load_settings(tmp_path, {"reasoning_effort": "ultra"})
    switched = settings.model_copy(update={"model": "gpt-5"})
    fields = model_switch(switched, "s")
    assert fields["reasoning"] == {"summary": "auto"}  # gpt-5 has no ultra: its default
    assert fields["context_management"] == [{"type": "compaction", "compact_threshold": 320_000}]
    assert {t["type"] for t in fields["tools"]} == {"function"}
    note = model_note(settings, "gpt-5")
    assert "shuts down on 2026-12-11" in note and "reasoning effort 'ultra'" in note
    assert model_note(settings, "gpt-6.2-astra") is None


def test_every_effort_of_every_model_is_sent_as_the_sdk_defines_it(tmp_path: Path) -> None:
    """``reasoning`` as sent, for each catalog model and level, validates against the SDK's
    ``Reasoning`` TypedDict made strict (no undeclared key, effort within its Literal)."""
    from openai.types.shared_params.reasoning import Reasoning
    from pydantic import TypeAdapter
    from pydantic_core import SchemaValidator

    schema = TypeAdapter(Reasoning).core_schema
    schema["extra_behavior"] = "forbid"
    validator = SchemaValidator(schema)
    settings = load_settings(tmp_path, {})
    for model in settings.catalog().models:
        for effort in (None, *model.reasoning_efforts):
            chosen = settings.model_copy(update={"model": model.id, "reasoning_effort": effort})
            param = reasoning_param(chosen)
            if param is not None:
                validator.validate_python(param)
