"""Notifications: the bell and the terminal's desktop notification when codeagent needs a user
who looks at another window (the app blurred), driven through the real app and local server."""

from __future__ import annotations

import pytest
from textual import events

from codeagent.tui.notify import desktop_sequence
from codeagent.tui.widgets.prompt import PromptArea
from tests.tui.conftest import until
from tests.tui.test_app_flows import SIZE, finish, panel

OSC9 = "\x1b]9;"


def capture(app) -> list[str]:
    """Record the bell and every raw write to the terminal driver (headless writes nothing)."""
    out: list[str] = []
    app.bell = lambda: out.append("BELL")
    driver_write = app._driver.write

    def write(data: str) -> None:
        out.append(data)
        driver_write(data)

    app._driver.write = write
    return out


async def blur_and_submit(pilot, app, text: str) -> None:
    """The user switches to another window, then the message goes (no key press: that would
    give the app its focus back)."""
    app.post_message(events.AppBlur())
    await until(pilot, lambda: not app.app_focus, "app blurred")
    app.prompt.post_message(PromptArea.Submitted(app.prompt, text))


def desktop(out: list[str]) -> list[str]:
    return [w for w in out if w.startswith(OSC9) or w.startswith("\x1b]777;")]


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TMUX", "VTE_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


async def test_blurred_approval_and_turn_end_ring_and_notify(make_app) -> None:
    app = make_app(notify="desktop")
    async with app.run_test(size=SIZE) as pilot:
        out = capture(app)
        await blur_and_submit(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        assert out[0] == "BELL"
        (note,) = desktop(out)
        assert note.startswith(f"{OSC9}codeagent: Approval waiting: patch: ") and "greet.py" in note
        out.clear()
        await pilot.press("f2", "y")  # the user is back: the keys give the app its focus again
        assert app.app_focus
        await finish(pilot, app)
        assert out == []  # a turn that ends while the user watches needs no signal

        await blur_and_submit(pilot, app, "hello")
        await finish(pilot, app, turns=2)
        assert out == ["BELL", f"{OSC9}codeagent: The turn finished.\x1b\\"]


async def test_bell_mode_rings_without_a_desktop_notification(make_app) -> None:
    app = make_app()  # the default is "bell"
    async with app.run_test(size=SIZE) as pilot:
        out = capture(app)
        await blur_and_submit(pilot, app, "hello")
        await finish(pilot, app)
        assert out == ["BELL"]


async def test_nothing_when_focused_or_off(make_app) -> None:
    app = make_app(notify="desktop")
    async with app.run_test(size=SIZE) as pilot:
        out = capture(app)
        app.prompt.post_message(PromptArea.Submitted(app.prompt, "hello"))
        await finish(pilot, app)
        assert out == []
    app = make_app(notify="off")
    async with app.run_test(size=SIZE) as pilot:
        out = capture(app)
        await blur_and_submit(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        assert out == []  # not even the approval bell


def test_model_text_cannot_escape_the_notification():
    hostile = "rm -rf x\x1b]0;pwned\x07\x9c\nnext line\r\x1b[2J;9;4"
    seq = desktop_sequence("code;agent", hostile, {"TERM": "xterm"})
    inner = seq[len(OSC9) : -2]
    assert seq.startswith(OSC9) and seq.endswith("\x1b\\")
    assert not any(ch in inner for ch in "\x1b\x07\x9c\n\r")
    assert inner == "code,agent: rm -rf x ]0;pwned next line [2J;9;4"
    vte = desktop_sequence("codeagent", "done", {"VTE_VERSION": "7600"})
    assert vte == "\x1b]777;notify;codeagent;done\x1b\\"
    tmux = desktop_sequence("codeagent", "done", {"TMUX": "/tmp/tmux-0/default,1,0"})
    assert tmux == "\x1bPtmux;\x1b\x1b]9;codeagent: done\x1b\x1b\\\x1b\\"
