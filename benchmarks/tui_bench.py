"""Measurement 5: TUI responsiveness, headless through Textual's ``App.run_test()``.

What counts as a *paint*: Textual's screen update timer produces a compositor update and hands
it to ``App._display``; in headless mode ``_display`` skips the terminal write, so the hook here
also serialises the update to escape codes (``render_segments``), i.e. everything a real
terminal run does except the final ``write``. Each paint is timestamped.

- Key press to paint while streaming (``tui_stream``): the real ``Agent`` over WebSocket to a
  local server in another process streams a 20,000-token Markdown answer (headings, lists,
  links, tables, highlighted code) at 1,000 tokens/s. About five times a second the byte "x" is
  written into a pipe read by an input thread shaped like ``LinuxDriver``'s (``XTermParser``,
  then ``Driver.process_message``, which posts the key to the app from that thread); latency =
  from that write to the first paint after the prompt's ``render_lines`` drew the new
  character. The path before the paint-latency work and the shipped one run alternately
  (A B A B) in the same process against the same server (``tui_variants``); each run also
  records the screen update durations and the full garbage collections during the stream.
- Opening a 2,000-message session: ``/resume`` path (``app.resume_session``: load the JSONL
  session, rebuild the agent, re-render the transcript): time to the first paint that shows
  session content, and time until the whole transcript is rendered and painted.
  Scroll responsiveness: ``page up`` on the conversation, time until the paint showing the new
  scroll offset.
- Startup: a fresh Python process that imports the app, builds the real agent and app and runs
  it headless; time from spawning the process to its first paint (process start, imports and
  mount included).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import tui_stream
from benchmarks.report import Section, Table, ms, percentile
from benchmarks.server_handle import REPO, ServerProcess, child_env
from benchmarks.tui_paint import PaintClock

SIZE = (120, 40)


def progress(text: str) -> None:
    """One progress line on stderr (shown by run_all when the group times out)."""
    print(f"[tui] {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


#: Give up (and say so) when streaming or opening a session takes longer than this (seconds).
STREAM_CAP = 45.0
SESSION_CAP = 40.0


def _git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text("# bench\n")
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@x.invalid", "commit", "-qm", "init"],
        cwd=path,
        check=True,
    )
    return path


def _make_app(root: Path, base_url: str) -> Any:
    from codeagent.agent.loop import Agent
    from codeagent.config import load_settings
    from codeagent.tui.app import CodeAgentApp
    from codeagent.tui.approver import TuiApprover

    settings = load_settings(
        root,
        {
            "base_url": base_url,
            "api_key": "sk-benchmark-not-a-real-key",
            "approval_policy": "full-auto",
            "transport": "websocket",
        },
    )
    approver = TuiApprover()
    agent = Agent(settings, root, approver)
    return CodeAgentApp(agent, approver, settings=settings, root=root)


def write_session(root: Path, messages: int) -> str:
    """A stored session of ``messages`` chat messages (user prompts and Markdown answers)."""
    from codeagent.sessions import SessionStore

    session = SessionStore().create(root)
    answer = (
        "I read `calc/mod{n}.py` and found the problem:\n\n"
        "- `op_{n}` scales before summing\n- the test expects the opposite\n\n"
        "```python\ndef op_{n}(values):\n    return sum(values) * 2\n```\n"
    )
    for n in range(messages // 2):
        session.append_event(
            {"kind": "turn_started", "text": f"Question {n}: why does op_{n} fail?"}
        )
        session.append_event(
            {"kind": "text_done", "item_id": f"msg_{n}", "text": answer.format(n=n)}
        )
    return session.id


async def session_open(
    root: Path, base_url: str, messages: int, scrolls: int, cap: float
) -> dict[str, Any]:
    """Time to first paint after opening a long session (given up after ``cap`` s), then
    page-up scroll latencies."""
    session_id = write_session(root, messages)
    app = _make_app(root, base_url)
    async with app.run_test(size=SIZE) as pilot:
        clock = PaintClock(app)
        await pilot.pause()
        await app.chat.clear()
        await pilot.pause()
        first_content = clock.next_paint_when(lambda: len(app.chat.children) > 0)
        start = time.perf_counter()
        resume = asyncio.ensure_future(app.resume_session(session_id))
        done, _ = await asyncio.wait([resume], timeout=cap)
        returned = time.perf_counter()
        blocks = len(app.chat.children)
        timed_out = not done
        if timed_out:
            # Keep what was rendered so far: scrolling is still measured on those blocks.
            resume.cancel()
            await asyncio.gather(resume, return_exceptions=True)
            painted = returned
        else:
            resume.result()
            painted = await asyncio.wait_for(clock.next_paint_when(lambda: True), timeout=30)
        blocks = len(app.chat.children)
        scroll_lat: list[float] = []
        await pilot.pause()
        for _ in range(scrolls):
            chat = app.chat
            before = chat.scroll_y
            if before <= 0:
                chat.scroll_end(animate=False, immediate=True)
                await pilot.pause()
                before = chat.scroll_y
            fut = clock.next_paint_when(lambda c=chat, b=before: c.scroll_y != b)
            t = time.perf_counter()
            chat.scroll_page_up(animate=False)
            scroll_lat.append(await asyncio.wait_for(fut, timeout=10) - t)
            await asyncio.sleep(0.02)
        await app.agent.close()
    return {
        "first_content": first_content.result() - start if first_content.done() else None,
        "timed_out": timed_out,
        "first_paint": painted - start,
        "resume_call": returned - start,
        "blocks": blocks,
        "scroll": scroll_lat,
    }


def startup_times(root: Path, runs: int) -> list[dict[str, float]]:
    """Spawn-to-first-paint of a fresh process, ``runs`` times, with the child's breakdown."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.tui_bench", "--startup-child", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        line = proc.stdout.readline() if proc.stdout else ""
        elapsed = time.perf_counter() - start
        out, err = proc.communicate(timeout=60)
        if not line.startswith("painted "):
            raise RuntimeError(f"startup child failed: {(line + out + err).strip()[-800:]}")
        times.append({"total": elapsed, **json.loads(line.split(" ", 1)[1])})
    return times


