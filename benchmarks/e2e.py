"""Measurements 1-3: the scripted rollout through ``codeagent exec``, WebSocket vs HTTP.

The server (``server_proc``) sits behind a shaped link: in a network namespace joined by a veth
pair rate-limited with ``tc tbf`` both ways, and behind ``ShapingProxy`` which adds the one-way
delay (no ``netem`` on this kernel). Without namespaces, the proxy does both delay and rate on
loopback, and the report says so. TLS on both transports with a throwaway ``trustme`` CA.
Runs alternate between transports so that drift on the machine hits both equally.
"""

from __future__ import annotations

import itertools
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import rollout
from benchmarks.exec_run import ExecResult, run_exec
from benchmarks.netlab import LinkUnavailable, ShapedLink
from benchmarks.report import Section, Table, kib, median, ms, secs
from benchmarks.server_handle import ServerProcess
from benchmarks.shaping_proxy import ShapingProxy

TRANSPORTS = ("websocket", "http")
#: The client skips environment settings (so also SSL_CERT_FILE) for 127.0.0.1/localhost; this
#: other loopback address keeps the fallback link on loopback while the client trusts our CA.
LOOPBACK_ALIAS = "127.0.0.2"


@dataclass
class LinkSpec:
    """The emulated link: one-way delay and rate per direction."""

    rtt: float = 0.060
    rate_bps: float = 20e6

    def describe(self) -> str:
        return f"{self.rtt * 1000:.0f} ms round trip, {self.rate_bps / 1e6:.0f} Mbit/s each way"


