"""The model check: deprecated and shut-down models are named with their date and replacement
(the catalog's word at once, the server's ``GET /v1/models`` in the background, cached a day),
a failed check says nothing, and ``model_not_found`` suggests current models."""

from __future__ import annotations

import json
import os
import socket
from datetime import date
from pathlib import Path

import pytest

from codeagent.agent.events import AgentError, Notice
from codeagent.agent.loop import Agent
from codeagent.config import Settings
from codeagent.responses.catalog import load_catalog
from codeagent.responses.model_check import CACHE_SECONDS, ModelCheck

API_KEY = "sk-test-model-check-123456"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(("CODEAGENT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODEAGENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CODEAGENT_CONFIG_DIR", str(tmp_path / "userconf"))
    return tmp_path / "state"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more


def check(base_url: str, model: str, **kw) -> ModelCheck:
    return ModelCheck(base_url, API_KEY, model, load_catalog(), **kw)


async def test_a_deprecated_model_is_named_at_once_with_date_and_replacement(make_server):
    server = make_server(api_key=API_KEY)
    mc = check(server.base_url, "gpt-5")
    # Before any network answer: the catalog already knows.
    assert mc.take_notes() == [
        "Model gpt-5 is deprecated and shuts down on 2026-12-11; use gpt-6.1-sol instead."
    ]
    mc.start()
    await mc.wait()
    assert mc.take_notes() == []  # said once; the server's list agrees and adds nothing


async def test_the_servers_shutdown_date_is_reported_for_a_model_the_catalog_lacks(
    make_server, isolated_state: Path
):
    server = make_server(api_key=API_KEY)
    server.state.catalog = load_catalog(
        {"gpt-legacy": {"context_window": 8000, "max_output_tokens": 1000, "status":
                        "deprecated", "shutdown_date": "2027-02-01"}}
    )  # fmt: skip
    mc = check(server.base_url, "gpt-legacy", today=lambda: date(2026, 12, 1))
    assert mc.take_notes() == []
    mc.start()
    await mc.wait()
    assert mc.take_notes() == [
        "Model gpt-legacy is deprecated and shuts down on 2027-02-01 (per the server)."
    ]
    cached = json.loads((isolated_state / "model-check.json").read_text())
    assert cached[server.base_url]["models"]["gpt-legacy"] == "2027-02-01"
    assert API_KEY not in (isolated_state / "model-check.json").read_text()


async def test_the_answer_is_cached_for_a_day(make_server, isolated_state: Path):
    server = make_server(api_key=API_KEY)
    now = [1_000_000.0]
    assert await check(server.base_url, "gpt-6-astra", clock=lambda: now[0]).fetch()
    server.stop()
    later = check(server.base_url, "gpt-6-astra", clock=lambda: now[0] + CACHE_SECONDS - 60)
    listed = await later.fetch()
    assert listed is not None and "gpt-6-astra" in listed  # from the cache: the server is gone
    assert "gpt-5.1-codex" not in listed  # the server does not offer shut-down models
    stale = check(server.base_url, "gpt-6-astra", clock=lambda: now[0] + CACHE_SECONDS + 60)
    assert await stale.fetch() is None  # a day later it asks again (and fails: no server)


@pytest.mark.parametrize("where", ["closed port", "refused key"])
async def test_a_failed_check_is_silent(make_server, isolated_state: Path, where: str):
    if where == "closed port":
        mc = check(closed_port_url(), "gpt-6-astra")
    else:
        server = make_server(api_key="sk-some-other-key-000000")
        mc = check(server.base_url, "gpt-6-astra")
    mc.start()
    await mc.wait()
    assert mc.take_notes() == []
    assert not (isolated_state / "model-check.json").exists()  # retried at the next start


async def test_the_agent_says_so_at_the_first_turn(make_server, tmp_path: Path):
    server = make_server(api_key=API_KEY)
    settings = Settings(
        base_url=server.base_url, api_key=API_KEY, model="gpt-5", transport="websocket",
        no_git=True, sandbox="none",
    )  # fmt: skip
    agent = Agent(settings, tmp_path, _NoAsk())
    first = [e async for e in agent.submit("hello")]
    second = [e async for e in agent.submit("again")]
    await agent.close()
    warnings = [e.text for e in first if isinstance(e, Notice) and e.category == "warning"]
    assert "Model gpt-5 is deprecated and shuts down on 2026-12-11" in " ".join(warnings)
    assert first[-1].kind == "turn_completed"  # the request went out all the same
    assert not any(isinstance(e, Notice) and "gpt-5 is deprecated" in e.text for e in second)


async def test_model_not_found_names_the_model_and_suggests_current_ones(
    make_server, tmp_path: Path
):
    server = make_server(api_key=API_KEY)
    settings = Settings(
        base_url=server.base_url, api_key=API_KEY, model="gpt-5.1-codex", no_git=True,
        sandbox="none",
    )  # fmt: skip
    agent = Agent(settings, tmp_path, _NoAsk())
    events = [e async for e in agent.submit("hello")]
    await agent.close()
    error = events[-1]
    assert isinstance(error, AgentError) and error.code == "model_not_found"
    assert "gpt-5.1-codex" in error.message
    assert "was shut down on 2026-07-23; use gpt-6-astra instead" in error.message
    assert "Current models: gpt-6-astra, gpt-6.2-astra, gpt-6.2-sol" in error.message


class _NoAsk:
    async def decide(self, request):
        raise AssertionError(f"unexpected approval request: {request}")
