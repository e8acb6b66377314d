"""Codex CLI as a peer: the same tool loops through ``codex exec`` and ``codeagent exec``.

One local server (``server_proc``, WebSocket and HTTP on one port) plays one script with an
episode per client and loop length. Each tool call reads one ~4 KB module with the same shell
command (``codex_peer_turns.tool_command``): Codex gets it as a ``function_call`` of its own
``exec_command`` tool, codeagent as a ``shell_call``; each step also carries a reasoning
summary, as a real model's would. Runs alternate Codex, codeagent, Codex, codeagent for the 10-
and 25-call loops; then codeagent runs one long loop whose last tool turns happen at about 1,000
conversation items. Codex is the native binary of ``@openai/codex`` (``codex_install``), run
with its own ``CODEX_HOME`` in ``benchmarks/.cache/``, a custom provider pointing at the server
(``wire_api = "responses"``, ``supports_websockets = true``) and sandbox and approvals off;
codeagent runs with ``--sandbox none`` and full-auto approvals to match.

``.venv/bin/python -m benchmarks.codex_peer`` runs the section alone and prints it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import codex_install
from benchmarks.codex_peer_report import PeerConfig, build_section
from benchmarks.codex_peer_turns import (
    PeerRun,
    clock_offset,
    mark_decisions,
    read_requests,
    stamp_cost,
    tool_command,
    tool_turns,
)
from benchmarks.exec_run import run_exec, run_jsonl
from benchmarks.report import Section
from benchmarks.rollout import make_workspace
from benchmarks.server_handle import ServerProcess, child_env

#: Both clients ask for the same model, one Codex knows and the server's catalog lists.
MODEL = "gpt-5.5"
#: The provider's API key variable and value (the server takes any key unless ``--api-key``).
KEY_ENV, KEY = "CODEAGENT_LOCAL_API_KEY", "sk-test-local"
FINAL = "Done: every calc module was read."
CLIENTS = ("codex", "codeagent")


def task(client: str, calls: int) -> str:
    """The user's message; the script picks the episode for (client, calls) from it."""
    return f"peer-loop-{client}-{calls}: read the calc modules one by one."


def _reasoning(step: int) -> str:
    return (
        f"Step {step}: the last read showed one more module; I read the next one so the "
        "answer rests on the whole package."
    )


def peer_script(lengths: list[int]) -> dict:
    """The server script (``codeagent.server.script`` JSON): per client and loop length, an
    episode of ``calls`` steps (reasoning + one tool call), then a final answer."""
    episodes = []
    for calls in sorted(set(lengths)):
        for client in CLIENTS:
            steps = []
            for i in range(calls):
                cmd = tool_command(i)
                if client == "codex":
                    call = {"type": "function_call", "name": "exec_command",
                            "arguments": {"cmd": cmd}}  # fmt: skip
                else:
                    call = {"type": "shell", "commands": [cmd]}
                steps.append({"items": [{"type": "reasoning", "summary": _reasoning(i)}, call]})
            steps.append({"items": [{"type": "text", "text": FINAL}]})
            episodes.append({"match": rf"peer-loop-{client}-{calls}\b", "steps": steps})
    return {"episodes": episodes, "default_reply": FINAL}