async def _startup_child(root: Path) -> None:
    """Import, build and run the app; print ``painted {breakdown}`` at its first paint."""
    t0 = time.perf_counter()
    import codeagent.agent.loop
    import codeagent.tui.app  # noqa: F401

    t1 = time.perf_counter()
    app = _make_app(root, "http://127.0.0.1:9/v1")
    t2 = time.perf_counter()
    clock = PaintClock(app)  # before the app runs, so the very first paint is caught
    first = clock.next_paint_when(lambda: True)
    async with app.run_test(size=SIZE):
        painted = await asyncio.wait_for(first, timeout=30)
        breakdown = {"imports": t1 - t0, "build": t2 - t1, "to_paint": painted - t2}
        print("painted " + json.dumps(breakdown), flush=True)
        await app.agent.close()


def _dist(values: list[float]) -> list[str]:
    return [
        str(len(values)),
        ms(percentile(values, 50)),
        ms(percentile(values, 95)),
        ms(max(values) if values else None),
    ]


def run(smoke: bool = False) -> Section:
    """Run the three TUI measurements and return the section."""
    section = Section("tui", "5. TUI responsiveness")
    section.method = __doc__.split("\n\n", 1)[1].strip()
    tokens, rate = (400, 1000.0) if smoke else (20_000, 1000.0)
    messages, scrolls, starts = (40, 3, 1) if smoke else (2000, 30, 3)
    scratch = Path(tempfile.mkdtemp(prefix="cabench-tui-"))
    os.environ["CODEAGENT_STATE_DIR"] = str(scratch / "state")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    root = _git_repo(scratch / "repo")
    with ServerProcess(f"stream:{tokens}:{rate}", scratch=scratch) as server:
        base_url = f"http://127.0.0.1:{server.port}/v1"
        load = tui_stream.load_average()
        progress(f"streaming {tokens} tokens (load {load})")
        streams = tui_stream.measure_all(
            lambda: _make_app(root, base_url), SIZE, STREAM_CAP, server, progress
        )
        session = asyncio.run(session_open(root, base_url, messages, scrolls, cap=SESSION_CAP))
        progress(f"session done: {session['blocks']} blocks, timed out={session['timed_out']}")
    startup = startup_times(root, starts)
    progress(f"startup done: {[round(x['total'], 2) for x in startup]}")

    keys = tui_stream.report(section, streams, tokens, rate, STREAM_CAP, load, SIZE)
    sess = Table(
        f"Opening a {messages:,}-message session",
        ["measure", "value"],
    )
    sess.add("first paint showing session content (ms)", ms(session["first_content"]))
    if session["timed_out"]:
        sess.add("whole session rendered and painted", f"> {SESSION_CAP:.0f} s (gave up)")
        sess.add("conversation blocks mounted when given up", session["blocks"])
        section.notes.append(
            f"Opening the {messages:,}-message session did not finish within {SESSION_CAP:.0f} s;"
            f" the resume was cancelled there and scrolling was measured on the "
            f"{session['blocks']} blocks rendered by then."
        )
    else:
        sess.add("whole session rendered and painted (ms)", ms(session["first_paint"]))
        sess.add("of which resume_session() itself (ms)", ms(session["resume_call"]))
        sess.add("conversation blocks mounted", session["blocks"])
    scroll = Table("Scroll (page up) to paint", ["samples", "p50 ms", "p95 ms", "max ms"])
    scroll.add(*_dist(session["scroll"]))
    start = Table(
        "Startup: spawn to first paint (fresh process, real agent and app), median of "
        f"{len(startup)} runs",
        ["total ms", "min ms", "max ms", "imports ms", "build agent+app ms", "run to paint ms"],
    )
    totals = [x["total"] for x in startup]
    start.add(
        ms(statistics.median(totals)),
        ms(min(totals)),
        ms(max(totals)),
        *(ms(statistics.median([x[k] for x in startup])) for k in ("imports", "build", "to_paint")),
    )
    section.tables = [keys, sess, scroll, start]
    section.headlines += [
        [
            f"{messages:,}-message session: first paint with content (ms)",
            ms(session["first_content"]),
        ],
        ["scroll page up to paint, p50 (ms)", ms(percentile(session["scroll"], 50))],
        ["startup to first paint, median (ms)", ms(statistics.median(totals))],
    ]
    return section


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--startup-child":
        asyncio.run(_startup_child(Path(sys.argv[2])))
    else:
        print(json.dumps({"error": "usage: --startup-child ROOT"}))
