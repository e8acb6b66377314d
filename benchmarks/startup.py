"""Startup: ``codeagent`` to its first painted screen, ``codeagent exec`` to its first request.

Both are measured from outside the process, alternating A B A B with a floor measured the same
way, and reported as medians and a ratio:

- **First paint.** ``codeagent`` runs as a real subprocess on a pseudo-terminal (100x30); the
  time is from spawn to the moment the bytes it wrote to the terminal hold the welcome line
  (escape sequences stripped), i.e. the first frame a user can read. The floor is a bare
  Textual app (an ``App`` with one ``Static``) measured the same way. Then Ctrl+Q.
- **Exec to first request.** ``codeagent exec --json`` (WebSocket) against the local server in
  its own process; the time is from spawn to the server's receive timestamp of the first
  request frame (both on ``CLOCK_MONOTONIC``). The floor is ``python -c pass``.

Floors are ``python -c`` processes timed from spawn to the line they print when done: the bare
interpreter, and the imports alone of each path (what bounds a start that needs those modules).

Run on its own: ``.venv/bin/python -m benchmarks.startup [--smoke]``.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from fcntl import ioctl
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.exec_run import client_env, run_exec
from benchmarks.report import Section, Table
from benchmarks.rollout import make_workspace
from benchmarks.server_handle import REPO, ServerProcess, child_env

ROWS, COLUMNS = 30, 100
PAINT_TITLE = "10. Startup to first paint"
EXEC_TITLE = "11. Exec: process start to first request"
#: An app with one Static: what any Textual program pays before its first frame.
BARE_APP = """\
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare textual app ready")

Bare().run()
"""
BARE_MARKER = "bare textual app ready"
#: The welcome notice's first words (codeagent/tui/welcome.py).
WELCOME_MARKER = "codeagent in "
#: CSI, OSC, DCS/APC/PM/SOS strings and two-byte escapes: what a terminal does not print.
_ESCAPES = re.compile(
    rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)"
)


def progress(text: str) -> None:
    print(f"[startup] {text}", file=sys.stderr, flush=True)


def _isolated_env(home: Path, base_url: str) -> dict[str, str]:
    """Config, sessions and trust records in ``home``; the local server as the endpoint."""
    env = client_env(home, base_url, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
    for name in ("CODEAGENT_TRANSPORT", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_COLOR"):
        env.pop(name, None)
        env.pop(name.lower(), None)
    env.pop("TEXTUAL", None)  # no devtools
    return env


def screen_text(raw: bytes) -> str:
    """What the terminal would show as text, in output order (escape sequences removed)."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


