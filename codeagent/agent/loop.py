"""The agent: runs a user's turn until the model stops calling tools, yielding ``AgentEvent``s.

``submit`` starts the turn in its own task and relays its events, so ``interrupt`` (or cancelling
the consumer) can stop it anywhere -- mid-stream, waiting for approval, or while a command runs --
and still leave the conversation consistent: a partial response is never recorded, and every tool
call without an output gets an "interrupted by the user" output before the next call. A tool call
runs at most once: outputs are kept by call id and never recomputed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from codeagent.agent._failures import error_event, not_run_note
from codeagent.agent._runaway import TurnGuard
from codeagent.agent._saved_state import restore_session
from codeagent.agent._steering import Steering, can_steer
from codeagent.agent._streaming import StreamMapper, final_text
from codeagent.agent._tool_batches import run_batch, tool_batches
from codeagent.agent.approvals import Approver, Policy
from codeagent.agent.assembly import (
    client_compact_threshold,
    conversation_options,
    make_model_check,
    make_transport,
    model_switch,
    open_repository,
)
from codeagent.agent.conversation import Conversation
from codeagent.agent.events import (
    AgentError,
    AgentEvent,
    CallMetrics,
    ModelCallCompleted,
    Notice,
    TransportState,
    TurnCompleted,
    TurnInterrupted,
    TurnStarted,
    event_to_dict,
)
from codeagent.agent.mcp.manager import McpManager, McpServerStatus
from codeagent.agent.metrics import UsageTotals, sum_metrics
from codeagent.agent.policy import ApprovalRules, SessionGrants
from codeagent.agent.status import Activity, AgentStatus, status_of, transport_state
from codeagent.agent.tool_calls import (
    INTERRUPTED_OUTPUT,
    answered_call_ids,
    tool_calls_in,
    unanswered_outputs,
)
from codeagent.agent.tool_runner import ToolRunner
from codeagent.agent.tools.commands import is_read_only, path_outside
from codeagent.agent.tools.sandbox import Sandbox
from codeagent.config import Settings
from codeagent.sessions import Session, SessionStore
from codeagent.workspace.git_checkpoints import TurnRecord
from codeagent.workspace.git_messages import UndoResult
from codeagent.workspace.listing import list_files

_DONE = object()
LOG = logging.getLogger("codeagent.agent")
#: Seconds between prewarm checks, and after a failed prewarm before the next try.
PREWARM_EVERY = 2.0
PREWARM_BACKOFF = 30.0
#: Streaming events are not kept in the transcript: the matching ``*Done`` events carry the text.
_NOT_RECORDED = {"text_delta", "reasoning_delta", "transport_state"}


class Agent:
    """One coding session in repository ``root``; UI-agnostic (see the module docstring).

    ``sandbox``: a ``probe_sandbox`` the caller started earlier for these settings.
    """

    def __init__(
        self,
        settings: Settings,
        root: Path,
        approver: Approver,
        *,
        session: Session | None = None,
        cwd: Path | None = None,
        sandbox: Callable[[], Sandbox] | None = None,
    ):
        self.settings = settings
        self.root = Path(root).resolve()
        self.approver = approver
        self.session = session or SessionStore().create(self.root)
        key = settings.api_key.get_secret_value() if settings.api_key else None
        self.session.redact(key)
        try:
            opened = open_repository(settings, self.root, self.session.id, cwd, sandbox)
        except Exception:
            if session is None:  # do not leave an empty transcript behind for a failed start
                self.session.path.unlink(missing_ok=True)
            raise
        self.workspace, self.sandbox, instructions = opened.workspace, opened.sandbox, opened.text
        self.startup_notices = [Notice("recovery", m) for m in opened.recovered]
        if self.workspace.warning:  # e.g. an unreadable saved undo history
            self.startup_notices.append(Notice("warning", self.workspace.warning))
        self.rules = ApprovalRules(
            settings.approval_policy,
            sandboxed=self.sandbox.available,
            is_read_only=is_read_only,
            outside_path=lambda command: path_outside(command, self.root),
        )
        self.transport = make_transport(settings)
        #: Deprecated or shut-down model? ``start()`` it once the UI is up (first turn at latest).
        self.model_check = make_model_check(settings)
        self.startup_notices += [Notice("warning", n) for n in self.model_check.take_notes()]
        self.conversation = Conversation(
            self.transport,
            instructions=instructions,
            **conversation_options(settings, self.session.id),
        )
        #: what the agent does now, for live status (it also opens and closes turns in usage)
        self.activity = Activity()
        #: MCP servers: started in the background (the TUI starts them after the first paint)
        self.mcp = McpManager(settings.mcp_servers)
        self.mcp.start_soon()
        self.runner = ToolRunner(
            self.root,
            rules=self.rules,
            approver=self.activity.watching(approver),
            workspace=self.workspace,
            sandbox=self.sandbox,
            emit=self._emit,
            mcp=self.mcp,
        )
        self.usage = UsageTotals()
        self.last_metrics: CallMetrics | None = None
        self.steering = Steering(self._emit, self.transport.steer, lambda: can_steer(self))
        self._transcript: list[dict[str, Any]] = self.session.events()
        self._executed: dict[str, dict[str, Any]] = {}
        self._queue: asyncio.Queue[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._interrupting = False
        self._sandbox_warned = False
        self._transcript_broken = False
        self._transport_state = "connecting"
        self._next_prewarm = 0.0

    @classmethod
    def resume(
        cls,
        settings: Settings,
        root: Path,
        approver: Approver,
        session_id: str,
        *,
        sandbox: Callable[[], Sandbox] | None = None,
    ) -> Agent:
        """Continue a stored session (``session_id="last"``: the newest one of ``root``)."""
        store = SessionStore()
        session = store.latest(root) if session_id == "last" else store.load(session_id)
        agent = cls(settings, root, approver, session=session, sandbox=sandbox)
        restore_session(agent, session)
        return agent

    # ------------------------------------------------------------------ a turn

    async def submit(self, text: str) -> AsyncIterator[AgentEvent]:
        """Run the user's turn; yields events until ``TurnCompleted``, ``TurnInterrupted`` or a
        fatal ``AgentError``."""
        if self.busy:
            yield AgentError("A turn is already running; wait for it or interrupt it.", False)
            return
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._queue = queue
        self._interrupting = False
        task = self._task = asyncio.create_task(self._run_turn(text))
        try:
            while (event := await queue.get()) is not _DONE:
                yield event
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def prewarm(self) -> None:
        """Connect and hand the server the instructions and tools before the user's turn, so
        the turn chains from that and costs one round trip; silent when it fails (the turn
        then goes as it would have). Call it at start and when the user starts typing."""
        now = time.monotonic()
        if now < self._next_prewarm:  # (during a model call the conversation declines it)
            return
        self._next_prewarm = now + PREWARM_EVERY  # each key press asks; one check is enough
        try:
            await self.conversation.prewarm()
        except Exception as exc:  # never the user's concern: the turn connects on its own
            self._next_prewarm = time.monotonic() + PREWARM_BACKOFF
            LOG.info("prewarm failed: %s", exc)

    def steer(self, text: str) -> str:
        """Apply ``text`` to the running turn (call it only while ``busy``); returns its steer
        id. Never blocks: ``SteerSubmitted`` and its ``SteerUpdate`` receipts come in the
        turn's event stream (``_steering`` says how the message travels)."""
        if not self.busy:
            raise RuntimeError("no turn is running to steer; send the message instead")
        if not text.strip():
            raise ValueError("a steer needs some text")
        return self.steering.submit(text)

    @property
    def busy(self) -> bool:
        """Whether a turn is running."""
        return self._task is not None and not self._task.done()

    def interrupt(self) -> bool:
        """Stop the running turn gracefully; False when no turn is running."""
        if self._task is None or self._task.done():
            return False
        self._interrupting = True
        self._task.cancel()
        return True

    async def _run_turn(self, text: str) -> None:
        turn_id = uuid.uuid4().hex[:12]
        try:
            await self._turn(text, turn_id)
        except asyncio.CancelledError:
            self._answer_unanswered()
            await self._finish(turn_id, text)
            if not self._interrupting:
                raise  # the consumer went away: nobody to tell
            self._emit(TurnInterrupted())
        except Exception as exc:  # the user sees a message; the app and the conversation survive
            self._answer_unanswered(not_run_note(exc))
            await self._finish(turn_id, text)
            self._emit(error_event(exc, self.settings.base_url))
        finally:
            if self._queue is not None:
                self._queue.put_nowait(_DONE)

    async def _turn(self, text: str, turn_id: str) -> None:
        started = time.monotonic()
        await self._maybe_compact()
        self._answer_unanswered()
        self.conversation.add_user_message(text)
        self._emit(TurnStarted(text))
        for note in self.model_check.take_notes():
            self._emit(Notice("warning", note))
        if not self.sandbox.available and not self._sandbox_warned:
            self._sandbox_warned = True
            why = self.sandbox.describe()
            self._emit(Notice("warning", f"Commands run without a sandbox ({why}); "
                                         "commands that may write need approval."))  # fmt: skip
        while self.startup_notices:  # unless a UI showed them at start already
            self._emit(self.startup_notices.pop(0))
        calls, tool_calls, files = list[CallMetrics](), 0, []
        guard = TurnGuard(self.settings.max_model_calls_per_turn)
        while True:
            guard.before_model_call()
            await self.mcp.prepare(self.conversation, self._emit)  # their tools, their failures
            if calls:  # mid-turn too: a long tool loop must not outgrow the window
                await self._maybe_compact()
            self.steering.before_call(self.conversation)
            calls.append(await self._model_call())
            pending = tool_calls_in(self.conversation.last_output)
            if not pending:
                break
            guard.before_tool_calls(pending)
            # Consecutive reads run together; each write alone, in the model's order.
            for batch in tool_batches(pending, self.runner.reads_only):
                todo = [c for c in batch if c.call_id not in self._executed]
                results = await run_batch(self.runner, todo, turn_id) if todo else {}
                for call in batch:  # outputs in call order
                    if call.call_id not in results:  # never run twice; resend the output
                        if call.call_id not in answered_call_ids(self.conversation.items):
                            self.conversation.add_items([self._executed[call.call_id]])
                        continue
                    result = results[call.call_id]
                    # No await between these lines: a cancel cannot split "ran" from "recorded".
                    self._executed[call.call_id] = result.item
                    self.conversation.add_items([result.item])
                    self._emit(result.event)
                    tool_calls += 1
                    files += [f for f in result.files if f not in files]
        record = await self._finish(turn_id, text)
        if record is not None:
            files += [f for f in record.files if f not in files]
        self._emit(
            TurnCompleted(
                sum_metrics(calls, time.monotonic() - started),
                model_calls=len(calls),
                tool_calls=tool_calls,
                files_changed=tuple(files),
                final_text=final_text(self.conversation.last_output),
            )
        )

    async def _model_call(self) -> CallMetrics:
        """One model call, streamed out as agent events; returns its metrics."""
        mapper = StreamMapper()
        async for event in self.conversation.run():
            # GET /models once the request is out (idempotent): not on the first request's way
            self.model_check.start()
            self.steering.observe(event)
            for agent_event in mapper.map(event):
                self._emit(agent_event)
        self.steering.after_call()
        metrics = self.conversation.last_metrics
        assert metrics is not None  # run() sets it whenever it returns normally
        self.usage.add(metrics, self.settings.catalog().get(self.conversation.model))
        self.last_metrics = metrics
        self._emit(ModelCallCompleted(metrics))
        self._report_transport()
        return metrics

    def _answer_unanswered(self, text: str = INTERRUPTED_OUTPUT) -> None:
        """Give every tool call in the history that has no output one saying it did not run."""
        for item in unanswered_outputs(self.conversation.items, text):
            self._executed[item["call_id"]] = item
            self.conversation.add_items([item])

    async def _finish(self, turn_id: str, text: str) -> TurnRecord | None:
        """Close the turn: steers no call took come back unapplied (the UI sends them next),
        the checkpoint is closed and the conversation saved (idempotent per turn)."""
        self.steering.end_turn()
        try:
            # git work off the event loop, like the checkpoint itself.
            record = await asyncio.to_thread(self.workspace.after_turn, turn_id, text[:72])
        except Exception as exc:  # keep the conversation even when git fails
            self._emit(AgentError(f"Could not record the turn's changes: {exc}", fatal=False))
            record = None
        try:
            self.session.save_state({"conversation": self.conversation.to_state()})
        except OSError as exc:
            self._emit(AgentError(f"Could not save the session state: {exc}", fatal=False))
        return record

    async def _maybe_compact(self) -> None:
        threshold = client_compact_threshold(self.settings)
        if threshold and self.usage.context_tokens > threshold:
            self._emit(Notice("info", await self.compact()))

    def _report_transport(self) -> None:
        state = transport_state(self)
        if state != self._transport_state:
            self._transport_state = state
            self._emit(TransportState(state))  # type: ignore[arg-type]

    def _emit(self, event: AgentEvent) -> None:
        self.activity.observe(event, self.usage)
        data = event_to_dict(event)
        if event.kind not in _NOT_RECORDED:
            self._transcript.append(data)
            try:
                self.session.append_event(data)
            except OSError as exc:  # a full disk must not stop the work; say so once
                if not self._transcript_broken:
                    self._transcript_broken = True
                    warning = Notice("warning", f"The session transcript cannot be written: {exc}")
                    if self._queue is not None:
                        self._queue.put_nowait(warning)
        if self._queue is not None:
            self._queue.put_nowait(event)

    # ------------------------------------------------------------------ commands

    async def compact(self) -> str:
        """Shrink the history with the server's compaction; returns a line for the user."""
        before = len(self.conversation.items)
        await self.conversation.compact()
        self.usage.context_tokens = 0
        return f"Compacted the conversation ({before} items to {len(self.conversation.items)})."

    def undo(self) -> UndoResult:
        """Put back the files the last turn changed (``UndoResult``)."""
        return self.workspace.undo()

    def redo(self) -> UndoResult:
        """Reapply the turn undone last (``UndoResult``)."""
        return self.workspace.redo()

    def diff(self, scope: str = "session") -> str:
        """The unified diff of the session's (or the last turn's) changes."""
        return self.workspace.diff(scope)

    def list_files(self) -> list[str]:
        """The repository's files (tracked and unignored untracked), for ``@path`` completion.

        Blocking (runs ``git ls-files``): call it from a thread.
        """
        return list_files(self.root)

    def set_model(self, name: str) -> None:
        """Use model ``name`` from the next call on (the next call sends the full input)."""
        self.settings = self.settings.model_copy(update={"model": name})
        # Tools, reasoning and the compaction threshold follow the model's catalog entry.
        self.conversation.update_settings(**model_switch(self.settings, self.session.id))
        self.model_check.model = name

    def set_policy(self, policy: Policy) -> None:
        """Switch the approval policy; session grants stay."""
        self.settings = self.settings.model_copy(update={"approval_policy": Policy(policy)})
        self.rules.set_policy(Policy(policy))

    def new_session(self) -> None:
        """Start over: a new transcript, an empty conversation, no session grants."""
        self.session = SessionStore(self.session.path.parent).create(self.root)
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        self.session.redact(key)
        self.conversation.reset()
        self.conversation.update_settings(
            extra={**self.conversation.extra, "prompt_cache_key": self.session.id}
        )
        self.rules.grants = SessionGrants()
        self._executed.clear()
        self._transcript = []
        self.usage = UsageTotals()
        self.last_metrics = None

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """The recorded events of this session (deltas left out), for re-rendering."""
        return list(self._transcript)

    def status(self) -> AgentStatus:
        """Model, policy, connection, session and usage, for status bars and ``/status``."""
        return status_of(self)

    def mcp_status(self) -> list[McpServerStatus]:
        """Each configured MCP server with its state and tools, for ``/mcp``."""
        return self.mcp.status()

    async def close(self) -> None:
        """Stop any running turn and close the connection."""
        if self._task is not None and self.busy:
            self.interrupt()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.mcp.close()
        await self.model_check.close()
        await self.transport.close()
        close = getattr(self.workspace, "close", None)
        if close is not None:
            close()


__all__ = ["Agent"]
