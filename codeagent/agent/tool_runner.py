"""Run one tool call: show it, settle approval, checkpoint before writing, run it, and build the
output item the model gets back.

The ``ToolRunner`` never raises for something the model did wrong (a patch that does not apply,
a malformed call, a refused command): the model is told in the output item and may try again.
``ApprovalNeeded`` from a non-interactive approver and task cancellation propagate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from codeagent.agent.approvals import ApprovalRequest, Approver, Decision
from codeagent.agent.events import (
    AgentEvent,
    Notice,
    PlanUpdated,
    ToolCallProposed,
    ToolOutput,
)
from codeagent.agent.mcp.calls import run_mcp_call
from codeagent.agent.mcp.manager import McpManager
from codeagent.agent.policy import ApprovalRules, Verdict
from codeagent.agent.tool_calls import ToolCall, output_item
from codeagent.agent.tools.patch import (
    PatchError,
    parse_patch,
    patch_from_operation,
    prepare_patch,
)
from codeagent.agent.tools.plan import parse_plan
from codeagent.agent.tools.sandbox import Sandbox
from codeagent.agent.tools.shell import (
    DEFAULT_MAX_OUTPUT,
    DEFAULT_TIMEOUT_MS,
    format_results,
    run_commands,
    shell_call_output_item,
)


class Checkpoints(Protocol):
    """The part of ``GitWorkspace`` / ``NoCheckpoints`` the runner needs."""

    def ensure_writable(self) -> None: ...

    def before_write(self, turn_id: str) -> None: ...

    def begin_change(self, turn_id: str, paths: Sequence[str] | None = None) -> None: ...

    def end_change(self, turn_id: str) -> None: ...


@dataclass
class ToolResult:
    """What a call produced: the item for the model, the event for the user, files written."""

    item: dict[str, Any]
    event: ToolOutput
    files: list[str] = field(default_factory=list)


class ToolRunner:
    """Runs tool calls inside ``root`` under ``rules``, asking ``approver`` when needed."""

    def __init__(
        self,
        root: Path,
        *,
        rules: ApprovalRules,
        approver: Approver,
        workspace: Checkpoints,
        sandbox: Sandbox | None,
        emit: Callable[[AgentEvent], None],
        mcp: McpManager | None = None,
    ):
        self.mcp = mcp
        self.root = root
        self.rules = rules
        self.approver = approver
        self.workspace = workspace
        self.sandbox = sandbox
        self.emit = emit
        #: Calls started so far, and the shell verdicts ``reads_only`` reached: a call that
        #: starts with no other call begun since reuses its verdict instead of deciding again.
        self._runs = 0
        self._verdicts: dict[str, tuple[ToolCall, int, tuple[object, ...], Verdict]] = {}

    async def run(self, call: ToolCall, turn_id: str) -> ToolResult:
        """Handle ``call`` end to end (see the module docstring)."""
        self._runs += 1
        if call.problem:
            self.emit(ToolCallProposed(call.call_id, call.tool, call.describe(), call.arguments))
            return self._fail(call, f"{call.tool}: {call.problem}")
        if call.tool == "apply_patch":
            return await self._patch(call, turn_id)
        if call.tool == "shell":
            return await self._shell(call, turn_id)
        if call.tool == "update_plan":
            return self._plan(call)
        if self.mcp is not None and self.mcp.owns(call.tool):
            text, success, rejected = await run_mcp_call(
                call, self.mcp, self.rules, self._ask, self.emit
            )
            event = ToolOutput(call.call_id, call.tool, text, success, rejected=rejected)
            return ToolResult(output_item(call, text, success=success), event)
        self.emit(ToolCallProposed(call.call_id, call.tool, call.describe(), call.arguments))
        return self._fail(
            call, f"unknown tool {call.tool!r}; the tools are apply_patch, shell and update_plan"
        )

    def reads_only(self, call: ToolCall) -> bool:
        """Whether ``call`` runs without approval and writes nothing, so it may run alongside
        other such calls: a shell call the classifier proves read-only and the rules allow, or
        an MCP tool configured ``allow`` that its server marks read-only."""
        if call.problem:
            return False
        if call.tool == "shell":
            verdict = self.rules.check_commands(call.commands)
            if len(self._verdicts) >= 64:  # calls asked about but never run (an interrupt)
                self._verdicts.clear()
            self._verdicts[call.call_id] = (call, self._runs, self._rules_state(), verdict)
            return verdict.action == "allow" and self._proven_read_only(call.commands)
        if self.mcp is not None and self.mcp.owns(call.tool):
            offered = self.mcp.offered(call.tool)
            config = self.mcp.connection(offered.server).config
            return offered.tool.read_only and config.approval_for(offered.tool.name) == "allow"
        return False

    # ------------------------------------------------------------------ apply_patch

    async def _patch(self, call: ToolCall, turn_id: str) -> ToolResult:
        try:
            if call.operation is not None:
                patch = patch_from_operation(call.operation)
            else:
                patch = parse_patch(call.patch_text or "")
            prepared = prepare_patch(patch, self.root)
        except PatchError as exc:
            self.emit(
                ToolCallProposed(call.call_id, "apply_patch", call.describe(), call.arguments)
            )
            return self._fail(call, f"The patch was not applied: {exc}")
        title = prepared.title()
        diff = prepared.unified_diff()
        self.emit(ToolCallProposed(call.call_id, "apply_patch", title, call.arguments, diff))
        verdict = self.rules.check_patch(prepared.config_files)
        decision = Decision.approve()
        if verdict.action == "deny":
            return self._refuse(call, f"The patch was refused: {verdict.reason}.")
        if verdict.action == "ask":
            request = ApprovalRequest(
                call_id=call.call_id,
                kind="patch",
                title=title,
                diff=diff,
                files=tuple(prepared.files),
                hunks=prepared.hunk_counts(),
                reason=verdict.reason,
                always_ask=verdict.always_ask,
            )
            decision = await self._ask(request)
            if not decision.approved:
                return self._refuse(call, _rejection("patch", decision.reason))
        # Only the patch's own paths are looked at before and after: undo then restores exactly
        # what the agent wrote, never a file the user saved meanwhile.
        paths = sorted({p for c in prepared.changes for p in (c.old_path, c.new_path) if p})
        problem = await self._checkpoint(turn_id, paths)
        if problem:
            return self._fail(call, f"The patch was not applied: {problem}")
        try:
            changed = prepared.apply(decision.selected_hunks)
        except PatchError as exc:
            return self._fail(call, f"The patch was not applied: {exc}")
        finally:
            await self._record(turn_id)
        summary = prepared.summary(changed)
        if decision.selected_hunks is not None:
            summary += "\n(The user applied only some of the hunks; read the files again.)"
        return ToolResult(
            output_item(call, summary),
            ToolOutput(call.call_id, "apply_patch", summary),
            list(changed),
        )

    # ------------------------------------------------------------------ shell

    async def _shell(self, call: ToolCall, turn_id: str) -> ToolResult:
        command = "\n".join(call.commands)
        self.emit(ToolCallProposed(call.call_id, "shell", call.describe(), command))
        verdict = self._shell_verdict(call)
        if verdict.action == "deny":
            return self._refuse(call, f"The command was refused: {verdict.reason}.")
        if verdict.action == "ask":
            request = ApprovalRequest(
                call_id=call.call_id,
                kind="command",
                title=call.describe(),
                command=command,
                reason=verdict.reason,
            )
            decision = await self._ask(request)
            if not decision.approved:
                return self._refuse(call, _rejection("command", decision.reason))
        # A checkpoint precedes every command the classifier cannot prove read-only, and the
        # tree is compared before and after it, so undo knows exactly what the command changed.
        tracked = not self._proven_read_only(call.commands)
        if tracked:
            problem = await self._checkpoint(turn_id, None)
            if problem:
                return self._fail(call, f"The command did not run: {problem}")
        max_output = call.max_output or DEFAULT_MAX_OUTPUT
        try:
            results = await run_commands(
                call.commands,
                cwd=self.root,
                sandbox=self.sandbox,
                timeout_ms=call.timeout_ms or DEFAULT_TIMEOUT_MS,
                max_output=max_output,
            )
        finally:
            if tracked:
                # also on interrupt: whatever the command wrote before it was killed counts
                await self._record(turn_id)
        text = format_results(results)
        if call.item_type == "shell_call":
            item = shell_call_output_item(call.call_id, results, max_output)
        else:
            item = output_item(call, text)
        last = results[-1] if results else None
        success = all(r.exit_code == 0 and not r.timed_out for r in results)
        event = ToolOutput(call.call_id, "shell", text, success, last.exit_code if last else None)
        return ToolResult(item, event)

    # ------------------------------------------------------------------ update_plan

    def _plan(self, call: ToolCall) -> ToolResult:
        try:
            steps, explanation = parse_plan(call.arguments)
        except ValueError as exc:
            self.emit(
                ToolCallProposed(call.call_id, "update_plan", "Update the plan", call.arguments)
            )
            return self._fail(call, f"update_plan: {exc}")
        self.emit(PlanUpdated(tuple(steps), explanation))
        text = "Plan updated."
        return ToolResult(output_item(call, text), ToolOutput(call.call_id, "update_plan", text))

    # ------------------------------------------------------------------ helpers

    async def _ask(self, request: ApprovalRequest) -> Decision:
        decision = await self.approver.decide(request)
        self.rules.remember(request, decision)
        return decision

    def _rules_state(self) -> tuple[object, ...]:
        """What a verdict depends on besides the call and the files: policy and grants."""
        return (self.rules.policy, self.rules.grants)

    def _shell_verdict(self, call: ToolCall) -> Verdict:
        """The rules' verdict on ``call``: the one ``reads_only`` reached when no other call
        started since (nothing ran that could change a file or a grant) and the policy and
        grants are the same objects, else decided again."""
        cached = self._verdicts.pop(call.call_id, None)
        if cached is not None:
            asked, runs, state, verdict = cached
            if (
                asked is call
                and runs == self._runs - 1
                and all(a is b for a, b in zip(state, self._rules_state(), strict=True))
            ):
                return verdict
        return self.rules.check_commands(call.commands)

    def _proven_read_only(self, commands: Sequence[str]) -> bool:
        """True only when the classifier is sure every command writes nothing."""
        try:
            return bool(commands) and all(self.rules.read_only(c) is True for c in commands)
        except Exception:  # a classifier that cannot decide has not proven anything
            return False

    async def _record(self, turn_id: str) -> None:
        """Record what the write bracketed by ``_checkpoint`` changed (runs even if cancelled)."""
        work = asyncio.ensure_future(asyncio.to_thread(self.workspace.end_change, turn_id))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # git failing here must not hide the tool's own result
            self.emit(Notice("warning", f"Could not record what the tool changed: {exc}"))

    async def _checkpoint(self, turn_id: str, paths: Sequence[str] | None) -> str | None:
        """Take the turn's checkpoint before a write and look at what the write may change
        (``paths``, or the whole tree for a command); a message when writing is not safe."""

        def take() -> None:
            self.workspace.ensure_writable()
            self.workspace.begin_change(turn_id, paths)

        try:
            # A checkpoint of a large tree takes a few hundred ms of git: off the event loop,
            # so the UI keeps painting.
            await asyncio.to_thread(take)
        except Exception as exc:  # RepositoryBusy, or git failing: never write unprotected
            return str(exc) or type(exc).__name__
        return None

    def _fail(self, call: ToolCall, text: str) -> ToolResult:
        return ToolResult(
            output_item(call, text, success=False),
            ToolOutput(call.call_id, call.tool, text, success=False),
        )

    def _refuse(self, call: ToolCall, text: str) -> ToolResult:
        return ToolResult(
            output_item(call, text, success=False),
            ToolOutput(call.call_id, call.tool, text, success=False, rejected=True),
        )


def _rejection(what: str, reason: str) -> str:
    text = f"The user rejected this {what}."
    if reason.strip():
        text += f" Their reason: {reason.strip()}"
    else:
        text += " Do not retry it unchanged; ask the user or take another approach."
    return text


__all__ = ["Checkpoints", "ToolResult", "ToolRunner"]
