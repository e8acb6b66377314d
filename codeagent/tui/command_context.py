"""The app's side of ``commands.CommandContext``: what slash commands may use, and nothing more.

Commands used to reach into the App (its chat, status bar, themes, quit action). This adapter is
the only thing they get now, so the App can change its widgets without touching a command, and
``commands`` imports nothing from the app (no import circle).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codeagent.agent.loop import Agent
    from codeagent.tui.app import CodeAgentApp


class ChatConversation:
    """``commands.Conversation`` over the app's chat log and plan view."""

    def __init__(self, app: CodeAgentApp) -> None:
        self._app = app

    async def clear(self) -> None:
        """Remove every block and the plan from the screen."""
        await self._app.conversation.clear()

    async def load_earlier(self) -> bool:
        """Mount the previous page of a resumed session; False when all of it is shown."""
        return await self._app.conversation.load_earlier()


class AppCommandContext:
    """``commands.CommandContext`` for one ``CodeAgentApp``."""

    def __init__(self, app: CodeAgentApp) -> None:
        self._app = app
        self.conversation = ChatConversation(app)

    @property
    def agent(self) -> Agent:
        return self._app.agent

    @property
    def root(self) -> Path:
        return self._app.root

    @property
    def turn_running(self) -> bool:
        return self._app.turn_running

    def say(self, text: str, *, category: str = "info", markdown: bool = False) -> None:
        self._app.show_notice(category, text, markdown=markdown)

    async def show_diff(self, diff: str, title: str) -> None:
        await self._app.show_diff(diff, title)

    async def close_side(self) -> None:
        await self._app.close_review()

    def refresh_status(self) -> None:
        self._app.refresh_status()

    async def resume_session(self, session_id: str) -> None:
        await self._app.resume_session(session_id)

    def list_sessions(self) -> list[Any]:
        return self._app.list_sessions()

    def usage(self) -> dict[str, Any]:
        """The agent's figures (the status bar only shows them)."""
        from codeagent.tui.widgets.status_bar import human_cost, human_seconds, transport_label

        status = self._app.agent.status()
        last = status.last_turn
        return {
            "turns": status.turns,
            "model_calls": status.model_calls,
            "input_tokens": status.input_tokens,
            "cached_tokens": status.cached_tokens,
            "output_tokens": status.output_tokens,
            "ttft": human_seconds(last.time_to_first_delta if last else None),
            "total": human_seconds(last.total_time if last else None),
            "bytes_sent": status.bytes_sent,
            "bytes_full": status.bytes_full_resend,
            "transport": transport_label(status, self._app.turn_running),
            "cost": human_cost(status.cost),
            "turn_cost": human_cost(status.turn_cost),
            "context_left": (
                "unknown" if status.context_left is None else f"{round(100 * status.context_left)}%"
            ),
        }

    def themes(self) -> tuple[str, list[str]]:
        app = self._app
        return app.theme, app.own_themes or sorted(app.available_themes)

    def custom_commands(self) -> list[Any]:
        return self._app.custom_commands.entries()

    def set_theme(self, name: str) -> bool:
        if name not in self._app.available_themes:
            return False
        self._app.theme = name
        return True

    async def quit(self) -> None:
        await self._app.action_quit()
