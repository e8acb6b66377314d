"""The prompt on its own: sending, new lines, history, slash and @path completion."""

from __future__ import annotations

from textual.app import App, ComposeResult

from codeagent.tui.commands import REGISTRY
from codeagent.tui.widgets.completion import CompletionMenu, fuzzy_rank, fuzzy_score
from codeagent.tui.widgets.prompt import PromptArea


class PromptHost(App):
    """A minimal app holding the prompt and its menu, recording what was sent."""

    def __init__(self, files: list[str] | None = None) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.menu = CompletionMenu()
        self.prompt = PromptArea(self.menu, list(REGISTRY.values()))
        self.prompt.files = files or []

    def compose(self) -> ComposeResult:
        yield self.menu
        yield self.prompt

    def on_prompt_area_submitted(self, message: PromptArea.Submitted) -> None:
        self.sent.append(message.text)


async def test_enter_sends_and_clears() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press(*"hello", "enter")
        assert app.sent == ["hello"]
        assert app.prompt.text == ""


async def test_empty_prompt_sends_nothing() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("space", "enter")
        assert app.sent == []


async def test_ctrl_j_and_shift_enter_add_lines() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c")
        assert app.prompt.text == "a\nb\nc"
        await pilot.press("enter")
        assert app.sent == ["a\nb\nc"]


async def test_history_up_and_down_keep_the_draft() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press(*"one", "enter", *"two", "enter", *"dra")
        await pilot.press("up")
        assert app.prompt.text == "two"
        await pilot.press("up")
        assert app.prompt.text == "one"
        await pilot.press("up")  # stays at the oldest entry
        assert app.prompt.text == "one"
        await pilot.press("down", "down")
        assert app.prompt.text == "dra"


async def test_slash_menu_filters_and_completes() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("/")
        assert app.menu.is_open
        assert len(app.menu.completions) >= 15
        await pilot.press("u", "n")
        assert [c.replacement for c in app.menu.completions] == ["/undo "]
        await pilot.press("tab")
        assert app.prompt.text == "/undo "
        assert not app.menu.is_open
        assert app.sent == []


async def test_enter_on_slash_menu_runs_the_highlighted_command() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("/", "h", "e", "enter")
        assert app.sent == ["/help"]


async def test_escape_closes_the_menu_without_losing_text() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("/", "t")
        assert app.prompt.dismiss_menu()
        assert not app.menu.is_open
        assert app.prompt.text == "/t"


async def test_at_path_fuzzy_completion() -> None:
    files = ["README.md", "src/app/main.py", "src/app/models.py", "tests/test_main.py"]
    app = PromptHost(files)
    async with app.run_test() as pilot:
        await pilot.press(*"look at @mai")
        assert app.menu.is_open
        assert app.menu.completions[0].replacement == "@src/app/main.py "
        await pilot.press("down", "tab")
        assert app.prompt.text == "look at @tests/test_main.py "
        await pilot.press("enter")
        assert app.sent == ["look at @tests/test_main.py"]


async def test_at_path_with_no_match_shows_no_menu() -> None:
    app = PromptHost(["README.md"])
    async with app.run_test() as pilot:
        await pilot.press(*"@zzz")
        assert not app.menu.is_open


def test_fuzzy_prefers_file_names_and_rejects_non_subsequences() -> None:
    assert fuzzy_score("xyz", "src/app.py") is None
    ranked = fuzzy_rank("app", ["docs/a/p/p.txt", "src/app.py", "zz_application_notes.md"])
    assert ranked[0] == "src/app.py"
    assert fuzzy_rank("", ["b", "a"]) == ["a", "b"]


async def test_a_burst_of_keys_then_enter_sends_everything() -> None:
    """A paste or fast typing arrives in one read: Enter must not overtake the characters."""
    from textual import events

    app = PromptHost()
    async with app.run_test() as pilot:
        for char in "hello there":
            app.post_message(events.Key("space" if char == " " else char, char))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert app.sent == ["hello there"]


def burst(app, text: str, then: str = "enter") -> None:
    """Keys as a terminal delivers a paste or very fast typing: all queued before any is handled."""
    from textual import events

    for char in text:
        app.post_message(events.Key("space" if char == " " else char, char))
    app.post_message(events.Key(then, "\r" if then == "enter" else None))


async def settle_prompt(pilot) -> None:
    for _ in range(4):
        await pilot.pause()


async def test_enter_right_after_a_full_command_name_runs_exactly_it() -> None:
    """'/stats' + Enter typed fast became '/status ats', '/diff' became '/diff iff': the menu
    was built for '/st' (or '/d'), then the rest of the word and Enter arrived together and
    Enter spliced that stale completion into the newer text."""
    app = PromptHost()
    async with app.run_test() as pilot:
        for start, rest in (("/st", "ats"), ("/d", "iff"), ("/st", ""), ("/ne", "w")):
            await pilot.press(*start)  # the menu opens for these first letters
            assert app.menu.is_open
            burst(app, rest)
            await settle_prompt(pilot)
        assert app.sent == ["/stats", "/diff", "/status", "/new"]
        assert app.prompt.text == "" and not app.menu.is_open


async def test_typing_a_command_at_full_speed_through_the_pilot_runs_it() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press(*"/stats", "enter")
        await pilot.press(*"/diff", "enter")
        assert app.sent == ["/stats", "/diff"]


async def test_a_paste_then_enter_sends_exactly_the_paste() -> None:
    from textual import events

    app = PromptHost()
    async with app.run_test() as pilot:
        app.post_message(events.Paste("/stats"))
        app.post_message(events.Key("enter", "\r"))
        await settle_prompt(pilot)
        app.post_message(events.Paste("fix the /diff command, please"))
        app.post_message(events.Key("enter", "\r"))
        await settle_prompt(pilot)
        assert app.sent == ["/stats", "fix the /diff command, please"]


async def test_tab_completes_for_the_current_text() -> None:
    app = PromptHost()
    async with app.run_test() as pilot:
        await pilot.press("/", "u")
        burst(app, "nd", then="tab")
        await settle_prompt(pilot)
        assert app.prompt.text == "/undo "
