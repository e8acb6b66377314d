"""Enter to first token, prewarmed vs cold, on the shaped link (issue 15).

Each run is a fresh client process (``--client MODE``), as a fresh app: it makes the ``Agent``,
starts what the TUI starts after its first paint (the model check, MCP), then for **prewarmed**
awaits ``Agent.prewarm()`` (socket, TLS, upgrade, ``generate: false`` with instructions and
tools), waits while "the user types", reports ready, and on the harness's "go" (the Enter) calls
``Agent.submit`` and takes the time of the first ``TextDelta``: Enter to the first visible text.
**Cold** is the same without the prewarm, so the socket opens on Enter. The server
(``server_proc``, a scripted answer streamed at 100 tokens/s) runs in its own process behind
``shaped_server``'s link; its timeline gives the server's time (the turn's request received ->
its first delta sent) and its record what the first request carried. A probe process measures
the link's round trip (WebSocket ping -> pong through the whole path) and a connection's setup
(TCP + TLS + upgrade). Modes alternate A B A B after one untimed warm-up run. All processes
read the same ``CLOCK_MONOTONIC``.

Alone: ``.venv/bin/python -m benchmarks.first_token [--runs N] [--smoke]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.e2e_model import LinkSpec
from benchmarks.first_token_report import MODES, Measured, Sample, build_section
from benchmarks.report import Section
from benchmarks.server_handle import REPO, child_env
from benchmarks.shaped_server import ShapedServer, shaped_server

MESSAGE = "Hello! What can you do?"
API_KEY = "sk-benchmark-not-a-real-key"
#: Seconds between the app's start (and its prewarm) and the Enter: the user typing.
TYPING = 0.5
#: The scripted model's answer, streamed at a model's pace: the first delta comes alone, as from
#: a real model, not in one burst with the rest of the answer (which the client would work
#: through before the first delta reached the screen).
ANSWER = (
    "I can read and search this repository, run commands in a sandbox, and propose patches "
    "that you approve before anything changes. What would you like to do first?"
)
TOKENS_PER_SECOND = 100.0
PINGS = 10


# ---------------------------------------------------------------- the client (its own process)


class _NoApprovals:
    async def decide(self, request: Any) -> Any:
        raise RuntimeError(f"the benchmark turn asked for approval: {request.title}")


def _say(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


async def _client(mode: str, base_url: str, root: Path) -> None:
    """One app start and one turn; prints a ready line, waits for "go", prints the timings."""
    from pydantic import SecretStr

    from codeagent.agent.events import AgentError, TextDelta, TurnCompleted
    from codeagent.agent.loop import Agent
    from codeagent.config import Settings

    settings = Settings(base_url=base_url, api_key=SecretStr(API_KEY), transport="websocket")
    agent = Agent(settings, root, _NoApprovals())
    try:
        agent.model_check.start()  # what the TUI starts after its first paint
        agent.mcp.start()
        prewarm_s = None
        if mode == "prewarmed":
            started = time.monotonic()
            await agent.prewarm()  # the TUI's worker; here awaited: "completed while typing"
            prewarm_s = time.monotonic() - started
        await asyncio.sleep(TYPING)
        chained = agent.conversation.last_response_id is not None
        _say({"ready": True, "prewarm_s": prewarm_s, "chained": chained})
        await asyncio.to_thread(sys.stdin.readline)  # the Enter
        submitted, first, final = time.monotonic(), None, None
        cpu, cpu_to_first = time.process_time(), None
        async for event in agent.submit(MESSAGE):
            if isinstance(event, TextDelta) and first is None:
                first, cpu_to_first = time.monotonic(), time.process_time() - cpu
            elif isinstance(event, AgentError):
                raise RuntimeError(event.message)
            elif isinstance(event, TurnCompleted):
                final = event.final_text
        _say({"submitted": submitted, "first_delta": first, "cpu": cpu_to_first, "final": final})
    finally:
        await agent.close()


async def _probe(base_url: str, pings: int) -> None:
    """Open one WebSocket (TCP + TLS + upgrade, timed), then time ``pings`` ping -> pong."""
    import websockets

    from codeagent.responses.websocket import handshake_headers, websocket_url

    started = time.monotonic()
    ws = await websockets.connect(
        websocket_url(base_url), additional_headers=handshake_headers(API_KEY, None), proxy=None
    )
    opened = time.monotonic() - started
    rtts = []
    for _ in range(pings):
        started = time.monotonic()
        await (await ws.ping())
        rtts.append(time.monotonic() - started)
    await ws.close()
    _say({"open_s": opened, "rtts": rtts})


# ---------------------------------------------------------------- the harness


class _Harness:
    """Runs client processes against one shaped server and turns their output into samples."""

    def __init__(self, shaped: ShapedServer, scratch: Path, link: LinkSpec) -> None:
        self.shaped = shaped
        self.link = link
        self.scratch = scratch
        self.root = _repo(scratch / "repo")
        home = scratch / "home"
        self.env = child_env(
            SSL_CERT_FILE=str(shaped.ca_file),
            CODEAGENT_STATE_DIR=str(home / "state"),
            CODEAGENT_CONFIG_DIR=str(home / "config"),
            XDG_CONFIG_HOME=str(home / "xdg-config"),
            XDG_STATE_HOME=str(home / "xdg-state"),
            XDG_CACHE_HOME=str(home / "xdg-cache"),
        )
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
            self.env.pop(name, None)  # nothing may reroute the client around the link
        self._runs = 0

    def _spawn(self, *args: str) -> subprocess.Popen[str]:
        self._runs += 1
        err = (self.scratch / f"client-{self._runs}.err").open("w")
        argv = [sys.executable, "-m", "benchmarks.first_token", *args]
        argv += ["--base-url", self.shaped.base_url]
        return subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            text=True, env=self.env, cwd=REPO,
        )  # fmt: skip

    def _line(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=30)
            err = (self.scratch / f"client-{self._runs}.err").read_text().strip()
            raise RuntimeError(
                f"the benchmark client failed (exit {proc.returncode}): {err[-800:]}"
            )
        return dict(json.loads(line))

    def probe(self, pings: int) -> dict[str, Any]:
        """The link's round trip and a connection's setup, from a process of their own."""
        proc = self._spawn("--probe", str(pings))
        result = self._line(proc)
        proc.wait(timeout=30)
        return result

    def run(self, mode: str) -> Sample:
        """One fresh client, one turn."""
        server, proxy = self.shaped.server, self.shaped.proxy
        server.reset()
        proc = self._spawn("--client", mode, "--repo", str(self.root))
        try:
            ready = self._line(proc)
            up, connections = proxy.bytes_up, proxy.connections
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            result = self._line(proc)
            wire_up, new_connections = proxy.bytes_up - up, proxy.connections - connections
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if result["first_delta"] is None or not result["final"]:
            raise RuntimeError(f"the {mode} turn showed no text")
        dump = server.dump()
        creates = [r for r in dump["record"] if _payload(r).get("type") == "response.create"]
        warm = [r for r in creates if _payload(r).get("generate") is False]
        turn = [r for r in creates if _payload(r).get("generate") is not False][-1]
        received, first_sent = _server_turn(dump["timeline"])
        one_way = self.link.rtt / 2
        return Sample(
            mode=mode,
            enter_to_token=result["first_delta"] - result["submitted"],
            server_time=first_sent - received,
            before_send=received - result["submitted"] - one_way,
            after_delta=result["first_delta"] - first_sent - one_way,
            client_cpu=result["cpu"],
            prewarm_s=ready["prewarm_s"],
            chained=bool(ready["chained"]),
            frame_bytes=int(turn["nbytes"]),
            prewarm_bytes=sum(int(r["nbytes"]) for r in warm),
            fields=_fields(_payload(turn)),
            wire_up=wire_up,
            new_connections=new_connections,
        )


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    raw = record.get("raw")
    value = json.loads(raw) if raw else {}
    return value if isinstance(value, dict) else {}


def _server_turn(timeline: list[dict[str, Any]]) -> tuple[float, float]:
    """(the turn's request received, its first delta sent): the last request before the delta."""
    entries = sorted(timeline, key=lambda e: e["at"])
    first = next(e["at"] for e in entries if e["kind"] == "first_delta_sent")
    received = [e["at"] for e in entries if e["kind"] == "create_received" and e["at"] <= first]
    return received[-1], first


def _fields(body: dict[str, Any]) -> str:
    """What a request held, in words: its input items, chaining, instructions and tools."""
    inputs = body.get("input") or []
    roles = ", ".join(str(i.get("role") or i.get("type")) for i in inputs)
    parts = [f"input: {len(inputs)} item(s) ({roles})"]
    if body.get("previous_response_id"):
        parts.append("previous_response_id")
    if body.get("instructions"):
        parts.append(f"instructions ({len(body['instructions'])} chars)")
    if body.get("tools"):
        parts.append(f"tools ({len(body['tools'])})")
    return "; ".join(parts)


def _repo(root: Path) -> Path:
    root.mkdir(parents=True)
    for args in (["init", "-q", "-b", "main"], ["config", "user.email", "b@example.com"],
                 ["config", "user.name", "Bench"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "README.md").write_text("# bench\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


def collect(runs: int, pings: int, use_namespace: bool, work_dir: Path | None = None) -> Measured:
    """Warm-up, then ``runs`` alternating cold/prewarmed runs between two probes."""
    link = LinkSpec()
    scratch = Path(tempfile.mkdtemp(prefix="cabench-first-token-", dir=work_dir))
    load_before = os.getloadavg()
    try:
        script = scratch / "answer.json"
        step = {"tokens_per_second": TOKENS_PER_SECOND, "items": [{"type": "text", "text": ANSWER}]}
        script.write_text(json.dumps({"episodes": [{"steps": [step]}]}))
        with shaped_server(
            scratch, link, script=f"file:{script}", use_namespace=use_namespace
        ) as shaped:
            harness = _Harness(shaped, scratch, link)
            harness.run("cold")  # untimed: the server's first request, the page cache
            probes = [harness.probe(pings)]
            samples = [harness.run(mode) for _ in range(runs) for mode in MODES]
            probes.append(harness.probe(pings))
            how = shaped.how
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Measured(samples, probes, how, link, (load_before, os.getloadavg()))


def section(measured: Measured) -> Section:
    """The report's section for ``measured``, its method taken from this module's docstring."""
    return build_section(measured, __doc__.split("\n\n", 1)[1].rsplit("\n\nAlone:", 1)[0])


def run(smoke: bool = False, work_dir: Path | None = None) -> list[Section]:
    """The section. Smoke mode: 2 runs per mode, 3 pings, loopback proxy (no namespace)."""
    if smoke:
        return [section(collect(runs=2, pings=3, use_namespace=False, work_dir=work_dir))]
    return [section(collect(runs=12, pings=PINGS, use_namespace=True, work_dir=work_dir))]


def main(argv: list[str] | None = None) -> int:
    """The harness (prints the section), or one of its client processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="runs per mode")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--client", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        asyncio.run(_client(args.client, args.base_url, args.repo))
    elif args.probe:
        asyncio.run(_probe(args.base_url, args.probe))
    elif args.smoke:
        print(run(smoke=True)[0].to_markdown())
    else:
        print(section(collect(args.runs, PINGS, use_namespace=True)).to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
