"""DiffView in a tiny host app: hunk navigation, selection, themes, bad and hostile input."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.worker import WorkerCancelled

from codeagent.tui.themes import load_themes
from codeagent.tui.widgets.diff_view import DIFF_CSS_PATH, DiffView

THREE_HUNKS = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,3 +1,3 @@
 import os
-x = 1
+x = 2
 y = 3
@@ -40,3 +40,3 @@ def main():
 a = 1
-b = 2
+b = 20
 c = 3
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1,2 +1,2 @@
 # Title
-old text
+new text
"""


class Host(App[None]):
    """Just a DiffView, styled and themed like the real app."""

    CSS_PATH = DIFF_CSS_PATH

    def __init__(self, diff: str, hunk_counts: dict[str, int] | None = None, theme="dark"):
        super().__init__()
        self.diff = diff
        self.hunk_counts = hunk_counts
        self.start_theme = theme
        self.prepared: list[DiffView.Prepared] = []
        self.toggled: list[DiffView.HunkToggled] = []

    def compose(self) -> ComposeResult:
        yield DiffView(self.diff, hunk_counts=self.hunk_counts)

    def on_mount(self) -> None:
        for theme in load_themes():
            self.register_theme(theme)
        self.theme = self.start_theme
        self.query_one(DiffView).focus()

    def on_diff_view_prepared(self, message: DiffView.Prepared) -> None:
        self.prepared.append(message)

    def on_diff_view_hunk_toggled(self, message: DiffView.HunkToggled) -> None:
        self.toggled.append(message)


async def settle(pilot) -> None:
    # A theme change cancels and restarts the highlighting worker; wait for the one that runs.
    while True:
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


