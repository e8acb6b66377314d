"""The codeagent Textual app: conversation, approvals/diff pane, prompt and status bar.

The app never touches the socket or git. It runs ``Agent.submit`` in an async worker that posts
each ``AgentEvent`` as a Message, and resolves approval Futures from the ``ApprovalPanel``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from codeagent.agent.approvals import Decision
from codeagent.tui import commands
from codeagent.tui.approver import TuiApprover
from codeagent.tui.coalesce import DeltaCoalescer
from codeagent.tui.event_view import EventView
from codeagent.tui.messages import AgentEventReceived, ApprovalRequested, TurnFinished
from codeagent.tui.widgets.chat import ChatLog, NoticeLine, UserMessage
from codeagent.tui.widgets.completion import CompletionMenu
from codeagent.tui.widgets.plan_view import PlanView
from codeagent.tui.widgets.prompt import PromptArea
from codeagent.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from codeagent.tui.widgets.approval_panel import ApprovalPanel

#: the diff widgets' styles; the widgets themselves are imported when first shown, not before
#: the first paint (they pull in the diff model, row renderer and pygments)
DIFF_CSS_PATH = Path(__file__).parent / "widgets" / "diff.tcss"


class CodeAgentApp(App[int]):
    """The TUI for one repository and one agent."""

    CSS_PATH = [DIFF_CSS_PATH, "app.tcss"]
    TITLE = "codeagent"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("escape", "interrupt", "Interrupt", id="app.interrupt"),
        Binding("end", "latest", "Latest", id="app.latest"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        agent: Any,
        approver: TuiApprover,
        *,
        settings: Any,
        root: Path,
        banner: str = "",
    ) -> None:
        super().__init__()
        self.agent = agent
        self.approver = approver
        self.settings = settings
        self.root = Path(root)
        self.banner = banner
        self.turn_running = False
        self.turns_completed = 0
        self.queue: list[str] = []
        self._futures: dict[str, asyncio.Future[Decision]] = {}
        self.menu = CompletionMenu(id="menu")
        self.prompt = PromptArea(self.menu, id="prompt")
        self.chat = ChatLog(id="chat")
        self.plan = PlanView(id="plan")
        self.status_bar = StatusBar(id="status")
        self.side = Vertical(id="side")
        self.view = EventView(self)
        self.own_themes: list[str] = []

    # --- layout and start-up ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield self.chat
                yield self.plan
            yield self.side
        yield self.menu
        yield self.prompt
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        self._register_themes()
        self.approver.attach(self)
        self.side.display = False
        self.prompt.focus()
        self.refresh_status()
        self.load_files()
        if self.banner:
            self.show_info(self.banner)

    def _register_themes(self) -> None:
        try:
            from codeagent.tui.themes import load_themes

            for theme in load_themes():
                self.register_theme(theme)
                self.own_themes.append(theme.name)
        except Exception as error:  # a broken theme file must not stop the app
            self.notify(f"Could not load themes: {error}", severity="warning")
        wanted = getattr(self.settings, "theme", "dark")
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.show_error(f"Theme '{wanted}' not found; using {self.theme}.")

    @work(thread=True, exclusive=True, group="files", exit_on_error=False)
    def load_files(self) -> None:
        """List repository files for @path completion (a thread: git is slow in big repositories).

        The agent's workspace layer does the listing; the TUI never runs git itself.
        """
        files = self.agent.list_files()
        self.call_from_thread(setattr, self.prompt, "files", files)

    # --- feedback helpers used by commands and events -----------------------------------------

    def show_info(self, text: str, *, markdown: bool = False) -> None:
        self.run_worker(self.chat.add(NoticeLine("info", text, markdown=markdown)))

    def show_error(self, text: str) -> None:
        self.run_worker(self.chat.add(NoticeLine("error", text)))

    def show_notice(self, category: str, text: str) -> None:
        self.run_worker(self.chat.add(NoticeLine(category, text)))

    def refresh_status(self) -> None:
        """Copy the agent's model, policy, connection and token totals into the status bar."""
        status = self.agent.status()
        bar = self.status_bar
        bar.model = f"{status.model} ({status.policy})"
        bar.set_transport(status.transport)
        bar.model_calls = status.model_calls
        bar.input_tokens, bar.cached_tokens = status.input_tokens, status.cached_tokens
        bar.output_tokens, bar.context_tokens = status.output_tokens, status.context_tokens

    def list_sessions(self) -> list[Any]:
        from codeagent.sessions import SessionStore

        return SessionStore().list(self.root)

    async def resume_session(self, session_id: str) -> None:
        """Replace the agent with one resumed from ``session_id`` and re-render its transcript."""
        try:
            agent = type(self.agent).resume(self.settings, self.root, self.approver, session_id)
        except Exception as error:
            raise commands.CommandError(f"Could not resume {session_id}: {error}") from None
        await self.agent.close()
        self.agent = agent
        await self.chat.clear()
        self.plan.clear()
        self.status_bar.reset_usage()
        await self.view.replay(agent.transcript)
        self.refresh_status()
        self.show_info(f"Resumed session {session_id}.")

    async def show_diff(self, diff: str, title: str) -> None:
        """Show ``diff`` in the side pane (Esc closes it)."""
        from codeagent.tui.widgets.diff_view import DiffView

        await self.side.remove_children()
        await self.side.mount(Static(title, classes="side-title"), DiffView(diff))
        self.side.display = True

    # --- prompt and turns ---------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def on_prompt_submitted(self, message: PromptArea.Submitted) -> None:
        text = message.text
        if text.startswith("/"):
            await commands.run_command(self, text)
            return
        if self.turn_running:
            self.queue.append(text)
            self.status_bar.queued = len(self.queue)
            await self.chat.add(UserMessage(text, queued=True))
            return
        await self.chat.add(UserMessage(text))
        self.start_turn(text)

    def start_turn(self, text: str) -> None:
        self.turn_running = True
        self.status_bar.busy = True
        self.view.begin_turn()
        self.refresh_bindings()
        self.run_turn(text)

    @work(group="turn", exit_on_error=False, description="agent turn")
    async def run_turn(self, text: str) -> None:
        """Pump one user message through the agent, posting its events to the app.

        Streamed deltas are merged (``DeltaCoalescer``) so a fast stream posts a few dozen
        Messages a second instead of one per token, and key presses are not queued behind them.
        """
        error: str | None = None
        coalescer = DeltaCoalescer(lambda event: self.post_message(AgentEventReceived(event)))
        try:
            async for event in self.agent.submit(text):
                coalescer.push(event)
        except Exception as exc:  # typed agent errors: show them, keep the app running
            error = str(exc) or type(exc).__name__
        finally:
            coalescer.close()
            self.post_message(TurnFinished(text, error))

    async def on_agent_event_received(self, message: AgentEventReceived) -> None:
        if self.screen_stack:  # events that arrive while the app shuts down have nowhere to go
            await self.view.handle(message.event)

    async def on_turn_finished(self, message: TurnFinished) -> None:
        if not self.screen_stack:
            return
        if message.error:
            await self.chat.add(NoticeLine("error", f"The turn failed: {message.error}"))
        await self.view.end_turn()
        self.turn_running = False
        self.status_bar.busy = False
        self.refresh_status()
        self.refresh_bindings()
        if self.queue:
            text = self.queue.pop(0)
            self.status_bar.queued = len(self.queue)
            self.start_turn(text)

    @on(Worker.StateChanged)
    def on_worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_error(f"Internal error in {event.worker.name}: {event.worker.error}")

    # --- approvals ----------------------------------------------------------------------------

    async def on_approval_requested(self, message: ApprovalRequested) -> None:
        self._futures[message.request.call_id] = message.future
        await self.side.remove_children()
        from codeagent.tui.widgets.approval_panel import ApprovalPanel

        panel = ApprovalPanel(message.request, cwd=self.root)
        await self.side.mount(panel)
        self.side.display = True
        panel.focus_default()  # the diff, so hunk keys work; the panel itself for commands

    async def on_approval_panel_decided(self, message: ApprovalPanel.Decided) -> None:
        """The user decided on the panel's request (named handler: no import at start-up)."""
        from codeagent.tui.widgets.approval_panel import scope_phrase

        message.stop()
        decision = message.decision
        if decision.approved:
            phrase = scope_phrase(decision)
            scope = f" (for the session: {phrase})" if phrase else ""
            text = f"Approved: {message.request.title}{scope}"
        else:
            reason = f" — {decision.reason}" if decision.reason else ""
            text = f"Rejected: {message.request.title}{reason}"
        # The notice goes first so it sits above the tool's result in the conversation.
        await self.chat.add(NoticeLine("approval", text))
        future = self._futures.pop(message.request.call_id, None)
        if future is not None and not future.done():
            future.set_result(decision)
        await self._close_side()

    async def _close_side(self) -> None:
        await self.side.remove_children()
        self.side.display = False
        self.prompt.focus()

    # --- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return True if (self.turn_running or self.side.display) else None
        return True

    async def action_interrupt(self) -> None:
        """Esc: close the menu, else interrupt the running turn, else close the side pane."""
        if self.prompt.dismiss_menu():
            return
        if self.turn_running:
            self.agent.interrupt()
            self.approver.reject_all("the user interrupted the turn")
            self._futures.clear()
            await self._close_side()
            return
        if self.side.display:
            await self._close_side()

    def action_latest(self) -> None:
        self.chat.anchor()

    async def action_quit(self) -> None:
        self.approver.reject_all("codeagent is closing")
        self.approver.attach(None)
        self.workers.cancel_group(self, "turn")
        try:
            await self.agent.close()
        finally:
            self.exit(0)
