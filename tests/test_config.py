"""Settings precedence (defaults < user file < repo file < environment < flags) and clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from codeagent.agent.approvals import Policy
from codeagent.config import (
    ConfigError,
    Settings,
    add_arguments,
    load_settings,
    overrides_from_args,
)
from codeagent.responses.catalog import DEFAULT_MODEL


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real user config or environment leaks in: each test gets its own config dir."""
    import os

    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    user_dir = tmp_path / "userconf"
    user_dir.mkdir()
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(user_dir))
    return user_dir


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {})
    assert s.model == DEFAULT_MODEL
    assert s.store is False
    assert s.approval_policy is Policy.ASK
    assert s.transport == "auto"
    assert s.base_url == "https://api.openai.com/v1"
    assert s.api_key is None


def test_each_layer_overrides_the_one_below(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(isolated_env / "config.toml", 'model = "user"\ntheme = "light"\nsandbox = "none"\n')
    repo = tmp_path / "repo"
    write(repo / ".codeagent" / "config.toml", 'model = "repo"\nsandbox = "bwrap"\nstore = true\n')
    # store = true sends data to be retained: it waits for trust (tests/test_repo_trust.py)
    s = load_settings(repo, {})
    assert (s.model, s.theme, s.sandbox, s.store) == ("repo", "light", "bwrap", False)
    s = load_settings(repo, {}, trust_repo=True)
    assert (s.model, s.theme, s.sandbox, s.store) == ("repo", "light", "bwrap", True)

    monkeypatch.setenv("CODEAGENT_MODEL", "env")
    monkeypatch.setenv("CODEAGENT_STORE", "false")
    s = load_settings(repo, {}, trust_repo=True)
    assert (s.model, s.sandbox, s.store) == ("env", "bwrap", False)

    s = load_settings(repo, {"model": "flag", "sandbox": None})
    assert (s.model, s.sandbox, s.theme) == ("flag", "bwrap", "light")


def test_openai_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    s = load_settings(tmp_path, {})
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-test-env"
    assert s.base_url == "http://127.0.0.1:9/v1"
    # the key never shows in the repr or a dump
    assert "sk-test-env" not in repr(s)
    assert "sk-test-env" not in str(s.model_dump(mode="json"))
    # a flag beats the environment
    s = load_settings(tmp_path, {"api_key": "sk-flag", "base_url": "http://localhost:1/v1"})
    assert s.api_key.get_secret_value() == "sk-flag"
    assert s.base_url == "http://localhost:1/v1"


def test_invalid_policy_in_repo_file_names_file_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path / ".codeagent" / "config.toml", 'approval_policy = "yolo"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, {})
    text = str(err.value)
    assert "approval_policy" in text and str(path) in text
    assert "full-auto" in text and "read-only" in text


def test_invalid_env_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEAGENT_COMPACT_THRESHOLD", "lots")
    with pytest.raises(ConfigError, match="CODEAGENT_COMPACT_THRESHOLD"):
        load_settings(tmp_path, {})
    monkeypatch.setenv("CODEAGENT_COMPACT_THRESHOLD", "-5")
    with pytest.raises(ConfigError, match="compact_threshold"):
        load_settings(tmp_path, {})


def test_bad_base_url_from_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"base_url \(from the command line\).*http://"):
        load_settings(tmp_path, {"base_url": "localhost:8000"})


def test_broken_toml_and_unknown_keys(tmp_path: Path, isolated_env: Path) -> None:
    user = write(isolated_env / "config.toml", "model = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_settings(tmp_path, {})
    assert str(user) in str(err.value)
    # the file is left as it was
    assert user.read_text() == "model = \n"
    write(isolated_env / "config.toml", 'modle = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'modle'"):
        load_settings(tmp_path, {})


def test_hyphenated_keys_are_accepted(tmp_path: Path) -> None:
    write(tmp_path / ".codeagent" / "config.toml", 'approval-policy = "read-only"\n')
    assert load_settings(tmp_path, {}).approval_policy is Policy.READ_ONLY


def test_cli_flags_become_overrides(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--model", "m1", "--approval", "read-only", "--no-store"])
    overrides = overrides_from_args(args)
    assert overrides == {"model": "m1", "approval_policy": "read-only", "store": False}
    s = load_settings(tmp_path, overrides)
    assert s.approval_policy is Policy.READ_ONLY and s.store is False
    args = parser.parse_args(["--full-auto"])
    assert overrides_from_args(args) == {"approval_policy": "full-auto"}
    # nothing given: nothing overridden
    assert overrides_from_args(parser.parse_args([])) == {}


def test_settings_without_loader_use_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEAGENT_APPROVAL_POLICY", "full-auto")
    assert Settings().approval_policy is Policy.FULL_AUTO


def test_a_model_name_with_control_characters_is_refused(tmp_path: Path) -> None:
    """Repository files may set the model without trust; the name is shown on screen."""
    write(tmp_path / ".codeagent" / "config.toml", 'model = "gpt\\u001b]0;pwned\\u0007"\n')
    with pytest.raises(ConfigError, match=r"model .*control characters"):
        load_settings(tmp_path, {})


def test_a_base_url_with_control_characters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        load_settings(tmp_path, {"base_url": "http://127.0.0.1:9/v1\x1b]0;x\x07"})
