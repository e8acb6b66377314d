"""The peer benchmark's report section: Codex CLI and codeagent side by side."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from benchmarks.codex_peer_turns import PeerRun, ToolTurn
from benchmarks.report import Section, Table, kib, median, ms, percentile

TITLE = "9. Codex CLI as a peer"
#: Goals from issue 15: client work per tool turn at 1,000 items, and its ratio to Codex.
GOAL_CLIENT_WORK = 0.003
GOAL_RATIO = 0.15


@dataclass
class PeerConfig:
    """How much to run: loop lengths, alternating runs per client, the long loop."""

    loops: tuple[int, ...] = (10, 25)
    runs: int = 3
    long_calls: int = 350
    long_runs: int = 1
    warmup: int = 3
    #: The long loop's window: tool turns sent with at least this many conversation items.
    long_window: int = 990

    @classmethod
    def smoke(cls) -> PeerConfig:
        return cls(loops=(3,), runs=1, long_calls=8, long_runs=1, warmup=2, long_window=16)


def history_items(turn: ToolTurn) -> int:
    """Conversation items when tool turn ``turn.index`` is sent: the user's message, then per
    tool call its reasoning, call and output."""
    return 1 + 3 * (turn.index + 1)


def _values(turns: list[ToolTurn], attr: str) -> list[float]:
    return [v for t in turns if (v := getattr(t, attr)) is not None]


def _p95(values: list[float]) -> float | None:
    return percentile(values, 95)


def _input_bytes(raw: str) -> int | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return len(json.dumps(body.get("input", []), separators=(",", ":")).encode())


def build_section(
    cfg: PeerConfig,
    runs: list[PeerRun],
    codex_note: str,
    codex_ran: bool,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    stamp: float,
) -> Section:
    """Section 8 from all runs (failed ones listed, not counted)."""
    s = Section("peer", TITLE)
    s.method = (
        "Both clients run equivalent tool loops on the same local server process "
        "(`benchmarks/server_proc.py`, one script): each of N responses carries a reasoning "
        "summary and one tool call that runs `date '+@@t0 %s.%N'; cat calc/modK.py; "
        "date '+@@t1 %s.%N'` (a ~4 KB read), then a final answer. Codex gets it as a "
        "`function_call` of its `exec_command` tool, codeagent as a `shell_call`. Runs "
        f"alternate Codex, codeagent, Codex, codeagent ({cfg.runs} each per loop length), after "
        "one unmeasured warm-up run each. Codex runs as its native binary with its own "
        '`CODEX_HOME` (custom provider, `wire_api = "responses"`, `supports_websockets = '
        "true`, `--dangerously-bypass-approvals-and-sandbox`); codeagent with `--transport "
        "websocket --sandbox none --approval-policy full-auto`; both ask for the same model.\n\n"
        "**Tool turnaround** (server clock): `response.completed` sent -> next "
        "`response.create` received, minus the tool's own time. The tool's own time is the "
        "same for both clients and measured the same way: the two `date` stamps around `cat` "
        "(they come back to the server in the tool output). So the turnaround holds "
        "everything the client does around the command: parse the response, decide, spawn "
        "the shell (Codex: `bash -lc` in a pipe/PTY; codeagent: `bash -c` under its process "
        "limit), collect the output, build and send the next request, plus loopback transfer. "
        "*before* / *after* split it at the stamps. Exec's `--json` events are not used for "
        "this: codeagent prints a tool's output event only after the next request "
        "has gone out, so event arrival times would understate its work.\n\n"
        "**Process start to first request**: `Popen` in the harness -> the server receives the "
        "first `response.create` (Codex's first one is its `generate: false` prewarm; the "
        "second column is the first request that asks for output). **Bytes per request**: "
        "frame sizes in the server's record.\n\n"
        f"**codeagent at ~1,000 items**: one {cfg.long_calls}-call loop (user message + 3 items "
        "per tool call: reasoning, call, output), its turns grouped by the history length when "
        "each request was sent. *until exec's tool_call event*: `response.completed` sent -> "
        "exec's `tool_call` event arrives (an upper bound of parsing the response and picking "
        "the call; the rest of *before* is the approval check, the command's containment and "
        "spawning the shell). The server's own time per request is shown because it grows "
        "with history too; it is not part of any turnaround."
    )
    if not codex_ran:
        s.notes.append(f"Codex CLI not run: {codex_note}.")
    else:
        s.notes.append(f"Codex CLI: `{codex_note}` (npm `@openai/codex`, native binary).")
    s.notes.append(
        f"Each `date` stamp costs {stamp * 1000:.1f} ms (median gap between two stamps run back "
        "to back in one `bash -c`); the first stamp's fork and exec falls before `t0`, so both "
        "clients' turnarounds include about that much that is not the client's own work."
    )
    s.notes.append(
        "Load average (1/5/15 min) before: "
        + "/".join(f"{x:.2f}" for x in load[0])
        + ", after: "
        + "/".join(f"{x:.2f}" for x in load[1])
        + "."
    )
    failed = [r for r in runs if not r.ok]
    for r in failed:
        tail = (r.exec.stderr_tail.strip() or "no stderr")[-300:].replace("\n", " ")
        s.notes.append(
            f"{r.client} {r.calls}-call run {r.index} failed (exit {r.exec.exit_code}, "
            f"{len(r.turns)} of {r.calls} tool turns seen): {tail}"
        )
    good = [r for r in runs if r.ok]
    codex_turns = [t for r in good if r.client == "codex" for t in r.turns]
    walls = _values(codex_turns, "self_reported")
    if walls:
        stamped = median(_values(codex_turns, "tool"))
        s.notes.append(
            "Codex writes its own `Wall time` into each `exec_command` output; its median here "
            f"is {ms(median(walls))} ms while the stamps give {ms(stamped)} ms for the same "
            "commands, so it does not time the command's run and is not used."
        )
    if not good:
        s.skipped = "no run succeeded (see the notes)"
        return s
    s.tables.append(_turnaround_table(cfg, good))
    s.tables.append(_start_bytes_table(cfg, good))
    s.tables.append(_long_table(cfg, good))
    goals = _goals_table(cfg, good, codex_ran)
    s.tables.append(goals)
    s.headlines = [[row[0], row[1]] for row in goals.rows]
    return s


def _loop_runs(good: list[PeerRun], client: str, calls: int) -> list[PeerRun]:
    return [r for r in good if r.client == client and r.calls == calls]


def _turnaround_table(cfg: PeerConfig, good: list[PeerRun]) -> Table:
    table = Table(
        "Tool turnaround per tool call, all turns of all runs (ms)",
        [
            "client",
            "loop",
            "runs",
            "tool turns",
            "median gap",
            "median tool (stamps)",
            "median turnaround",
            "p95 turnaround",
            "median before tool",
            "median after tool",
        ],
    )
    for calls in cfg.loops:
        for client in ("codex", "codeagent"):
            rs = _loop_runs(good, client, calls)
            if not rs:
                continue
            turns = [t for r in rs for t in r.turns]
            table.add(
                client,
                calls,
                len(rs),
                len(turns),
                ms(median([t.gap for t in turns])),
                ms(median(_values(turns, "tool"))),
                ms(median(_values(turns, "turnaround"))),
                ms(_p95(_values(turns, "turnaround"))),
                ms(median(_values(turns, "before"))),
                ms(median(_values(turns, "after"))),
            )
    return table


def _start_bytes_table(cfg: PeerConfig, good: list[PeerRun]) -> Table:
    table = Table(
        "Process start, bytes and transport (medians over runs)",
        [
            "client",
            "loop",
            "start -> first request (ms)",
            "start -> first generating request (ms)",
            "requests per run",
            "bytes per request (mean)",
            "bytes per tool-turn request (median)",
            "of which `input` (median)",
            "uploaded per run (KiB)",
            "transport (server record)",
            "connections opened per run",
        ],
    )
    for calls in cfg.loops:
        for client in ("codex", "codeagent"):
            rs = _loop_runs(good, client, calls)
            if not rs:
                continue
            reqs = [q for r in rs for q in r.requests]
            tool_reqs = [q for q in reqs if q.has_output]
            inputs = [b for q in tool_reqs if (b := _input_bytes(q.raw)) is not None]
            table.add(
                client,
                calls,
                ms(median([v for r in rs if (v := r.first_request) is not None])),
                ms(median([v for r in rs if (v := r.first_generating_request) is not None])),
                f"{median([len(r.requests) for r in rs]):.0f}",
                f"{statistics.mean(q.nbytes for q in reqs):,.0f}" if reqs else "n/a",
                f"{median([q.nbytes for q in tool_reqs]) or 0:,.0f}",
                f"{median(inputs) or 0:,.0f}",
                kib(median([sum(q.nbytes for q in r.requests) for r in rs])),
                ", ".join(sorted({r.transports for r in rs})),
                f"{median([r.connections for r in rs]):.0f}",
            )
    return table


def _long_table(cfg: PeerConfig, good: list[PeerRun]) -> Table:
    table = Table(
        f"codeagent's client work per tool turn along one {cfg.long_calls}-call loop "
        "(turnaround as above, ms)",
        [
            "history items when sent",
            "tool turns",
            "median",
            "p95",
            "median before",
            "of which until exec's tool_call event",
            "median after",
            "server's own time per request (not counted)",
        ],
    )
    rs = _loop_runs(good, "codeagent", cfg.long_calls)
    turns = [t for r in rs for t in r.turns]
    bands = [(0, 40), (80, 130), (280, 330), (cfg.long_window, 10**9)]
    for low, high in bands:
        band = [t for t in turns if low <= history_items(t) < high]
        if not band:
            continue
        items = [history_items(t) for t in band]
        span = f"{min(items)}-{max(items)}"
        values = _values(band, "turnaround")
        table.add(
            span,
            len(band),
            ms(median(values)),
            ms(_p95(values)),
            ms(median(_values(band, "before"))),
            ms(median(_values(band, "decided"))),
            ms(median(_values(band, "after"))),
            ms(median(_values(band, "server"))),
        )
    return table


def long_window_median(cfg: PeerConfig, good: list[PeerRun]) -> float | None:
    """codeagent's median turnaround over the long loop's turns at >= ``long_window`` items."""
    rs = _loop_runs(good, "codeagent", cfg.long_calls)
    band = [t for r in rs for t in r.turns if history_items(t) >= cfg.long_window]
    return median(_values(band, "turnaround"))


def _goals_table(cfg: PeerConfig, good: list[PeerRun], codex_ran: bool) -> Table:
    table = Table("Goals (issue 15)", ["measure", "value", "goal", "met"])
    at_1000 = long_window_median(cfg, good)
    loop = max(cfg.loops)

    def med(client: str, attr: str) -> float | None:
        turns = [t for r in _loop_runs(good, client, loop) for t in r.turns]
        return median(_values(turns, attr))

    def start(client: str) -> float | None:
        return median(
            [v for r in _loop_runs(good, client, loop) if (v := r.first_request) is not None]
        )

    table.add(
        f"codeagent client work per tool turn at >= {cfg.long_window} items, median (ms)",
        ms(at_1000),
        f"<= {GOAL_CLIENT_WORK * 1000:.0f} ms",
        "n/a" if at_1000 is None else ("yes" if at_1000 <= GOAL_CLIENT_WORK else "no"),
    )
    codex_turn = med("codex", "turnaround") if codex_ran else None
    if at_1000 is not None and codex_turn:
        ratio = at_1000 / codex_turn
        table.add(
            f"... / Codex's median turnaround ({loop}-call loop)",
            f"{ratio:.2f}x",
            f"<= {GOAL_RATIO:.2f}x",
            "yes" if ratio <= GOAL_RATIO else "no",
        )
    ours = med("codeagent", "turnaround")
    if ours is not None and codex_turn:
        table.add(
            f"codeagent / Codex median turnaround, {loop}-call loop",
            f"{ours / codex_turn:.2f}x",
            f"<= {GOAL_RATIO:.2f}x",
            "yes" if ours / codex_turn <= GOAL_RATIO else "no",
        )
    a, b = start("codeagent"), start("codex")
    if a is not None and b is not None:
        table.add(
            "process start -> first request, codeagent / Codex native binary",
            f"{ms(a)} / {ms(b)} ms = {a / b:.2f}x",
            "<= 1.00x",
            "yes" if a <= b else "no",
        )
    return table
