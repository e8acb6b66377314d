"""The first-token benchmark's data and its report section (``first_token`` measures)."""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from typing import Any

from benchmarks.e2e_model import LinkSpec
from benchmarks.report import Section, Table, ms, percentile

TITLE = "8. Enter to first token: prewarmed vs cold"
MODES = ("cold", "prewarmed")


@dataclass
class Sample:
    """One run: Enter to first delta, the server's part, and what the turn's request carried."""

    mode: str
    enter_to_token: float
    server_time: float
    before_send: float  # Enter -> the request at the server, minus the one-way delay
    after_delta: float  # the first delta sent -> shown, minus the one-way delay
    client_cpu: float  # the client process's CPU time from Enter to the first delta
    prewarm_s: float | None
    chained: bool
    frame_bytes: int  # the turn's response.create as sent (JSON text)
    prewarm_bytes: int  # the generate: false request sent while typing (0 when cold)
    fields: str  # what the turn's request held
    wire_up: int  # bytes up from Enter to the turn's end (TLS and upgrade included)
    new_connections: int  # TCP connections opened after Enter


@dataclass
class Measured:
    """Everything one measurement produced, for ``build_section``."""

    samples: list[Sample]
    probes: list[dict[str, Any]]  # each: the connection's setup ("open_s"), ping "rtts"
    how: str
    link: LinkSpec
    load: tuple[tuple[float, ...], tuple[float, ...]]  # load average before, after


def build_section(measured: Measured, method: str) -> Section:
    """The section: times per mode, the goal's comparison, and what the first request carried;
    ``method`` says how the numbers were taken."""
    samples, probes, link, load = measured.samples, measured.probes, measured.link, measured.load
    by_mode = {m: [s for s in samples if s.mode == m] for m in MODES}
    times = {m: [s.enter_to_token for s in by_mode[m]] for m in MODES}
    med = {m: statistics.median(times[m]) for m in MODES}
    rtt = statistics.median([r for p in probes for r in p["rtts"]])
    setup = statistics.median(p["open_s"] for p in probes)
    warm = by_mode["prewarmed"]
    server = statistics.median(s.server_time for s in warm)
    bound = rtt + server
    within = sum(s.enter_to_token <= rtt + s.server_time for s in warm)
    met = med["prewarmed"] <= bound

    timing = Table(
        f"Enter to first visible text delta, ms ({len(warm)} runs per mode, alternating)",
        ["mode", "median", "p90", "min", "max", "server time", "Enter -> request at the server",
         "first delta sent -> shown", "left after 1 RTT + server time",
         "client CPU, Enter to first delta"],
    )  # fmt: skip
    for m in MODES:
        rows = by_mode[m]
        timing.add(
            m, ms(med[m]), ms(percentile(times[m], 90)), ms(min(times[m])), ms(max(times[m])),
            _median_ms(s.server_time for s in rows), _median_ms(s.before_send for s in rows),
            _median_ms(s.after_delta for s in rows),
            _median_ms(s.enter_to_token - rtt - s.server_time for s in rows),
            _median_ms(s.client_cpu for s in rows),
        )  # fmt: skip
    goal = Table("The goal: prewarmed Enter to first token <= 1 RTT + server time", ["", "value"])
    goal.add("link round trip (WebSocket ping -> pong, median of all probes), ms", ms(rtt))
    goal.add("a new connection: TCP + TLS + WebSocket upgrade (probe, median), ms", ms(setup))
    goal.add("server time of the prewarmed turns (request received -> first delta sent), ms",
             ms(server))  # fmt: skip
    goal.add("1 RTT + server time, ms", ms(bound))
    goal.add("prewarmed, median, ms", ms(med["prewarmed"]))
    verdict = "met" if met else "not met"
    goal.add("prewarmed median <= 1 RTT + server time", f"{verdict} ({ms(med['prewarmed'])} "
             f"{'<=' if met else '>'} {ms(bound)})")  # fmt: skip
    goal.add("prewarmed runs within their own 1 RTT + server time", f"{within} of {len(warm)}")
    goal.add("gap: prewarmed median - (1 RTT + server time), ms", ms(med["prewarmed"] - bound))
    goal.add("what fills it: the client's CPU from Enter to the first delta (prewarmed "
             "median), ms", ms(statistics.median(s.client_cpu for s in warm)))  # fmt: skip
    goal.add("cold / prewarmed (medians)", f"{med['cold'] / med['prewarmed']:.2f}x")

    carried = Table(
        "What the turn's first request carried (medians; the server's record and the link's "
        "byte count)",
        ["mode", "response.create, bytes (JSON)", "it held", "sent before Enter (prewarm), bytes",
         "bytes up on the link, Enter to the turn's end", "TCP connections opened after Enter"],
    )  # fmt: skip
    for m in MODES:
        rows = by_mode[m]
        carried.add(
            m, int(statistics.median(s.frame_bytes for s in rows)), rows[-1].fields,
            int(statistics.median(s.prewarm_bytes for s in rows)),
            int(statistics.median(s.wire_up for s in rows)),
            int(statistics.median(s.new_connections for s in rows)),
        )  # fmt: skip
    unchained = sum(not s.chained for s in warm)
    notes = [
        f"Link: {link.describe()}; {measured.how}.",
        f"Load average (1, 5, 15 min) before: {_load(load[0])}; after: {_load(load[1])} "
        f"({os.cpu_count()} cores, shared).",
        "Prewarm itself (run while the user types, not part of the times above), median: "
        f"{ms(statistics.median(s.prewarm_s or 0.0 for s in warm))} ms"
        + (f"; {unchained} prewarm(s) failed and those turns went cold" if unchained else ""),
        "Columns after the server time are medians, each leg minus the link's one-way delay "
        f'({link.rtt * 500:.0f} ms): "Enter -> request at the server" is the client building '
        "and sending the request (for cold, also the connection's three round trips: TCP, TLS "
        '1.3, upgrade); "first delta sent -> shown" is the client reading and routing the '
        'first delta; "left after" is Enter to token minus the measured RTT and the server '
        "time, i.e. the client's own time plus the difference between the ping's round trip and "
        "the link's.",
        "A chained request still repeats `instructions` and `tools`: the API does not carry them "
        "over through `previous_response_id`; its `input` is the user's message alone, and "
        "permessage-deflate sends the repeated part as back-references to the prewarm's.",
    ]
    return Section(
        key="first_token",
        title=TITLE,
        method=method,
        tables=[timing, goal, carried],
        notes=notes,
        headlines=[
            ["Enter to first token, prewarmed / cold (median)",
             f"{ms(med['prewarmed'])} ms / {ms(med['cold'])} ms "
             f"({med['cold'] / med['prewarmed']:.2f}x)"],
            ["prewarmed first token <= 1 RTT + server time",
             f"{verdict}: {ms(med['prewarmed'])} vs {ms(bound)} ms"],
        ],
    )  # fmt: skip


def _median_ms(values: Any) -> str:
    return ms(statistics.median(values))


def _load(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)
