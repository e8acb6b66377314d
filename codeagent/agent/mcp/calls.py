"""One MCP tool call through the approval rules: shown, settled (ask / allow), run, answered.

``ToolRunner`` hands calls to offered MCP tools here; the answer is the text for the model,
whether it succeeded, and whether the user (or the policy) refused it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentEvent, ToolCallProposed
from codeagent.agent.mcp.manager import McpManager
from codeagent.agent.mcp.tool_adapter import parse_arguments, verdict
from codeagent.agent.policy import ApprovalRules


async def run_mcp_call(
    call: Any,
    manager: McpManager,
    rules: ApprovalRules,
    ask: Callable[[ApprovalRequest], Awaitable[Decision]],
    emit: Callable[[AgentEvent], None],
) -> tuple[str, bool, bool]:
    """Run ``call`` (a ``ToolCall`` naming an offered MCP tool): (text, success, rejected)."""
    offered = manager.offered(call.tool)
    title = f"{offered.server}: {offered.tool.name}"
    emit(ToolCallProposed(call.call_id, call.tool, title, call.arguments))
    try:
        arguments = parse_arguments(call.arguments)
    except ValueError as exc:
        return f"{call.tool}: {exc}", False, False
    # The approval prompt and session grants treat the call like a command line.
    command = f"{call.tool} {call.arguments}".strip()
    granted = rules.grants.covers_command(call.tool) or rules.grants.covers_command(command)
    config = manager.connection(offered.server).config
    decided = verdict(
        rules.policy, config.approval_for(offered.tool.name), offered.tool.read_only, granted
    )
    if decided.action == "deny":
        return f"The MCP tool call was refused: {decided.reason}.", False, True
    if decided.action == "ask":
        request = ApprovalRequest(
            call_id=call.call_id, kind="command", title=title, command=command,
            reason=decided.reason,
        )  # fmt: skip
        decision = await ask(request)
        if not decision.approved:
            text = "The user rejected this MCP tool call."
            if decision.reason.strip():
                text += f" Their reason: {decision.reason.strip()}"
            else:
                text += " Do not retry it unchanged; ask the user or take another approach."
            return text, False, True
    text, success = await manager.call(call.tool, arguments, emit)
    return text, success, False


__all__ = ["run_mcp_call"]
