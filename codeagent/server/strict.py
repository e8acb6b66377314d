"""What the real Responses API rejects and a lenient test server would let through.

Each check raises a :class:`RequestError` carrying the real API's status, code, param and
message wording (``/work/shared/docs/real-api-checklist.md``), so a client bug shows up in tests
exactly as it would against api.openai.com: unknown top-level parameters, WebSocket-only ones
over HTTP, models the catalog does not know (or that were shut down), reasoning efforts the model
does not take, and tool calls and outputs that are not paired once ``previous_response_id`` is
resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from codeagent.responses.catalog import REASONING_EFFORTS, Catalog, ModelInfo
from codeagent.server.api_params import (
    CLIENT_EXTRAS,
    COMPACT_PARAMS,
    HTTP_CREATE_PARAMS,
    WS_CREATE_PARAMS,
    WS_ONLY_PARAMS,
)
from codeagent.server.requests import RequestError, bad

Transport = Literal["ws", "http", "compact"]

_ACCEPTED = {
    "ws": WS_CREATE_PARAMS | CLIENT_EXTRAS,
    "http": HTTP_CREATE_PARAMS | CLIENT_EXTRAS,
    "compact": COMPACT_PARAMS | CLIENT_EXTRAS,
}

#: Each tool call item type, the output item type that answers it, and how messages name them.
CALL_OUTPUTS: dict[str, tuple[str, str]] = {
    "function_call": ("function_call_output", "function call"),
    "custom_tool_call": ("custom_tool_call_output", "custom tool call"),
    "shell_call": ("shell_call_output", "shell call"),
    "apply_patch_call": ("apply_patch_call_output", "apply patch call"),
    "local_shell_call": ("local_shell_call_output", "local shell call"),
}
_OUTPUT_CALLS = {output: (call, noun) for call, (output, noun) in CALL_OUTPUTS.items()}


def check_params(body: dict[str, Any], transport: Transport) -> None:
    """Reject a top-level parameter the API does not take on this transport."""
    accepted = _ACCEPTED[transport]
    for name in body:
        if name in accepted:
            continue
        if transport != "ws" and name in WS_ONLY_PARAMS:
            # Wording reported by users of the real API for `generate` over HTTP.
            raise RequestError(
                400, "unsupported_parameter", f"Unsupported parameter: {name}", param=name
            )
        raise RequestError(400, "unknown_parameter", f"Unknown parameter: '{name}'.", param=name)


def check_model(model: str, catalog: Catalog, any_model: bool) -> ModelInfo | None:
    """The catalog entry of ``model``; ``model_not_found`` for an unknown or shut-down model
    unless ``any_model`` (then an unknown model gives ``None``)."""
    info = catalog.get(model)
    if info is not None and info.status != "shut_down":
        return info
    if any_model:
        return info
    raise RequestError(
        404,
        "model_not_found",
        f"The model `{model}` does not exist or you do not have access to it.",
    )


def check_reasoning(body: dict[str, Any], info: ModelInfo | None) -> None:
    """Reject ``reasoning.effort`` values the model does not accept."""
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict) or reasoning.get("effort") is None:
        return
    effort = reasoning["effort"]
    known = REASONING_EFFORTS if info is None else info.reasoning_efforts
    if info is not None and not known:
        raise RequestError(
            400,
            "unsupported_parameter",
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            param="reasoning.effort",
        )
    if effort in known:
        return
    choices = _quoted_list(known)
    if info is None or effort not in REASONING_EFFORTS:
        raise bad(
            f"Invalid value: {_quote(effort)}. Supported values are: {choices}.",
            "reasoning.effort",
            "invalid_value",
        )
    raise RequestError(
        400,
        "unsupported_value",
        f"Unsupported value: 'reasoning.effort' does not support {_quote(effort)} with this "
        f"model. Supported values are: {choices}.",
        param="reasoning.effort",
    )


def check_pairing(context: Iterable[dict[str, Any]]) -> None:
    """Every tool call in the (resolved) conversation has its output after it, and every output
    answers a call made before it."""
    calls: dict[str, list[Any]] = {}  # call_id -> [call type, noun, call_id, answered]
    for item in context:
        kind = item.get("type")
        if kind in CALL_OUTPUTS:
            call_id = item.get("call_id")
            if isinstance(call_id, str):
                entry = [kind, CALL_OUTPUTS[kind][1], call_id, False]
                calls[call_id] = entry
                if kind == "local_shell_call" and isinstance(item.get("id"), str):
                    calls[item["id"]] = entry  # its output may name the call by item id
        elif kind in _OUTPUT_CALLS:
            call_kind, noun = _OUTPUT_CALLS[kind]
            # local_shell_call_output names its call by `id` (SDK ResponseInputItemParam).
            call_id = item.get("id") if kind == "local_shell_call_output" else item.get("call_id")
            found = calls.get(call_id) if isinstance(call_id, str) else None
            if found is None or found[0] != call_kind:
                # The API sends no error code for this one.
                raise bad(
                    f"No tool call found for {noun} output with call_id {call_id}.", "input", None
                )
            found[3] = True
    for _kind, noun, call_id, answered in calls.values():
        if not answered:
            raise bad(f"No tool output found for {noun} {call_id}.", "input", None)


def _quote(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _quoted_list(values: Iterable[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]