@dataclass
class Run:
    """One rollout run: the client side (exec) and the server side (record, timeline)."""

    transport: str
    index: int
    exec: ExecResult
    record: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    wire_up: int
    wire_down: int
    connections: int
    tcp_connections: int
    turns: list[dict[str, float]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exec.exit_code == 0 and bool(self.turns)

    @property
    def uploaded(self) -> int:
        return sum(int(r["nbytes"]) for r in self.record)

    @property
    def span(self) -> float:
        """First request received -> last response completed, at the server."""
        return self.turns[-1]["completed"] - self.turns[0]["received"]


def _turns(timeline: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Pair each ``create_received`` with the following ``completed_sent`` (one per turn)."""
    turns: list[dict[str, float]] = []
    current: dict[str, float] | None = None
    for entry in sorted(timeline, key=lambda e: e["at"]):
        if entry["kind"] == "create_received":
            current = {"received": entry["at"]}
        elif entry["kind"] == "completed_sent" and current is not None:
            current["completed"] = entry["at"]
            turns.append(current)
            current = None
    return turns


def tool_times(result: ExecResult) -> list[float]:
    """Per model call, the client's tool time: from the ``model_call`` event (the response has
    completed) to the last ``tool_output`` before the next ``model_call``; 0 without tools."""
    times: list[float] = []
    start: float | None = None
    last_output: float | None = None
    for event in result.events:
        if event.get("kind") == "model_call":
            if start is not None:
                times.append(max(0.0, (last_output or start) - start))
            start, last_output = event["t"], None
        elif event.get("kind") == "tool_output" and start is not None:
            last_output = event["t"]
    if start is not None:
        times.append(max(0.0, (last_output or start) - start))
    return times


def _make_tls(scratch: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``hosts``: (ca.pem, cert.pem, key.pem)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(*hosts)
    ca_file, cert_file, key_file = scratch / "ca.pem", scratch / "cert.pem", scratch / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with cert_file.open("wb") as fh:
        for blob in cert.cert_chain_pems:
            fh.write(blob.bytes())
    return ca_file, cert_file, key_file


@dataclass
class E2EConfig:
    """How much to run: tool calls per rollout, runs per transport, and the link."""

    tool_calls: int = 25
    runs_per_transport: int = 3
    link: LinkSpec = field(default_factory=LinkSpec)
    use_namespace: bool = True


def run_rollouts(cfg: E2EConfig, scratch: Path) -> tuple[list[Run], str]:
    """Run the alternating rollouts; return the runs and a description of the link used."""
    ca_file, cert_file, key_file = _make_tls(scratch, ["127.0.0.1", LOOPBACK_ALIAS])
    template = rollout.make_workspace(scratch / "template")
    link_cm: ShapedLink | None = None
    link_note = ""
    if cfg.use_namespace:
        link_cm = ShapedLink(rate=f"{int(cfg.link.rate_bps / 1e6)}mbit")
        try:
            link_cm.__enter__()
        except LinkUnavailable as exc:
            link_note = f"network namespace unavailable ({exc}); "
            link_cm = None
    try:
        if link_cm is not None:
            ca_file, cert_file, key_file = _make_tls(scratch, [link_cm.host_ip, link_cm.server_ip])
            server = ServerProcess(
                f"rollout:{cfg.tool_calls}",
                host=link_cm.server_ip,
                certfile=cert_file,
                keyfile=key_file,
                prefix=link_cm.prefix,
                scratch=scratch,
            )
            target_host = link_cm.server_ip
            listen_host = link_cm.host_ip
            proxy_rate = None
            how = (
                f"{link_cm.describe()}; the {cfg.link.rtt * 1000:.0f} ms round trip is added by "
                "a user-space delay proxy (30 ms per direction, order preserved) because this "
                "kernel has no `netem`"
            )
        else:
            server = ServerProcess(
                f"rollout:{cfg.tool_calls}",
                certfile=cert_file,
                keyfile=key_file,
                scratch=scratch,
            )
            target_host = "127.0.0.1"
            listen_host = LOOPBACK_ALIAS
            proxy_rate = cfg.link.rate_bps
            how = (
                link_note + "loopback shaping proxy doing both the delay (30 ms per direction) "
                "and the rate limit (shared per direction)"
            )
        runs: list[Run] = []
        with (
            server,
            ShapingProxy(
                target_host,
                server.port,
                one_way_delay=cfg.link.rtt / 2,
                rate_bps=proxy_rate,
                listen_host=listen_host,
            ) as proxy,
        ):
            base_url = f"https://{listen_host}:{proxy.port}/v1"
            order = [t for _ in range(cfg.runs_per_transport) for t in TRANSPORTS]
            prev_sockets = 0  # the server counts WebSocket connections since it started
            for n, transport in enumerate(order):
                workdir = scratch / f"run{n}-{transport}"
                shutil.copytree(template, workdir / "repo", symlinks=True)
                server.reset()
                up0, down0, conns0 = proxy.bytes_up, proxy.bytes_down, proxy.connections
                result = run_exec(
                    rollout.TASK,
                    cwd=workdir / "repo",
                    base_url=base_url,
                    transport=transport,
                    home=workdir / "home",
                    ca_file=ca_file,
                )
                dump = server.dump()
                sockets_before = prev_sockets
                prev_sockets = int(dump.get("connections_opened", 0))
                run = Run(
                    transport=transport,
                    index=n // 2,
                    exec=result,
                    record=dump["record"],
                    timeline=dump["timeline"],
                    wire_up=proxy.bytes_up - up0,
                    wire_down=proxy.bytes_down - down0,
                    connections=int(dump.get("connections_opened", 0)) - sockets_before,
                    tcp_connections=proxy.connections - conns0,
                )
                run.turns = _turns(run.timeline)
                runs.append(run)
        tls = "TLS on both transports (throwaway `trustme` CA, trusted via `SSL_CERT_FILE`)"
        return runs, f"{how}; {tls}"
    finally:
        if link_cm is not None:
            link_cm.__exit__(None, None, None)


def _failure(run: Run) -> str:
    tail = run.exec.stderr_tail.strip().splitlines()[-3:]
    errors = [e.get("message", "") for e in run.exec.of_kind("error")]
    return (
        f"{run.transport} run {run.index}: exit {run.exec.exit_code}, "
        f"{len(run.turns)} turns at the server; {'; '.join(errors + tail)[:400]}"
    )


def build_sections(cfg: E2EConfig, runs: list[Run], how: str) -> list[Section]:
    """Sections for measurements 1, 2 and 3 from the runs."""
    s1 = Section("e2e", "1. End to end: WebSocket vs HTTP")
    s2 = Section("limit", "2. Physical limit")
    s3 = Section("turnaround", "3. Client turnaround")
    s1.method = (
        f"A scripted rollout of {cfg.tool_calls} tool calls (file reads of a few KB, unittest "
        "logs, V4A patches, plan updates, `git diff`; each response also carries a reasoning "
        f"summary) run by `codeagent exec --json --transport websocket|http --approval-policy "
        f"full-auto` as a subprocess in a fresh copy of a real git repository; "
        f"{cfg.runs_per_transport} runs per transport, alternating. Link: {cfg.link.describe()}"
        f" — {how}. *Wall* is the exec process's whole life (interpreter start included); "
        "*rollout* is first request received -> last response completed at the server. "
        "*Uploaded* is the sum of request bodies / WebSocket frames received by the server; "
        "*wire up* counts every byte the client sent through the link (TLS, HTTP headers, "
        "framing)."
    )
    good = [r for r in runs if r.ok]
    bad = [r for r in runs if not r.ok]
    for r in bad:
        s1.notes.append("Failed run (excluded): " + _failure(r))
    per_run = Table(
        "Every run",
        [
            "run",
            "transport",
            "exit",
            "model calls",
            "wall s",
            "rollout s",
            "per turn ms",
            "uploaded KiB",
            "wire up KiB",
            "wire down KiB",
            "client CPU s",
            "WS sockets",
            "TCP connections",
        ],
    )
    for r in runs:
        per_turn = r.span / len(r.turns) if r.turns else None
        per_run.add(
            r.index,
            r.transport,
            r.exec.exit_code,
            len(r.turns),
            secs(r.exec.wall),
            secs(r.span if r.turns else None),
            ms(per_turn),
            kib(r.uploaded),
            kib(r.wire_up),
            kib(r.wire_down),
            secs(r.exec.cpu),
            r.connections,
            r.tcp_connections,
        )
    summary = Table(
        "Medians per transport (successful runs)",
        [
            "transport",
            "runs",
            "wall s",
            "rollout s",
            "per turn ms",
            "uploaded KiB",
            "wire up KiB",
            "client CPU s",
        ],
    )
    med: dict[str, dict[str, float | None]] = {}
    for t in TRANSPORTS:
        rs = [r for r in good if r.transport == t]
        med[t] = {
            "wall": median([r.exec.wall for r in rs]),
            "span": median([r.span for r in rs]),
            "turn": median([r.span / len(r.turns) for r in rs]),
            "up": median([r.uploaded for r in rs]),
            "wire": median([r.wire_up for r in rs]),
            "cpu": median([r.exec.cpu for r in rs]),
        }
        m = med[t]
        summary.add(
            t,
            len(rs),
            secs(m["wall"]),
            secs(m["span"]),
            ms(m["turn"]),
            kib(m["up"]),
            kib(m["wire"]),
            secs(m["cpu"]),
        )
    ratio = Table("Ratio WebSocket / HTTP (lower is better for WebSocket)", ["metric", "WS/HTTP"])
    for key, label in (
        ("wall", "wall time"),
        ("span", "rollout time"),
        ("turn", "per-turn time"),
        ("up", "bytes uploaded (payload)"),
        ("wire", "bytes on the wire up"),
        ("cpu", "client CPU time"),
    ):
        a, b = med["websocket"][key], med["http"][key]
        ratio.add(label, f"{a / b:.3f}" if a is not None and b else "n/a")
        if key in ("span", "up", "wall") and a is not None and b:
            s1.headlines.append([f"WS/HTTP {label}", f"{a / b:.2f}"])
    s1.tables = [summary, ratio, per_run]
    turn_table = Table(
        "Per-turn time at the server, median over runs (ms; request received -> "
        "next request received)",
        ["turn", "websocket", "http"],
    )
    per_turn_lists = {t: _per_turn_gaps([r for r in good if r.transport == t]) for t in TRANSPORTS}
    n_turns = max((len(v) for v in per_turn_lists.values()), default=0)
    for i in range(n_turns):
        turn_table.add(i + 1, *(ms(_at(per_turn_lists[t], i)) for t in TRANSPORTS))
    s1.tables.append(turn_table)
    if not good:
        s1.skipped = "no run succeeded; see the failed runs above"
    ws_runs = [r for r in good if r.transport == "websocket"]
    if ws_runs and all(r.wire_up < r.uploaded * 0.5 for r in ws_runs):
        s1.notes.append(
            "WebSocket frames travel compressed (permessage-deflate), so the bytes on the wire "
            "are well below the payload the server decoded; HTTP request bodies are sent "
            "uncompressed."
        )
    http_runs = [r for r in good if r.transport == "http"]
    if http_runs and all(r.tcp_connections >= len(r.turns) > 1 for r in http_runs):
        s1.notes.append(
            "The HTTP client opened a new TCP connection (and TLS handshake, about two round "
            "trips here) for every request instead of reusing a keep-alive connection; that "
            "cost is part of the HTTP times above. Plain `httpx` against the same server reuses "
            "one connection, so this is the client's doing, not the server's."
        )

    _limit_section(s2, cfg, good)
    _turnaround_section(s3, cfg, good)
    return [s1, s2, s3]


def _at(values: list[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def _per_turn_gaps(runs: list[Run]) -> list[float | None]:
    """Median over runs of each turn's time (received -> next received; last: -> completed)."""
    per_run = []
    for r in runs:
        starts = [t["received"] for t in r.turns]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        gaps.append(r.turns[-1]["completed"] - r.turns[-1]["received"])
        per_run.append(gaps)
    n = max((len(g) for g in per_run), default=0)
    return [median([g[i] for g in per_run if i < len(g)]) for i in range(n)]


def _limit_section(s2: Section, cfg: E2EConfig, good: list[Run]) -> None:
    s2.method = (
        "The fastest this rollout could go on this link: the server's own generation time "
        "(request received -> `response.completed` sent, summed over turns) + the client's tool "
        "time (from the `model_call` event to the last `tool_output` of the turn, exec's own "
        "events) + one round trip per turn + uploading only the new items of each turn at the "
        "link rate (the WebSocket frame sizes, which carry only new items). Measured time is "
        "the rollout span at the server plus one round trip (the first request's way in and the "
        "last response's way out), so both count one round trip per turn. Response download "
        "time is not part of the limit."
    )
    ws = [r for r in good if r.transport == "websocket"]
    if not ws or not good:
        s2.skipped = "needs at least one successful WebSocket run (see section 1)"
        return
    table = Table(
        "Limit vs measured (medians over runs)",
        [
            "transport",
            "generation s",
            "tool s",
            "round trips s",
            "upload s",
            "limit s",
            "measured s",
            "measured / limit",
        ],
    )
    upload_new = median([sum(int(x["nbytes"]) for x in r.record) for r in ws]) or 0
    upload_s = upload_new * 8 / cfg.link.rate_bps
    for t in TRANSPORTS:
        rs = [r for r in good if r.transport == t]
        if not rs:
            table.add(t, *["n/a"] * 7)
            continue
        gen = median([sum(x["completed"] - x["received"] for x in r.turns) for r in rs]) or 0.0
        tools = median([sum(tool_times(r.exec)) for r in rs]) or 0.0
        n_turns = median([len(r.turns) for r in rs]) or 0
        rtts = n_turns * cfg.link.rtt
        limit = gen + tools + rtts + upload_s
        measured = (median([r.span for r in rs]) or 0.0) + cfg.link.rtt
        table.add(
            t,
            secs(gen),
            secs(tools),
            secs(rtts),
            secs(upload_s),
            secs(limit),
            secs(measured),
            f"{measured / limit:.2f}" if limit else "n/a",
        )
        if limit:
            s2.headlines.append([f"{t}: measured / physical limit", f"{measured / limit:.2f}"])
    s2.tables = [table]
    s2.notes.append(
        f"New items only: {kib(upload_new)} KiB uploaded over the whole WebSocket rollout "
        f"= {upload_s * 1000:.0f} ms at {cfg.link.rate_bps / 1e6:.0f} Mbit/s."
    )


def _turnaround_section(s3: Section, cfg: E2EConfig, good: list[Run]) -> None:
    s3.method = (
        "Recorded at the server: from sending `response.completed` of turn n to receiving the "
        "`response.create` of turn n+1, minus the client's tool time for turn n (exec's events, "
        "same monotonic clock). The shaped link's round trip is inside that gap, so the last "
        f"column also subtracts it ({cfg.link.rtt * 1000:.0f} ms): what remains is the "
        "client's own work (parsing, policy, checkpoint, building and sending the request) "
        "plus rate-limited transfer time."
    )
    if not good:
        s3.skipped = "needs at least one successful run (see section 1)"
        return
    table = Table(
        "Per turn, median over runs (ms)",
        [
            "turn",
            "WS gap",
            "WS tool",
            "WS turnaround",
            "WS minus RTT",
            "HTTP gap",
            "HTTP tool",
            "HTTP turnaround",
            "HTTP minus RTT",
        ],
    )
    cols: dict[str, list[list[float | None]]] = {}
    summary = Table(
        "Whole rollout (ms)",
        [
            "transport",
            "median turnaround",
            "p95 turnaround",
            "median minus RTT",
            "sum of turnarounds",
        ],
    )
    for t in TRANSPORTS:
        gaps, tools, turn = [], [], []
        rs = [r for r in good if r.transport == t]
        per_run = []
        for r in rs:
            tt = tool_times(r.exec)
            rows = []
            for i in range(len(r.turns) - 1):
                gap = r.turns[i + 1]["received"] - r.turns[i]["completed"]
                tool = tt[i] if i < len(tt) else 0.0
                rows.append((gap, tool, gap - tool))
            per_run.append(rows)
        n = max((len(x) for x in per_run), default=0)
        for i in range(n):
            gaps.append(median([x[i][0] for x in per_run if i < len(x)]))
            tools.append(median([x[i][1] for x in per_run if i < len(x)]))
            turn.append(median([x[i][2] for x in per_run if i < len(x)]))
        cols[t] = [gaps, tools, turn]
        flat = sorted(v for rows in per_run for (_, _, v) in rows)
        p95 = flat[min(len(flat) - 1, int(0.95 * len(flat)))] if flat else None
        med_t = statistics.median(flat) if flat else None
        summary.add(
            t,
            ms(med_t),
            ms(p95),
            ms(None if med_t is None else med_t - cfg.link.rtt),
            ms(sum(turn_ for turn_ in turn if turn_ is not None)),
        )
        if med_t is not None:
            s3.headlines.append(
                [f"{t}: median client turnaround minus RTT (ms)", ms(med_t - cfg.link.rtt)]
            )
    n = max(len(cols[t][0]) for t in TRANSPORTS)
    for i in range(n):
        cells: list[str] = []
        for t in TRANSPORTS:
            g, tl, tu = (_at(c, i) for c in cols[t])
            cells += [ms(g), ms(tl), ms(tu), ms(None if tu is None else tu - cfg.link.rtt)]
        table.add(i + 1, *cells)
    s3.tables = [summary, table]


def run(smoke: bool = False, work_dir: Path | None = None) -> list[Section]:
    """Measurements 1-3. Smoke mode: 3 tool calls, one run per transport, loopback proxy."""
    cfg = E2EConfig()
    if smoke:
        cfg = E2EConfig(tool_calls=3, runs_per_transport=1, use_namespace=False)
    scratch = Path(tempfile.mkdtemp(prefix="cabench-e2e-", dir=work_dir))
    try:
        runs, how = run_rollouts(cfg, scratch)
        return build_sections(cfg, runs, how)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