def time_to_text(argv: list[str], marker: str, *, cwd: Path, env: dict[str, str]) -> float:
    """Spawn ``argv`` on a fresh pty; seconds until its output shows ``marker``; then Ctrl+Q."""
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    seen = b""
    found: float | None = None
    try:
        deadline = started + 60
        while found is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            now = time.monotonic()
            seen += chunk
            # Only the tail can newly complete the marker; the whole is checked once at the end.
            if marker in screen_text(seen[-(len(chunk) + 4096) :]) or marker in screen_text(seen):
                found = now
        if found is None:
            tail = screen_text(seen)[-600:]
            raise RuntimeError(f"{argv[-1]!r} never showed {marker!r}; it showed: {tail!r}")
        os.write(master, b"\x11")  # Ctrl+Q: quit cleanly
        _drain_until_exit(master, proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return found - started


def _drain_until_exit(master: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Keep reading the pty (a full pty blocks the child) until the child exits."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _alternate(measures: list[Callable[[], float]], runs: int) -> list[list[float]]:
    """``runs`` measurements of each, interleaved (A B C A B C ...), after one untimed warm-up
    of each (disk cache, bytecode)."""
    for measure in measures:
        measure()
    results: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for measure, values in zip(measures, results, strict=True):
            values.append(measure())
    return results


def spawn_to_output(code: str) -> Callable[[], float]:
    """A measure: seconds from spawning ``python -c code`` to the line it writes when done
    (not to its exit: tearing down an interpreter is no part of starting one)."""
    program = f"{code}\nimport sys\nsys.stdout.write('done\\n')\nsys.stdout.flush()"

    def measure() -> float:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", program],
            stdout=subprocess.PIPE,
            env=child_env(),
            cwd=REPO,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.monotonic() - started
        proc.communicate()
        if line != b"done\n" or proc.returncode != 0:
            raise RuntimeError(f"python -c {code!r} failed (exit {proc.returncode})")
        return elapsed

    return measure


#: What the TUI imports before its first paint, and what exec imports before its first request.
TUI_IMPORTS = "import codeagent.cli, codeagent.config, codeagent.agent.loop, codeagent.tui.app"
EXEC_IMPORTS = "import codeagent.cli, codeagent.exec, codeagent.agent.loop"
#: Textual plus the settings module: what any first screen showing the settings must import.
SETTINGS_FLOOR = "import textual.app, textual.widgets, codeagent.config"


def first_paint(work: Path, base_url: str, runs: int) -> list[list[float]]:
    """Spawn-to-readable-screen of codeagent and of the bare app, and two import floors."""
    repo = make_workspace(work / "repo")
    bare = work / "bare_app.py"
    bare.write_text(BARE_APP)
    runs_dir = work / "homes"

    def codeagent() -> float:
        home = Path(tempfile.mkdtemp(dir=runs_dir))  # a fresh session store each run
        argv = [sys.executable, "-m", "codeagent", "--cwd", str(repo)]
        return time_to_text(argv, WELCOME_MARKER, cwd=repo, env=_isolated_env(home, base_url))

    def bare_app() -> float:
        home = Path(tempfile.mkdtemp(dir=runs_dir))
        argv = [sys.executable, str(bare)]
        return time_to_text(argv, BARE_MARKER, cwd=work, env=_isolated_env(home, base_url))

    runs_dir.mkdir()
    floors = [spawn_to_output(SETTINGS_FLOOR), spawn_to_output(TUI_IMPORTS)]
    return _alternate([codeagent, bare_app, *floors], runs)


def exec_first_request(
    work: Path, server: ServerProcess, base_url: str, runs: int
) -> list[list[float]]:
    """codeagent exec spawn -> first request at the server; ``python -c pass`` and exec's
    imports alone, spawn -> their output line."""
    repo = make_workspace(work / "exec-repo")
    homes = work / "exec-homes"
    homes.mkdir()

    def codeagent_exec() -> float:
        server.reset()
        home = Path(tempfile.mkdtemp(dir=homes))
        result = run_exec(
            "say hello", cwd=repo, base_url=base_url, transport="websocket", home=home
        )
        record = server.dump()["record"]
        if result.exit_code != 0 or not record:
            raise RuntimeError(f"exec failed (exit {result.exit_code}): {result.stderr_tail}")
        return min(frame["at"] for frame in record) - result.started

    floors = [spawn_to_output("pass"), spawn_to_output(EXEC_IMPORTS)]
    return _alternate([codeagent_exec, *floors], runs)


def import_breakdown(code: str, runs: int) -> list[tuple[str, float]]:
    """Import time of ``python -c code`` per top-level package (the sum of each module's own
    time from ``python -X importtime``, which inflates it), median of ``runs``, in ms, largest
    first."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=REPO,
            check=True,
        )
        totals: dict[str, float] = {}
        for line in proc.stderr.splitlines():
            own, _, name = line.removeprefix("import time:").partition("|")
            if not own.strip().isdigit():  # the header, or a line that is no measurement
                continue
            module = name.split("|")[-1].strip()
            package = module.split(".")[0]
            totals[package] = totals.get(package, 0.0) + int(own) / 1000
            if package == "codeagent":  # our own modules one by one, as "= module"
                totals[f"= {module}"] = totals.get(f"= {module}", 0.0) + int(own) / 1000
        for package, ms in totals.items():
            samples.setdefault(package, []).append(ms)
    medians = {k: statistics.median(v + [0.0] * (runs - len(v))) for k, v in samples.items()}
    return sorted(medians.items(), key=lambda item: -item[1])


def breakdown_table(caption: str, found: list[tuple[str, float]], top: int = 8) -> Table:
    """The ``top`` packages, the rest summed, the total, then codeagent's five largest
    modules."""
    parts = [(name, ms) for name, ms in found if not name.startswith("= ")]
    ours = [(name[2:], ms) for name, ms in found if name.startswith("= ")][:5]
    table = Table(caption, ["package", "import time (ms)", "share"])
    total = sum(ms for _, ms in parts) or 1.0
    rest = sum(ms for _, ms in parts[top:])
    for name, ms in [*parts[:top], (f"{len(parts) - top} others", rest)]:
        table.add(name, f"{ms:.0f}", f"{ms / total:.0%}")
    table.add("total", f"{total:.0f}", "100%")
    for name, ms in ours:
        table.add(f"of which `{name}`", f"{ms:.0f}", f"{ms / total:.0%}")
    return table


def _ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def _row(name: str, values: list[float]) -> list[str]:
    ordered = sorted(values)
    return [name, _ms(statistics.median(values)), _ms(ordered[0]), _ms(ordered[-1])]


def run(smoke: bool = False) -> list[Section]:
    """Both measurements as report sections."""
    runs = 2 if smoke else 9
    with tempfile.TemporaryDirectory(prefix="codeagent-startup-") as tmp:
        work = Path(tmp)
        with ServerProcess("none", scratch=work) as server:
            base_url = f"http://127.0.0.1:{server.port}/v1"
            progress(f"first paint, {runs} runs each ...")
            paint, bare, settings_floor, tui_imports = first_paint(work, base_url, runs)
            progress(f"exec to first request, {runs} runs each ...")
            to_request, interpreter, exec_imports = exec_first_request(work, server, base_url, runs)
    progress("import breakdown ...")
    samples = 1 if smoke else 3
    tui_parts = import_breakdown(TUI_IMPORTS, samples)
    exec_parts = import_breakdown(EXEC_IMPORTS, samples)
    med = statistics.median
    columns = ["", "median (ms)", "min (ms)", "max (ms)", "/ bare app"]
    paint_ratio = med(paint) / med(bare)
    paint_table = Table(
        f"Spawn to a readable first screen ({COLUMNS}x{ROWS} pty) and import floors, "
        f"{runs} runs each, interleaved",
        columns,
        [
            [*_row("codeagent: welcome line on screen", paint), f"{paint_ratio:.2f}x"],
            [*_row("bare Textual app: its Static on screen", bare), "1.00x"],
            [
                *_row("floor: `python -c` importing textual + codeagent.config", settings_floor),
                f"{med(settings_floor) / med(bare):.2f}x",
            ],
            [
                *_row("floor: `python -c` importing the modules the TUI loads", tui_imports),
                f"{med(tui_imports) / med(bare):.2f}x",
            ],
        ],
    )
    exec_ratio = med(to_request) / med(interpreter)
    exec_table = Table(
        f"`codeagent exec` spawn to first request at the server, and floors, {runs} runs each, "
        "interleaved",
        ["", "median (ms)", "min (ms)", "max (ms)", "/ python -c pass"],
        [
            [*_row("codeagent exec: first request received", to_request), f"{exec_ratio:.1f}x"],
            [*_row("floor: `python -c pass` (prints a line)", interpreter), "1.0x"],
            [
                *_row("floor: `python -c` importing the modules exec loads", exec_imports),
                f"{med(exec_imports) / med(interpreter):.1f}x",
            ],
        ],
    )
    return [
        Section(
            key="startup-0",
            title=PAINT_TITLE,
            method=(
                "`python -m codeagent` in a git repository on a pseudo-terminal, from spawn "
                "until the bytes written to the terminal contain the welcome line (escape "
                "sequences removed); the bare app is an `App` with one `Static`, measured the "
                "same way. Both are timed outside the process. The floors are `python -c` "
                "processes that only import modules (spawn to the line they print then): they "
                "bound what a first screen can cost when it needs those modules. "
                f"**codeagent / bare app: {paint_ratio:.2f}x** (goal: at most 1.5x)."
            ),
            tables=[
                paint_table,
                breakdown_table(
                    "Where the TUI's imports go (`python -X importtime`, own time summed per "
                    f"top-level package, median of {samples})",
                    tui_parts,
                ),
            ],
            headlines=[["first paint / bare Textual app", f"{paint_ratio:.2f}x"]],
        ),
        Section(
            key="startup-1",
            title=EXEC_TITLE,
            method=(
                "`python -m codeagent exec --json --transport websocket` against the local "
                "server in its own process, from spawn to the server's receive time of the "
                "first `response.create` frame (both on CLOCK_MONOTONIC). The floors are "
                "`python -c pass` and a `python -c` that imports what exec imports, spawn to "
                f"their output. **Median: {_ms(med(to_request))} ms, {exec_ratio:.1f}x the bare "
                f"interpreter; the imports alone take {_ms(med(exec_imports))} ms.**"
            ),
            tables=[
                exec_table,
                breakdown_table(
                    "Where exec's imports go (`python -X importtime`, own time summed per "
                    f"top-level package, median of {samples})",
                    exec_parts,
                ),
            ],
            headlines=[["exec start to first request, median", f"{_ms(med(to_request))} ms"]],
        ),
    ]


def main() -> int:
    """Print the sections as Markdown."""
    for section in run(smoke="--smoke" in sys.argv):
        print(section.to_markdown() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
