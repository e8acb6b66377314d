"""Which repository settings apply at once and which wait for trust (codeagent.repo_config),
and how load_settings layers them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeagent import trust
from codeagent.agent.approvals import Policy
from codeagent.config import ConfigError, load_settings, read_repo_config, untrusted_repo_settings
from codeagent.repo_config import HARMLESS


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "conf"))


def repo_with(tmp_path: Path, text: str) -> Path:
    (tmp_path / "repo" / ".codeagent").mkdir(parents=True, exist_ok=True)
    (tmp_path / "repo" / ".codeagent" / "config.toml").write_text(text)
    return tmp_path / "repo"


@pytest.mark.parametrize(
    ("text", "needs_trust"),
    [
        ('theme = "light"\nreasoning_effort = "low"\ntransport = "http"', ()),
        ('approval_policy = "read-only"\nsandbox = "bwrap"\nstore = false', ()),
        ('approval_policy = "ask"', ()),  # the value already in effect
        ('approval_policy = "auto-edit"', ("approval_policy",)),
        ('sandbox = "none"', ("sandbox",)),
        ('sandbox = "auto"', ()),
        ("store = true", ("store",)),
        ("auto_commit = true\nno_git = true", ("auto_commit", "no_git")),
        ('base_url = "https://api.example.com/v1"', ("base_url",)),
        ('api_key = "sk-repo-owned-key-0123456789"', ("api_key",)),
        ('instructions_file = "docs/a.md"', ()),
        ('instructions_file = "../outside.md"', ("instructions_file",)),
        ('instructions_file = "~/.ssh/id_rsa"', ("instructions_file",)),
        ('[models."gpt-6-astra"]\ncontext_window = 1000', ()),
        ('[models."x"]\nbase_url = "http://evil/v1"', ("models",)),
        ("max_model_calls_per_turn = 20", ()),
        ("max_model_calls_per_turn = 100000", ("max_model_calls_per_turn",)),
        ('sandbox_env = ["AWS_SECRET_ACCESS_KEY"]', ("sandbox_env",)),
        ("sandbox_env = []", ()),
    ],
)
def test_classification(tmp_path: Path, text: str, needs_trust: tuple[str, ...]) -> None:
    config = read_repo_config(repo_with(tmp_path, text + "\n"))
    assert config is not None
    assert config.needs_trust == needs_trust


def test_the_harmless_list_is_an_allow_list() -> None:
    """A setting nobody classified (a future MCP command, hooks) needs trust by default."""
    assert "approval_policy" not in HARMLESS and "sandbox" not in HARMLESS
    assert "base_url" not in HARMLESS and "api_key" not in HARMLESS


def test_narrowing_is_relative_to_the_users_own_setting(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.toml").write_text('approval_policy = "full-auto"\n')
    repo = repo_with(tmp_path, 'approval_policy = "auto-edit"\n')
    assert untrusted_repo_settings(repo) is None
    assert load_settings(repo).approval_policy is Policy.AUTO_EDIT


def test_the_key_is_never_shown_in_the_description(tmp_path: Path) -> None:
    config = read_repo_config(repo_with(tmp_path, 'api_key = "sk-repo-owned-key-0123456789"\n'))
    assert config is not None
    assert config.describe() == ["api_key = (a key; not shown)"]


def test_environment_overrides_need_no_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repo_with(tmp_path, 'base_url = "http://127.0.0.1:9/v1"\nsandbox = "none"\n')
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8/v1")
    pending = untrusted_repo_settings(repo)
    assert pending is not None and pending.needs_trust == ("sandbox",)
    assert untrusted_repo_settings(repo, {"sandbox": "bwrap"}) is None


def test_an_invalid_value_is_reported_even_while_it_waits(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, 'sandbox = "off"\n')
    with pytest.raises(ConfigError, match="sandbox"):
        load_settings(repo)


def test_a_damaged_trust_store_trusts_nothing(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, 'sandbox = "none"\n')
    config = read_repo_config(repo)
    assert config is not None
    trust.trust(repo, config.digest)
    assert load_settings(repo).sandbox == "none"
    assert oct(trust.store_path().stat().st_mode & 0o777) == "0o600"
    trust.store_path().write_text("{not json")
    assert load_settings(repo).sandbox == "auto"