def screen_text(view: DiffView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


async def test_hunk_navigation_and_selection():
    app = Host(THREE_HUNKS)
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.hunk_count == 3 and view.current_hunk == 0
        assert view.selected_hunks == {"app.py": {0, 1}, "README.md": {0}}
        await pilot.press("j", "j", "j")  # stops at the last hunk
        assert view.current_hunk == 2
        await pilot.press("k", "space")
        await pilot.pause()
        assert view.current_hunk == 1
        assert view.selected_hunks == {"app.py": {0}, "README.md": {0}}
        assert not view.all_selected
        assert [(m.path, m.index, m.selected) for m in app.toggled] == [("app.py", 1, False)]
        text = "\n".join(screen_text(view))
        assert "app.py  +2 -2  1/2 hunks selected" in text
        assert "[ ] skipped @@ -40,3 +40,3 @@ def main():" in text
        await pilot.press("space")  # toggling again selects it again
        await pilot.pause()
        assert view.all_selected and app.toggled[-1].selected
        assert "app.py  +2 -2  2 hunks" in "\n".join(screen_text(view))


async def test_current_hunk_is_scrolled_into_view_and_marked():
    body = "".join(f" line {i}\n" for i in range(60))
    diff = (
        "--- a/long.txt\n+++ b/long.txt\n"
        f"@@ -1,61 +1,61 @@\n-first\n+FIRST\n{body}"
        "@@ -200,1 +200,1 @@\n-last\n+LAST\n"
    )
    app = Host(diff)
    async with app.run_test(size=(60, 12)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.scroll_offset.y == 0
        await pilot.press("j")
        await pilot.pause()
        lines = screen_text(view)
        marked = [line for line in lines if line.startswith("▌")]
        assert any("@@ -200,1 +200,1 @@" in line for line in marked)
        assert any("LAST" in line for line in marked)
        assert not any("line 3" in line for line in marked)  # the other hunk is unmarked


async def test_hunk_counts_from_the_request_answer_before_highlighting_is_done():
    view = DiffView(THREE_HUNKS, hunk_counts={"app.py": 2, "README.md": 1})
    # Not mounted yet, so nothing is parsed: the selection still covers every hunk.
    assert view.selected_hunks == {"app.py": {0, 1}, "README.md": {0}}


async def test_theme_switch_rehighlights_with_the_new_syntax_style():
    app = Host(THREE_HUNKS, theme="dark")
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)

        def keyword_colour():
            strip = view.render_line(2)  # " import os" context line
            return next(seg.style.color for seg in strip if seg.text == "import")

        dark = keyword_colour()
        await pilot.press("j", "space")
        app.theme = "light"
        await settle(pilot)
        light = keyword_colour()
        assert dark != light
        assert len(app.prepared) == 1  # re-coloured, not re-parsed
        # Navigation and selection survive the re-render.
        assert view.current_hunk == 1 and view.selected_hunks["app.py"] == {0}


async def test_set_diff_replaces_content_and_resets_selection():
    app = Host(THREE_HUNKS)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        await pilot.press("space")
        view.set_diff("--- a/z.c\n+++ b/z.c\n@@ -1 +1 @@\n-int a;\n+int b;\n")
        await settle(pilot)
        assert view.selected_hunks == {"z.c": {0}} and view.all_selected
        assert screen_text(view)[0].startswith(" z.c  +1 -1  1 hunk")


async def test_unparseable_diff_shows_error_and_all_of_the_text():
    bad = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\nthis is not a diff line\n"
    app = Host(bad)
    async with app.run_test(size=(100, 12)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        lines = screen_text(view)
        assert lines[0] == " Could not parse this diff; it is shown below as plain text."
        assert lines[1].startswith(" line 3: hunk '@@ -1,3 +1,3 @@' is incomplete")
        assert lines[2 : 2 + len(bad.splitlines())] == bad.splitlines()
        assert app.prepared[-1].error is not None
        # No hunks: the hunk keys do nothing and nothing breaks.
        await pilot.press("j", "space")
        assert view.hunk_count == 0 and view.selected_hunks == {}


async def test_empty_diff_says_no_changes():
    app = Host("")
    async with app.run_test(size=(40, 5)) as pilot:
        await settle(pilot)
        assert screen_text(app.query_one(DiffView))[0] == " No changes."


async def test_big_diff_scrolls_to_its_last_line():
    body = "".join(f"+value_{i} = compute({i}, 'text')  # note {i}\n" for i in range(3000))
    diff = f"--- /dev/null\n+++ b/big.py\n@@ -0,0 +1,3000 @@\n{body}"
    app = Host(diff)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        assert view.virtual_size.height == 3002
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "value_2999 = compute(2999" in screen_text(view)[-1]


async def test_hunks_that_do_not_match_the_patch_cannot_be_picked_singly():
    # The request says app.py has 3 hunks but the diff shows 2: picking would be ambiguous.
    app = Host(THREE_HUNKS, hunk_counts={"app.py": 3, "README.md": 1})
    async with app.run_test(notifications=True) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        await pilot.press("space")
        await pilot.pause()
        assert view.all_selected and app.toggled == []
        assert any("app.py cannot be picked" in n.message for n in app._notifications)
        await pilot.press("j", "j", "space")  # README.md matches, so its hunk can be left out
        await pilot.pause()
        # app.py stays whole, counted as the patch counts it.
        assert view.selected_hunks == {"app.py": {0, 1, 2}, "README.md": set()}


async def test_clicking_a_line_makes_its_hunk_current_and_a_header_toggles_it():
    app = Host(THREE_HUNKS)
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        lines = screen_text(view)
        code_row = next(y for y, line in enumerate(lines) if "b = 20" in line)
        await pilot.click(DiffView, offset=(20, code_row))
        assert view.current_hunk == 1 and view.all_selected
        header_row = next(y for y, line in enumerate(lines) if "@@ -1,2 +1,2 @@" in line)
        await pilot.click(DiffView, offset=(5, header_row))
        await pilot.pause()
        assert view.current_hunk == 2
        assert view.selected_hunks == {"app.py": {0, 1}, "README.md": set()}


async def test_horizontal_scroll_moves_the_code_but_not_the_gutter():
    long_line = "value = " + "".join(f"item{i}, " for i in range(40))
    diff = f"--- a/w.py\n+++ b/w.py\n@@ -7 +7 @@\n-old = 1\n+{long_line}\n"
    app = Host(diff)
    async with app.run_test(size=(60, 10)) as pilot:
        await settle(pilot)
        view = app.query_one(DiffView)
        added = next(line for line in screen_text(view) if "+ value" in line)
        assert added.startswith("▌      7 + value = item0, ")  # current hunk marker first
        view.scroll_to(x=8, animate=False, immediate=True)
        await pilot.pause()
        added = next(line for line in screen_text(view) if " 7 + " in line)
        assert added.startswith("▌      7 + item0, item1, ")
        assert screen_text(view)[0].startswith(" w.py  +1 -1")  # headers do not scroll
