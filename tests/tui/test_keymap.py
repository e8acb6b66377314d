"""The config's ``[keymap]``: remapped keys act in the real app, bad entries are named."""

from __future__ import annotations

import os
from pathlib import Path

from codeagent.tui.app import CodeAgentApp
from codeagent.tui.keymap import BINDING_IDS, check_keymap
from codeagent.tui.widgets.approval_panel import ApprovalPanel
from codeagent.tui.widgets.diff_view import DiffView
from codeagent.tui.widgets.prompt import PromptArea
from tests.tui.conftest import GREET, until
from tests.tui.test_app_flows import SIZE, finish, notices, panel, send

KEYMAP = """
[keymap]
app.focus_approval = "f4"
"approval.approve" = "ctrl+y"
approval.reject = "not a key"
app.nope = "f9"
"""


def user_config(text: str) -> None:
    path = Path(os.environ["CODEAGENT_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def test_remapped_keys_act_and_bad_entries_are_named(make_app, repo) -> None:
    user_config(KEYMAP)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notices(app, "error"), "the keymap error")
        error = notices(app, "error")[0]
        assert "unknown binding 'app.nope'" in error
        assert "approval.reject: 'not a key' is not a key" in error
        assert "app.focus_approval" in error  # the list of ids a keymap may name

        await send(pilot, app, "patch it")
        await until(pilot, lambda: panel(app) is not None, "approval panel")
        await pilot.press("f2")  # no longer the key for it
        assert app.prompt.has_focus
        await pilot.press("f4")
        await until(
            pilot,
            lambda: app.focused is not None and app.focused is not app.prompt,
            "focus on the approval",
        )
        await pilot.press("y")  # the old key no longer approves
        await pilot.pause()
        assert panel(app) is not None and (repo / "greet.py").read_text() == GREET
        await pilot.press("f4", "ctrl+y")  # (the stray "y" went to the prompt, as typing does)
        await finish(pilot, app)
        assert "hello" in (repo / "greet.py").read_text()


def test_every_binding_has_an_id_the_keymap_knows():
    ids = {
        binding.id
        for cls in (CodeAgentApp, PromptArea, ApprovalPanel, DiffView)
        for binding in cls.BINDINGS
    }
    assert None not in ids
    assert ids == set(BINDING_IDS)


def test_keys_are_checked():
    good, errors = check_keymap({"app.quit": "Ctrl+X, f5", "app.latest": "question_mark"})
    assert good == {"app.quit": "ctrl+x,f5", "app.latest": "question_mark"} and not errors
    _, errors = check_keymap(
        {"app.quit": "ctrl+", "prompt.submit": "ctrl+nosuchkey", "app.back": "cmd+x"}
    )
    assert len(errors) == 3
