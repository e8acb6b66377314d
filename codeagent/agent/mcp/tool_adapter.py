"""MCP tools as the model sees them: namespaced function-tool specs, the approval verdict for
a call, and the call's result as capped text.

Names are ``mcp__SERVER__TOOL``, fitted to the Responses API's function names
(``^[a-zA-Z0-9_-]{1,64}$``): other characters become ``_`` and a name too long (or clashing
after that) is cut and given a short hash of the original, so it stays unique and stable.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from codeagent.agent.approvals import Policy
from codeagent.agent.mcp.client import RemoteTool
from codeagent.agent.mcp.server_config import Approval
from codeagent.agent.policy import Verdict
from codeagent.agent.tools.output_cap import cap_text
from codeagent.agent.tools.shell import DEFAULT_MAX_OUTPUT

PREFIX = "mcp__"
MAX_NAME = 64
#: The same cap as a shell command's output.
MAX_OUTPUT = DEFAULT_MAX_OUTPUT
_BAD = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True)
class OfferedTool:
    """A server's tool under the name the model calls it by."""

    name: str
    server: str
    tool: RemoteTool


def tool_name(server: str, tool: str, taken: set[str]) -> str:
    """The function name for ``tool`` of ``server`` (see the module docstring)."""
    name = f"{PREFIX}{server}__{_BAD.sub('_', tool)}"
    if len(name) <= MAX_NAME and name not in taken:
        return name
    digest = hashlib.sha256(f"{server}/{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def function_spec(offered: OfferedTool) -> dict[str, Any]:
    """The Responses API function tool for ``offered``."""
    schema = offered.tool.input_schema or {}
    if schema.get("type") != "object":  # the API takes object schemas only
        schema = {"type": "object", "properties": {}}
    description = offered.tool.description or f"{offered.tool.name} (MCP server {offered.server})"
    return {
        "type": "function",
        "name": offered.name,
        "description": f"[MCP server {offered.server}] {description}"[:1024],
        "parameters": schema,
        "strict": False,
    }


def verdict(policy: Policy, approval: Approval, read_only: bool, granted: bool) -> Verdict:
    """Whether a call may run: the configured ``approval`` decides, as it does for shell
    commands the policy; the server's read-only annotation only informs (it lets a call run
    under the read-only policy when the config allows it, and is named in the reason)."""
    if policy is Policy.READ_ONLY and not (approval == "allow" and read_only):
        return Verdict("deny", "the read-only policy runs only MCP tools configured as allow "
                               "that their server marks read-only")  # fmt: skip
    if approval == "allow" or granted:
        return Verdict("allow")
    note = " (its server marks it read-only)" if read_only else ""
    return Verdict("ask", f"MCP tools need your approval unless configured as allow{note}")


def parse_arguments(arguments: str) -> dict[str, Any]:
    """The call's JSON arguments as an object; ``ValueError`` with a message for the model."""
    try:
        data = json.loads(arguments or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the arguments are not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("the arguments must be a JSON object")
    return data


def result_text(result: Any) -> tuple[str, bool]:
    """A ``CallToolResult`` as capped text for the model, and whether it succeeded."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            resource = block.resource
            parts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")
        else:  # images and audio: the model gets what they are, not their bytes
            parts.append(f"[{kind} content: {getattr(block, 'mime_type', '') or 'binary'}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts) or "(no output)"
    capped, _ = cap_text(text, MAX_OUTPUT)
    return capped, not bool(getattr(result, "is_error", False))


__all__ = [
    "MAX_OUTPUT",
    "PREFIX",
    "OfferedTool",
    "function_spec",
    "parse_arguments",
    "result_text",
    "tool_name",
    "verdict",
]
