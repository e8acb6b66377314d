"""The first thing the app shows: where you are, what answers you, and how to get help."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeagent.workspace.repo_info import current_branch

if TYPE_CHECKING:
    from codeagent.agent.status import AgentStatus

TRANSPORTS = {
    "auto": "WebSocket (HTTP if refused)",
    "websocket": "WebSocket",
    "http": "HTTP",
}


def welcome_text(root: Path, settings: Any, status: AgentStatus | None = None) -> str:
    """Repository and branch, model, approval policy and transport, then a few hints.

    From the agent's ``status`` when it is built (a resumed session), else from the settings
    and ``.git/HEAD``: the welcome paints before the agent exists (issue 15).
    """
    if status is not None:
        name, model, policy = status.branch, status.model, status.policy
    else:
        name, model = current_branch(root), settings.model
        policy = getattr(settings.approval_policy, "value", settings.approval_policy)
    branch = f"branch {name}" if name else "detached HEAD"
    configured = str(getattr(settings, "transport", "auto"))
    transport = TRANSPORTS.get(configured, configured)
    return "\n".join(
        [
            f"codeagent in {root} ({branch})",
            f"Model {model} · approvals: {policy} · transport: {transport}",
            "Type a request and press Enter. /help lists commands and keys; @path names a file; "
            "Esc interrupts a turn; Ctrl+Q quits.",
        ]
    )


__all__ = ["welcome_text"]
