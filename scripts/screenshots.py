"""Regenerate ``screenshots/*.svg`` (and PNGs when ``rsvg-convert`` is installed).

Each screen is a scripted session: the real Agent talks to the in-process local Responses server
in a throw-away git repository, and the app runs headless with ``run_test``.

    .venv/bin/python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.server import script as s

SIZE = (120, 36)
APP_PY = '''"""A tiny inventory service."""


def total(items):
    return sum(item["price"] for item in items)


def describe(items):
    return ", ".join(item["name"] for item in items)
'''
PATCH = (
    "@@ def total(items):\n"
    '-    return sum(item["price"] for item in items)\n'
    '+    return sum(item["price"] * item.get("qty", 1) for item in items)\n'
)
ANSWER = """I read `app.py`. `total()` ignores quantities, so an order of **three** widgets
is billed as one. The fix multiplies by `qty`:

```python
def total(items):
    return sum(item["price"] * item.get("qty", 1) for item in items)
```

Then I will run the tests to confirm:

1. `python3 -m unittest` before the change fails on `test_total_with_qty`;
2. after the change every test passes.
"""


#: the command the "command running" screen shows while it runs
TEST_COMMAND = "python3 -m unittest -v"
#: its test waits for ``.release`` (written after the shot) so the shot catches it running
TEST_PY = """import os
import time
import unittest

from app import total


class TotalTest(unittest.TestCase):
    def test_total_with_qty(self):
        while not os.path.exists(".release"):
            time.sleep(0.1)
        self.assertEqual(total([{"price": 2, "qty": 3}]), 6)
