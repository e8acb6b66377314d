"""Helpers for MCP tests: an approver answering from a list, event collection, and the tool
outputs the local Responses server received."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from codeagent.agent.approvals import ApprovalRequest, Decision
from codeagent.agent.events import AgentEvent

API_KEY = "sk-test-mcp-key-1234567890"


class ListApprover:
    """Answers approval requests with the given decisions in order and records the requests."""

    def __init__(self, *decisions: Decision):
        self.decisions = list(decisions)
        self.requests: list[ApprovalRequest] = []

    async def decide(self, request: ApprovalRequest) -> Decision:
        self.requests.append(request)
        if not self.decisions:
            raise AssertionError(f"unexpected approval request: {request}")
        return self.decisions.pop(0)


async def collect(events: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    return [event async for event in events]


def request_payloads(server: Any) -> list[dict[str, Any]]:
    """The body of every response request the server received, in order."""
    payloads = []
    for frame in server.record:
        payload = frame.payload
        if payload.get("type") == "response.create" and "response" in payload:
            payload = payload["response"]
        if "input" in payload:
            payloads.append(payload)
    return payloads


def sent_outputs(server: Any) -> list[dict[str, Any]]:
    """Every tool output item the server received, in order (duplicates from resends kept)."""
    found = []
    for payload in request_payloads(server):
        items = payload.get("input")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and str(item.get("type", "")).endswith("_output"):
                found.append(item)
    return found
