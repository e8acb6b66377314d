"""``[mcp_servers.NAME]`` in the config files: parsed, checked with readable errors, and held
back from a repository's file until the user trusts it (a server is a program to run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeagent.agent.mcp.tool_adapter import tool_name
from codeagent.config import ConfigError, load_settings, read_repo_config


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_user_config_servers_load(tmp_path: Path, repo: Path) -> None:
    write(tmp_path / "userconf" / "config.toml", """
[mcp_servers.time]
command = "mcp-server-time"
args = ["--local-timezone", "UTC"]
approval = "allow"

[mcp_servers.docs]
url = "https://mcp.example.com/mcp"
headers = { Authorization = "Bearer not-a-real-token" }
tool_approval = { search = "allow" }
""")  # fmt: skip
    settings = load_settings(repo, {})
    time, docs = settings.mcp_servers["time"], settings.mcp_servers["docs"]
    assert time.transport == "stdio" and time.args == ["--local-timezone", "UTC"]
    assert docs.transport == "http" and docs.approval_for("search") == "allow"
    assert docs.approval_for("delete") == "ask"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('command = "x"\nurl = "http://h/mcp"', "either command (stdio) or url (HTTP)"),
        ('url = "ftp://h"', "must start with http:// or https://"),
        ('command = "x"\napproval = "always"', "mcp_servers"),
    ],
)
def test_bad_servers_are_named(tmp_path: Path, repo: Path, table: str, message: str) -> None:
    write(tmp_path / "userconf" / "config.toml", f"[mcp_servers.s]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(repo, {})
    assert "invalid setting mcp_servers" in str(caught.value)
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_a_bad_server_name_is_refused(tmp_path: Path, repo: Path) -> None:
    write(tmp_path / "userconf" / "config.toml", '[mcp_servers."my server"]\ncommand = "x"\n')
    with pytest.raises(ConfigError, match="may use only letters, digits"):
        load_settings(repo, {})


def test_a_repositorys_servers_wait_for_trust(repo: Path) -> None:
    write(repo / ".codeagent" / "config.toml", '[mcp_servers.evil]\ncommand = "sh"\n')
    config = read_repo_config(repo)
    assert config is not None and "mcp_servers" in config.needs_trust
    assert load_settings(repo, {}).mcp_servers == {}  # not applied while untrusted


def test_tool_names_fit_the_api() -> None:
    import re

    pattern = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
    assert tool_name("time", "get_current_time", set()) == "mcp__time__get_current_time"
    odd = tool_name("docs", "search.v2 (beta)", set())
    long = tool_name("docs", "x" * 100, set())
    assert pattern.match(odd) and pattern.match(long)
    clash = tool_name("docs", "search_v2__beta_", {odd})  # the same name once sanitized
    assert pattern.match(clash) and clash != odd
    assert tool_name("docs", "x" * 100, set()) == long  # stable
