"""Report sections 1-3 of the end-to-end benchmark, built from the runs of ``e2e``."""

from __future__ import annotations

import itertools
import statistics

from benchmarks.e2e_model import TRANSPORTS, E2EConfig, Run, tool_times
from benchmarks.report import Section, Table, kib, median, ms, secs


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
    s1.tables = [summary, ratio, per_run, _client_accounting(good)]
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


def _client_accounting(runs: list[Run]) -> Table:
    """What exec itself reported (``turn_completed`` metrics) next to what the server received."""
    table = Table(
        "The client's own accounting (exec's `turn_completed` metrics) vs the server's record",
        [
            "transport",
            "model calls",
            "bytes sent KiB (client)",
            "uploaded KiB (server)",
            "full resends would be KiB (client)",
        ],
    )
    for t in TRANSPORTS:
        rs = [r for r in runs if r.transport == t]
        done = [r.exec.of_kind("turn_completed") for r in rs]
        metrics = [d[-1].get("metrics", {}) for d in done if d]
        if not metrics:
            table.add(t, "n/a", "n/a", "n/a", "n/a")
            continue
        calls = median([d[-1].get("model_calls", 0) for d in done if d])
        table.add(
            t,
            f"{calls:.0f}" if calls is not None else "n/a",
            kib(median([m.get("bytes_sent", 0) for m in metrics])),
            kib(median([r.uploaded for r in rs])),
            kib(median([m.get("bytes_full_resend", 0) for m in metrics])),
        )
    return table