def write_codex_home(home: Path, port: int) -> Path:
    """A ``CODEX_HOME`` whose config points Codex at the local server over WebSocket."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'model = "{MODEL}"\n'
        'model_provider = "codeagent_local"\n'
        "\n[analytics]\nenabled = false\n"
        "\n[model_providers.codeagent_local]\n"
        'name = "codeagent local server"\n'
        f'base_url = "http://127.0.0.1:{port}/v1"\n'
        f'env_key = "{KEY_ENV}"\n'
        'wire_api = "responses"\n'
        "supports_websockets = true\n"
    )
    return home


def run_codex(binary: Path, home: Path, cwd: Path, calls: int):
    """One ``codex exec --json`` run of the ``calls`` loop (the native binary)."""
    env = child_env(CODEX_HOME=str(home), **{KEY_ENV: KEY})
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_API_KEY", "HTTPS_PROXY",
                 "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):  # fmt: skip
        env.pop(name, None)
    argv = [
        str(binary),
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
        "-C",
        str(cwd),
        "-m",
        MODEL,
        task("codex", calls),
    ]
    return run_jsonl(argv, cwd=cwd, env=env, timeout=180)


def run_codeagent(port: int, home: Path, cwd: Path, calls: int):
    """One ``codeagent exec --json`` run of the ``calls`` loop over WebSocket."""
    config = home / "config" / "codeagent" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("max_model_calls_per_turn = 1000\n")  # the long loop's 350 calls
    return run_exec(
        task("codeagent", calls),
        cwd=cwd,
        base_url=f"http://127.0.0.1:{port}/v1",
        transport="websocket",
        home=home,
        extra_args=["--model", MODEL, "--sandbox", "none"],
        timeout=300,
    )


def _one(server: ServerProcess, client: str, calls: int, index: int, go, offset: float) -> PeerRun:
    server.reset()
    opened_before = server.dump()["connections_opened"]  # a server-lifetime count
    result = go()
    dump = server.dump()
    requests = read_requests(dump["record"])
    opened = dump["connections_opened"] - opened_before
    run = PeerRun(client, calls, index, result, requests, connections=opened)
    run.turns = tool_turns(requests, dump["timeline"], offset)
    if client == "codeagent":
        mark_decisions(run.turns, result)
    status = "ok" if run.ok else f"FAILED (exit {result.exit_code}, {len(run.turns)} turns)"
    print(f"[peer] {client} {calls} calls run {index}: {status}", file=sys.stderr, flush=True)
    return run


def run(smoke: bool = False) -> list[Section]:
    """Run the peer benchmark; in smoke mode codeagent only, tiny loops, Codex skipped."""
    cfg = PeerConfig.smoke() if smoke else PeerConfig()
    load_before = os.getloadavg()
    binary: Path | None = None
    codex_note = ""
    if smoke:
        codex_note = "smoke mode does not install or run Codex CLI (the full run does)"
    else:
        try:
            binary = codex_install.ensure_codex()
            codex_note = codex_install.installed_version(binary)
        except codex_install.CodexUnavailable as exc:
            codex_note = str(exc)
    offset = clock_offset()
    stamp = stamp_cost()
    runs: list[PeerRun] = []
    cache = codex_install.CACHE
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="peer-", dir=cache) as tmp:
        root = Path(tmp)
        script = root / "peer-script.json"
        script.write_text(json.dumps(peer_script([*cfg.loops, cfg.long_calls, cfg.warmup])))
        workspaces = {c: make_workspace(root / f"ws-{c}") for c in CLIENTS}
        with ServerProcess(f"file:{script}", scratch=root) as server:
            codex_home = write_codex_home(root / "codex-home", server.port)  # fresh each report

            def go(client: str, calls: int):
                if client == "codex":
                    assert binary is not None
                    return lambda: run_codex(binary, codex_home, workspaces[client], calls)
                return lambda: run_codeagent(server.port, root / "home", workspaces[client], calls)

            clients = [c for c in CLIENTS if c != "codex" or binary is not None]
            for client in clients:  # page cache, first-run setup: not measured
                _one(server, client, cfg.warmup, -1, go(client, cfg.warmup), offset)
            for calls in cfg.loops:
                for index in range(cfg.runs):
                    for client in clients:  # A B A B
                        runs.append(_one(server, client, calls, index, go(client, calls), offset))
            for index in range(cfg.long_runs):
                long_go = go("codeagent", cfg.long_calls)
                runs.append(_one(server, "codeagent", cfg.long_calls, index, long_go, offset))
    load_after = os.getloadavg()
    load = (load_before, load_after)
    return [build_section(cfg, runs, codex_note, binary is not None, load, stamp)]


if __name__ == "__main__":
    for section in run(smoke="--smoke" in sys.argv):
        print(section.to_markdown())