"""
#: the throw-away repository's path, as the screenshots show it
SHOWN_ROOT = "~/src/inventory"


def screenshot_script() -> s.Script:
    return s.Script(
        [
            s.Episode(
                [
                    s.Step(
                        [
                            s.reasoning("The total ignores quantities; check how items look."),
                            s.update_plan(
                                [
                                    ("Read app.py", "completed"),
                                    ("Fix total()", "in_progress"),
                                    ("Run the tests", "pending"),
                                ],
                                "Quantities are dropped in total().",
                            ),
                        ]
                    ),
                    s.Step([s.text(ANSWER)], tokens_per_second=60.0),
                ],
                "explain",
            ),
            s.Episode([s.Step([s.apply_patch("update_file", "app.py", PATCH)])], "fix"),
            s.Episode([s.Step([s.shell([TEST_COMMAND])])], "tests"),
        ]
    )


def make_repo(base: Path) -> Path:
    root = base / "inventory"
    root.mkdir(parents=True)
    (root / "app.py").write_text(APP_PY)
    (root / "test_app.py").write_text(TEST_PY)
    env = {**os.environ, "GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com"}
    env |= {"GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"}
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


async def wait_for(pilot, predicate: Callable[[], object], limit: int = 1000) -> None:
    for _ in range(limit):
        if predicate():
            return
        await pilot.pause(0.02)
    raise RuntimeError("the scripted session did not reach the expected state")


async def send(pilot, app, text: str) -> None:
    app.prompt.focus()
    app.prompt.load_text(text)
    await pilot.press("enter")


async def mid_stream(pilot, app) -> None:
    from codeagent.tui.widgets.chat import AssistantMessage

    await send(pilot, app, "explain the billing bug")
    await wait_for(pilot, lambda: any(len(a.text) > 220 for a in app.query(AssistantMessage)))


async def approval(pilot, app) -> None:
    from codeagent.tui.widgets.approval_panel import ApprovalPanel

    await send(pilot, app, "fix it")
    await wait_for(pilot, lambda: app.query(ApprovalPanel) and app.query_one(ApprovalPanel)
                   .diff_view.prepared)  # fmt: skip


async def slash_menu(pilot, app) -> None:
    app.prompt.focus()
    await pilot.press("/")


async def welcome(pilot, app) -> None:
    await pilot.pause(0.1)


async def command_running(pilot, app) -> None:
    from codeagent.tui.widgets.approval_panel import ApprovalPanel

    await send(pilot, app, "run the tests")
    await wait_for(pilot, lambda: app.query(ApprovalPanel))
    await pilot.press("f2")
    await pilot.press("y")
    await wait_for(pilot, lambda: "running" in app.agent.status().activity)
    app.status_bar.clock = lambda: (app.agent.status().turn_started or 0) + 7.3


async def resumed(pilot, app) -> None:
    await send(pilot, app, "explain the billing bug")
    await wait_for(pilot, lambda: app.turns_completed == 1 and not app.turn_running)
    session_id = app.agent.status().session_id
    await send(pilot, app, "/new")
    await send(pilot, app, f"/resume {session_id}")
    await wait_for(pilot, lambda: "Resumed session" in str(app.chat.children[-1].render()))


async def light(pilot, app) -> None:
    await send(pilot, app, "explain the billing bug")
    await wait_for(pilot, lambda: app.turns_completed == 1 and not app.turn_running)
    app.theme = "light"


SCREENS: dict[str, Callable[..., Awaitable[None]]] = {
    "welcome": welcome,
    "command-running": command_running,
    "resumed-session": resumed,
    "main-mid-stream": mid_stream,
    "patch-approval": approval,
    "slash-menu": slash_menu,
    "light-theme": light,
}


async def capture(name: str, drive, server, root: Path, out: Path) -> Path:
    from codeagent.agent.loop import Agent
    from codeagent.config import load_settings
    from codeagent.tui.app import CodeAgentApp
    from codeagent.tui.approver import TuiApprover

    settings = load_settings(
        root,
        {"base_url": server.base_url, "api_key": "screenshots", "model": DEFAULT_MODEL},
    )
    approver = TuiApprover()
    app = CodeAgentApp(Agent(settings, root, approver), approver, settings=settings, root=root)
    async with app.run_test(size=SIZE) as pilot:
        app.prompt.cursor_blink = False
        await drive(pilot, app)
        await pilot.pause(0.2)
        shown_paths(app, root)
        await pilot.wait_for_scheduled_animations()
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))
        (root / ".release").write_text("")  # let a running command end
        await app.agent.close()
    return path


def shown_paths(app, root: Path) -> None:
    """Notices name the repository by ``SHOWN_ROOT``, not by its temporary folder."""
    from rich.text import Text

    from codeagent.tui.widgets.chat import NoticeLine

    for notice in app.query(NoticeLine):
        text = str(notice.render())
        if str(root) in text:
            notice.update(Text(text.replace(str(root), SHOWN_ROOT)))


def to_png(svg: Path) -> Path | None:
    """Render ``svg`` to a PNG beside it with ``rsvg-convert`` (fonts-firacode installed).

    Textual's SVG puts each styled run in its own ``<text>`` with a fixed ``textLength``; without
    ``xml:space="preserve"`` librsvg trims the runs' leading and trailing spaces and stretches
    the rest, so a space next to inline code vanished in the PNG (the SVG itself is right).
    """
    converter = shutil.which("rsvg-convert")
    if converter is None:
        return None
    png = svg.with_suffix(".png")
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    subprocess.run(
        [converter, "-w", "1600", "-o", str(png)], input=text.encode("utf-8"), check=True
    )
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from codeagent.server.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory(prefix="codeagent-shots-") as tmp:
        os.environ["CODEAGENT_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["CODEAGENT_STATE_DIR"] = str(Path(tmp) / "state")
        for name, drive in SCREENS.items():
            root = make_repo(Path(tmp) / name)
            with EmbeddedServer(screenshot_script()) as server:
                svg = asyncio.run(capture(name, drive, server, root, args.out))
            png = to_png(svg)
            print(f"wrote {svg}" + (f" and {png}" if png else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
