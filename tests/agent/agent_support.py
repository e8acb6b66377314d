"""Helpers for agent tests: an approver answering from a list, event collection, and reading
what the local server received."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentEvent

API_KEY = "sk-test-agent-key-1234567890"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


class ListApprover:
    """Answers approval requests with the given decisions in order and records the requests."""

    def __init__(
        self, *decisions: Decision, on_ask: Callable[[ApprovalRequest], None] | None = None
    ):
        self.decisions = list(decisions)
        self.requests: list[ApprovalRequest] = []
        self.on_ask = on_ask

    async def decide(self, request: ApprovalRequest) -> Decision:
        self.requests.append(request)
        if self.on_ask is not None:
            self.on_ask(request)
        if not self.decisions:
            raise AssertionError(f"unexpected approval request: {request}")
        return self.decisions.pop(0)


async def collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in events]


def kinds(events: list[AgentEvent]) -> list[str]:
    return [e.kind for e in events]


def sent_outputs(server: Any) -> list[dict[str, Any]]:
    """Every tool output item the server received, in order (duplicates from resends kept)."""
    found = []
    for frame in server.record:
        items = frame.payload.get("input")
        if frame.payload.get("type") == "response.create" and "response" in frame.payload:
            items = frame.payload["response"].get("input", items)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and str(item.get("type", "")).endswith("_output"):
                found.append(item)
    return found
