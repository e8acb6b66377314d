"""The codeagent Textual app: conversation, approvals/diff pane, prompt and status bar.

The app never touches the socket or git. It runs ``Agent.submit`` in an async worker that posts
each ``AgentEvent`` as a Message; each approval arrives with its Future, which the
``ApprovalPanel`` holds and resolves.

Input safety: keys typed for the prompt never answer an approval. A new approval panel does not
take focus (Claude Code's and Codex's trackers are full of edits approved by a "y" or Enter typed
for the prompt at the moment a dialog appeared); a notice and the bell say it is waiting, and the
user moves to it on purpose: F2 (shown in the footer), Tab on an empty prompt, or a click. After a
decision focus goes back to the prompt, so the rest of a typed word cannot answer the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, TextArea
from textual.worker import Worker, WorkerState

from codeagent.custom_commands import CustomCommands
from codeagent.tui import commands
from codeagent.tui.approver import TuiApprover
from codeagent.tui.coalesce import DeltaCoalescer
from codeagent.tui.command_context import AppCommandContext
from codeagent.tui.gc_pacing import PACED_GC
from codeagent.tui.inbox import Inbox
from codeagent.tui.input_routing import InputRouting
from codeagent.tui.messages import AgentEventReceived, TurnFinished
from codeagent.tui.notify import Notifier
from codeagent.tui.personal import apply_personal_setup, register_themes
from codeagent.tui.welcome import welcome_text
from codeagent.tui.widgets.chat import NoticeLine
from codeagent.tui.widgets.completion import CompletionMenu
from codeagent.tui.widgets.conversation import ConversationView
from codeagent.tui.widgets.prompt import PromptArea
from codeagent.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # for the type checker only: no import cycle, no cost at start-up
    from codeagent.agent.loop import Agent
    from codeagent.config import Settings

#: the diff widgets' styles; the widgets themselves are imported when first shown, not before
#: the first paint (they pull in the diff model, row renderer and pygments)
DIFF_CSS_PATH = Path(__file__).parent / "widgets" / "diff.tcss"


class CodeAgentApp(InputRouting, App[int]):
    """The TUI for one repository and one agent."""

    CSS_PATH = [DIFF_CSS_PATH, "app.tcss"]
    TITLE = "codeagent"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        # Two meanings of Esc (one is hidden at a time, so the footer names the one that acts).
        Binding("escape", "interrupt", "Interrupt", id="app.interrupt"),
        Binding("escape", "back", "Back", id="app.back"),
        Binding("f2", "focus_approval", "Approval", id="app.focus_approval"),
        Binding("end", "latest", "Latest", id="app.latest", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        agent: Agent | None,
        approver: TuiApprover,
        *,
        settings: Settings,
        root: Path,
        banner: str = "",
        build_agent: Callable[[], Agent] | None = None,
    ) -> None:
        """``agent``, or ``build_agent`` to make it in a thread right after the first paint
        (``codeagent``: the agent stack is not imported before the welcome shows, issue 15)."""
        super().__init__()
        if agent is None and build_agent is None:
            raise ValueError("an agent or a way to build one is needed")
        self._agent = agent
        self._build_agent = build_agent
        #: prompt submissions (and commands) made before the agent was ready, in order
        self._held: list[PromptArea.Submitted] = []
        #: why the agent could not be built (printed by ``launch`` after the app exits)
        self.startup_error: str | None = None
        self.approver = approver
        self.settings = settings
        self.root = Path(root)
        self.banner = banner
        self.turn_running = False
        #: steers of the running turn and the messages queued for after it
        self.inbox = Inbox()
        self.queue = self.inbox.queue
        self.menu = CompletionMenu(id="menu")
        self.prompt = PromptArea(self.menu, list(commands.REGISTRY.values()), id="prompt")
        self.commands = AppCommandContext(self)
        #: the chat and the plan; it renders the agent's events (live and resumed) itself
        self.conversation = self.view = ConversationView(id="conversation")
        self.chat, self.plan = self.conversation.chat, self.conversation.plan
        self.status_bar = StatusBar(id="status")
        # The agent may be replaced, or not be built yet (then the bar waits for it).
        self.status_bar.source = lambda: None if self._agent is None else self._agent.status()
        self.side = Vertical(id="side")
        self.own_themes: list[str] = []
        #: chosen before the first stylesheet parse; problems are named in the chat on mount
        self.theme_problems = register_themes(self)
        self.custom_commands = CustomCommands()  # loaded on mount (codeagent.custom_commands)
        self.notifier = Notifier(self, getattr(settings, "notify", "bell"))

    @property
    def agent(self) -> Agent:
        """The agent (only once it is built: everything that needs it waits for ``ready``)."""
        if self._agent is None:
            raise RuntimeError("the agent is not ready yet")
        return self._agent

    @agent.setter
    def agent(self, agent: Agent) -> None:
        self._agent = agent

    @property
    def ready(self) -> bool:
        """The agent is built: prompts, commands and the status bar can use it."""
        return self._agent is not None

    @property
    def ready_agent(self) -> Agent | None:
        """The agent if it was built (``launch`` reads the session id after the app closed)."""
        return self._agent

    # --- layout and start-up ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield self.conversation
            yield self.side
        yield self.menu
        yield self.prompt
        yield self.status_bar
        yield Footer(compact=True)  # compact: Esc and Ctrl+Q still fit at 80 columns

    async def on_mount(self) -> None:
        apply_personal_setup(self)  # keymap, custom commands; problems (and themes') in chat
        self.approver.attach(self)
        self.side.display = False
        self.prompt.focus()
        status = None if self._agent is None else self._agent.status()
        # Mounted here (not by a worker): the first frame holds it, before the agent is built.
        await self.chat.add(NoticeLine("welcome", welcome_text(self.root, self.settings, status)))
        if self.banner:
            self.show_info(self.banner)
        if self._agent is not None:
            self._agent_ready()
        else:  # the welcome paints first; the agent stack is imported and built after it
            self.call_after_refresh(self._assemble)

    @work(thread=True, exclusive=True, group="assemble", exit_on_error=False)
    def _assemble(self) -> None:
        """Import and build the agent in a thread, so the first screen is not held up by it.

        Crash recovery of an interrupted patch runs inside (before the agent can write)."""
        assert self._build_agent is not None
        try:
            import codeagent.tui.widgets.answer  # noqa: F401  (Markdown, off the UI thread)

            agent = self._build_agent()
        except Exception as error:  # WorkspaceError, SessionError: their messages are fit to print
            self.call_from_thread(self._assembly_failed, str(error) or type(error).__name__)
            return
        # (cast: Textual's signature infers no result type for an async callback)
        self.call_from_thread(cast("Callable[[Agent], Any]", self._assembled), agent)

    def _assembly_failed(self, message: str) -> None:
        self.startup_error = message
        self.exit(2)

    async def _assembled(self, agent: Agent) -> None:
        self._agent = agent
        self._agent_ready()
        held, self._held = self._held, []
        for submitted in held:  # typed before the agent was ready: handled now, in order
            await self.on_prompt_submitted(submitted)

    def _agent_ready(self) -> None:
        """Start what needs the agent: status, file list, model check, MCP, prewarm, notices."""
        self.refresh_status()
        # After the first paint: ``git ls-files`` is not on the first screen (issue 15).
        self.call_after_refresh(self.load_files)
        if self.agent.transcript:  # `codeagent resume [ID]`: the same rendering as /resume
            self.run_worker(self._show_resumed(), group="resume")
        if hasattr(self.agent, "model_check"):  # GET /models in the background, after paint
            self.call_after_refresh(self.agent.model_check.start)
        if hasattr(self.agent, "mcp"):  # MCP servers start in the background, after paint
            self.call_after_refresh(self.agent.mcp.start)
        self.call_after_refresh(self.prewarm)  # connect before the user's first Enter
        notices = getattr(self.agent, "startup_notices", [])  # e.g. a patch a crash interrupted
        while notices:
            notice = notices.pop(0)
            self.show_notice(notice.category, notice.text)

    @work(thread=True, exclusive=True, group="files", exit_on_error=False)
    def load_files(self) -> None:
        """List repository files for @path completion (a thread: git is slow in big repositories).

        The agent's workspace layer does the listing; the TUI never runs git itself.
        """
        files = self.agent.list_files()
        self.call_from_thread(setattr, self.prompt, "files", files)

    # --- feedback helpers used by commands and events -----------------------------------------

    def show_info(self, text: str, *, markdown: bool = False) -> None:
        self.show_notice("info", text, markdown=markdown)

    def show_error(self, text: str) -> None:
        self.show_notice("error", text)

    def show_notice(self, category: str, text: str, *, markdown: bool = False) -> None:
        self.run_worker(self.chat.add(NoticeLine(category, text, markdown=markdown)))

    def refresh_status(self) -> None:
        """Show the agent's status (every figure is the agent's; the bar counts nothing)."""
        self.status_bar.pull()

    @property
    def turns_completed(self) -> int:
        """User turns ended so far in this session (the agent's count)."""
        return self.agent.status().turns

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
        await self.conversation.clear()
        self.refresh_status()
        await self._show_resumed()

    async def _show_resumed(self) -> None:
        """Show the agent's transcript (a resumed session) and say which session it is."""
        await self.conversation.show_transcript(self.agent.transcript)
        await self.conversation.say("info", f"Resumed session {self.agent.status().session_id}.")

    async def show_diff(self, diff: str, title: str) -> None:
        """Show ``diff`` read-only in the side pane (Esc closes it); approvals keep precedence."""
        from codeagent.tui.widgets.diff_view import DiffView

        if self._approval_panels():
            self.show_error("Answer the waiting approval first; then /diff again.")
            return
        await self.side.remove_children()
        hint = Static(f"{title} · Esc closes", classes="side-title", markup=False)
        await self.side.mount(hint, DiffView(diff, selectable=False, classes="review"))
        self.side.display = True

    async def close_review(self) -> None:
        """Close a diff review (never a waiting approval) and give the prompt focus."""
        if self.side.display and not self._approval_panels():
            await self._close_side()

    # --- prompt and turns ---------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def on_prompt_submitted(self, message: PromptArea.Submitted) -> None:
        """Enter sends; while a turn runs Enter steers it and Tab (``message.queue``) queues
        the message for after it. Slash commands run at once; a custom one is queued. Before
        the agent is ready, everything is kept and handled in order once it is."""
        if self._agent is None:
            self._held.append(message)
            return
        text = message.text
        steer = not message.queue
        if text.startswith("/"):
            prompt = self.custom_commands.expand_invocation(text)
            if prompt is None:
                await commands.run_command(self.commands, text)
                return
            text, steer = prompt, False  # a custom command is a message to the model, queued
        if self.turn_running:
            # (The agent may have ended the turn before the app heard: then it goes next.)
            if steer and self.agent.busy:
                steer_id = self.agent.steer(text)
                self.inbox.steered(steer_id, text)
                await self.conversation.add_steer(steer_id, text)
            else:
                self.queue.append(text)
                await self.conversation.add_user_message(text, queued=True)
            self._show_inbox()
            return
        await self.conversation.add_user_message(text)
        self.start_turn(text)

    def _show_inbox(self) -> None:
        self.status_bar.queued = len(self.queue)
        self.status_bar.steering = len(self.inbox.steers)

    def start_turn(self, text: str) -> None:
        self.turn_running = True
        self.inbox.turn_started()
        self.prompt.busy = True
        self.status_bar.busy = True
        self.view.begin_turn()
        self.refresh_bindings()
        self.run_turn(text)

    @work(group="turn", exit_on_error=False, description="agent turn")
    async def run_turn(self, text: str) -> None:
        """Pump one user message through the agent, posting its events to the app.

        Streamed deltas are merged (``DeltaCoalescer``) so a fast stream posts a few dozen
        Messages a second instead of one per token, and key presses are not queued behind them;
        full garbage collections wait for the turn's end (``gc_pacing``) for the same reason.
        """
        error: str | None = None
        coalescer = DeltaCoalescer(lambda event: self.post_message(AgentEventReceived(event)))
        PACED_GC.begin()
        try:
            async for event in self.agent.submit(text):
                coalescer.push(event)
        except Exception as exc:  # typed agent errors: show them, keep the app running
            error = str(exc) or type(exc).__name__
        finally:
            coalescer.close()
            PACED_GC.end()
            self.post_message(TurnFinished(text, error))

    async def on_agent_event_received(self, message: AgentEventReceived) -> None:
        if self.screen_stack:  # events that arrive while the app shuts down have nowhere to go
            await self.conversation.handle(message.event)
            self.inbox.receipt(message.event)  # an unapplied steer: the next message
            self._show_inbox()
            self.refresh_status()

    async def on_turn_finished(self, message: TurnFinished) -> None:
        if not self.screen_stack:
            return
        if message.error:
            await self.conversation.say("error", f"The turn failed: {message.error}")
        for lost in self.inbox.unanswered():  # steers the turn ended without a word on
            await self.conversation.handle(lost)
            self.inbox.receipt(lost)
        await self.conversation.end_turn()
        self.turn_running = False
        self.prompt.busy = False
        self.status_bar.busy = False
        self.refresh_status()
        self.refresh_bindings()
        text = self.inbox.next()
        self._show_inbox()
        if text is not None:
            self.start_turn(text)
        else:  # nothing follows: tell a user who looks at another window
            self.notifier.turn_finished(message.error)

    def prewarm(self) -> None:
        """Let the agent connect ahead of the next turn (at start; again once the user types
        after the socket went idle). In the background: the UI never waits for it."""
        if self._agent is None:  # it prewarms once built
            return
        if hasattr(self.agent, "prewarm") and not self.agent.busy:
            self.run_worker(self.agent.prewarm(), group="prewarm", exit_on_error=False)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is self.prompt:
            PACED_GC.activity()  # the after-turn garbage collection waits until typing stops
        # The first character into an empty prompt: the user started typing.
        if event.text_area is self.prompt and len(event.text_area.text) == 1:
            self.prewarm()

    @on(Worker.StateChanged)
    def on_worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_error(f"Internal error in {event.worker.name}: {event.worker.error}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "interrupt":
            return self.turn_running and self.prompt.has_focus
        if action == "back":
            return not (self.turn_running and self.prompt.has_focus)
        if action == "focus_approval":
            waiting = self._approval_panels()
            return bool(waiting) and not waiting[0].has_focus_within
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()  # Esc's meaning depends on where focus is

    async def action_back(self) -> None:
        """Esc when no turn is stopped by it: close the menu, else return to the prompt (closing
        a diff review), else close the review."""
        if self.prompt.dismiss_menu():
            return
        if not self.prompt.has_focus:
            focused = self.focused
            if focused is not None and focused.has_class("review"):
                await self.close_review()
            self.prompt.focus()
            return
        await self.close_review()

    async def action_interrupt(self) -> None:
        """Esc in the prompt while a turn runs: close the menu, else stop the turn (a waiting
        approval is rejected)."""
        if self.prompt.dismiss_menu():
            return
        if not self.turn_running:
            return
        self.agent.interrupt()
        self.approver.reject_all("the user interrupted the turn")
        await self._close_side()

    def action_latest(self) -> None:
        self.chat.anchor()

    async def action_quit(self) -> None:
        self.approver.reject_all("codeagent is closing")
        self.approver.attach(None)
        self.workers.cancel_group(self, "turn")
        try:
            if self._agent is not None:
                await self._agent.close()
        finally:
            self.exit(0)
