"""Request bodies for ``response.create`` (and the ``response.steer`` frame): building them,
encoding them for each transport, and counting the bytes that go on the wire.

A *body* here is the transport-neutral ``POST /responses`` body (``model``, ``input``, ...). The
WebSocket transport sends it as one text frame with ``"type": "response.create"``; the HTTP
transport posts it with ``"stream": true`` and without WebSocket-only fields. Both encodings are
compact JSON so that the byte counts the conversation reports are the bytes actually sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

TransportName = Literal["websocket", "http"]

#: Fields that only the WebSocket protocol knows; never sent over HTTP.
WEBSOCKET_ONLY_FIELDS = frozenset({"type", "stream_id", "generate"})

#: Fields that describe *what* is sent rather than *how*: they may differ between a chained
#: request and the previous one. Everything else must be equal for chaining to be allowed.
INPUT_FIELDS = frozenset({"input", "previous_response_id", "stream", "type"})

#: Fields that never influence chaining (transport routing and client bookkeeping).
IGNORED_FOR_CHAINING = frozenset({"stream_id", "stream_options", "client_metadata"})


def encode_json(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is (the API accepts it and it is what we count)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def websocket_frame(body: dict[str, Any]) -> str:
    """The text frame that carries ``body`` as a ``response.create`` client event."""
    frame = {"type": "response.create"}
    frame.update({k: v for k, v in body.items() if k not in ("type", "stream")})
    return encode_json(frame)


def steer_frame(previous_response_id: str, text: str) -> str:
    """The ``response.steer`` client event: user input for the active response
    ``previous_response_id`` on this socket. Only these three fields are allowed (no
    ``stream_id``: the target response decides the lane)."""
    return encode_json(
        {"type": "response.steer", "previous_response_id": previous_response_id, "input": text}
    )


def http_body(body: dict[str, Any]) -> bytes:
    """The ``POST /responses`` body for ``body``: streaming on, WebSocket-only fields removed."""
    payload = {k: v for k, v in body.items() if k not in WEBSOCKET_ONLY_FIELDS}
    payload["stream"] = True
    return encode_json(payload).encode("utf-8")


def encoded_size(body: dict[str, Any], transport: TransportName) -> int:
    """How many bytes ``body`` takes on ``transport`` (frame payload or HTTP body)."""
    if transport == "websocket":
        return len(websocket_frame(body).encode("utf-8"))
    return len(http_body(body))


def settings_signature(body: dict[str, Any]) -> str:
    """A canonical string of every non-input field of ``body``; two requests may be chained only
    when their signatures are equal (same model, instructions, tools, reasoning, store, ...)."""
    fields = {
        k: v for k, v in body.items() if k not in INPUT_FIELDS and k not in IGNORED_FOR_CHAINING
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_body(
    settings: dict[str, Any],
    input_items: Iterable[dict[str, Any]],
    previous_response_id: str | None = None,
) -> dict[str, Any]:
    """A request body: the non-input ``settings``, the ``input`` items and, when chaining, the
    ``previous_response_id``. ``settings`` entries that are ``None`` are left out."""
    body = {k: v for k, v in settings.items() if v is not None}
    if previous_response_id:
        body["previous_response_id"] = previous_response_id
    body["input"] = list(input_items)
    return body


def replay_item(item: dict[str, Any], *, store: bool) -> dict[str, Any]:
    """``item`` as it should be sent back in ``input``.

    With ``store=false`` nothing is persisted server-side, so server-assigned item ids cannot be
    referenced; they are dropped (reasoning travels through ``encrypted_content`` instead). With
    ``store=true`` the item is sent as received. Input items we created ourselves have no id.
    """
    if store or "id" not in item or item.get("type") in _ITEMS_KEYED_BY_ID:
        return item
    return {k: v for k, v in item.items() if k != "id"}


#: Item types whose ``id`` is not a server id but the reference to the call they answer.
_ITEMS_KEYED_BY_ID = frozenset({"local_shell_call_output"})

#: Each tool call item type and the item type that answers it.
CALL_OUTPUT_TYPES = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
    "apply_patch_call": "apply_patch_call_output",
    "shell_call": "shell_call_output",
}
_OUTPUT_TYPES = frozenset(CALL_OUTPUT_TYPES.values())


def paired_input(
    items: list[dict[str, Any]], earlier: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """``items`` without what the API refuses as unpaired: an output whose call is neither in
    ``items`` nor in ``earlier`` (the history a chained request continues), and a call in
    ``items`` with no output after it ("No tool output found for function call ...").

    The conversation answers every call before it calls the model, so this drops nothing in a
    healthy session; it guards what goes out against a damaged or hand-edited history.
    """
    called = {i.get("call_id") for i in items if i.get("type") in CALL_OUTPUT_TYPES}
    answered = {i.get("call_id") for i in items if i.get("type") in _OUTPUT_TYPES}
    missing = answered - called  # outputs of earlier calls (a tool turn's own output)
    if missing:  # look for them from the newest item back, not through the whole history
        history = earlier if isinstance(earlier, Sequence) else list(earlier)
        for item in reversed(history):
            if item.get("type") in CALL_OUTPUT_TYPES and item.get("call_id") in missing:
                called.add(item.get("call_id"))
                missing.discard(item.get("call_id"))
                if not missing:
                    break
    kept = []
    for item in items:
        kind = item.get("type")
        if kind in _OUTPUT_TYPES and item.get("call_id") not in called:
            continue
        if kind in CALL_OUTPUT_TYPES and item.get("call_id") not in answered:
            continue
        kept.append(item)
    return kept


__all__ = [
    "CALL_OUTPUT_TYPES",
    "INPUT_FIELDS",
    "WEBSOCKET_ONLY_FIELDS",
    "TransportName",
    "build_body",
    "encode_json",
    "encoded_size",
    "http_body",
    "paired_input",
    "replay_item",
    "settings_signature",
    "steer_frame",
    "websocket_frame",
]
