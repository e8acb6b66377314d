"""The first thing the app shows: where you are, what answers you, and how to get help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codeagent.agent.status import AgentStatus

TRANSPORTS = {
    "auto": "WebSocket (HTTP if refused)",
    "websocket": "WebSocket",
    "http": "HTTP",
}


def welcome_text(status: AgentStatus, root: Path, settings: Any) -> str:
    """Repository and branch, model, approval policy and transport, then a few hints."""
    branch = f"branch {status.branch}" if status.branch else "detached HEAD"
    configured = str(getattr(settings, "transport", "auto"))
    transport = TRANSPORTS.get(configured, configured)
    return "\n".join(
        [
            f"codeagent in {root} ({branch})",
            f"Model {status.model} · approvals: {status.policy} · transport: {transport}",
            "Type a request and press Enter. /help lists commands and keys; @path names a file; "
            "Esc interrupts a turn; Ctrl+Q quits.",
        ]
    )


__all__ = ["welcome_text"]
