"""Validating a create request body; bad input becomes a :class:`RequestError` with a message
that tells the client exactly what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class RequestError(Exception):
    """An API error answered to the client (WebSocket ``error`` event / HTTP error body)."""

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        param: str | None = None,
        type: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.type = type or _default_type(status)
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The ``error`` object: type, code, message, param."""
        return {"type": self.type, "code": self.code, "message": self.message, "param": self.param}

    def ws_event(self, stream_id: str | None = None) -> dict[str, Any]:
        """The wrapped WebSocket ``error`` event."""
        event: dict[str, Any] = {"type": "error", "status": self.status, "error": self.body()}
        if self.retry_after is not None:
            event["error"]["headers"] = {"retry-after": _seconds(self.retry_after)}
        if stream_id is not None:
            event["stream_id"] = stream_id
        return event

    def http_headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": _seconds(self.retry_after)}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _default_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def bad(message: str, param: str | None = None, code: str | None = "invalid_value") -> RequestError:
    """A 400 ``invalid_request_error``."""
    return RequestError(400, code, message, param=param)


_OPTIONAL_TYPES: dict[str, tuple[type, ...]] = {
    "instructions": (str,),
    "previous_response_id": (str,),
    "tools": (list,),
    "include": (list,),
    "store": (bool,),
    "generate": (bool,),
    "stream": (bool,),
    "background": (bool,),
    "metadata": (dict,),
    "reasoning": (dict,),
    "parallel_tool_calls": (bool,),
}

_TYPE_NAMES = {str: "a string", list: "an array", bool: "a boolean", dict: "an object"}


def validate_create(body: Any) -> dict[str, Any]:
    """Check the fields the server relies on; unknown fields are tolerated and ignored."""
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.", code="invalid_json")
    model = body.get("model")
    if model is None:
        raise bad("Missing required parameter: 'model'.", "model", "missing_required_parameter")
    if not isinstance(model, str) or not model:
        raise bad("Invalid type for 'model': expected a non-empty string.", "model", "invalid_type")
    for name, types in _OPTIONAL_TYPES.items():
        value = body.get(name)
        if value is not None and not isinstance(value, types):
            expected = _TYPE_NAMES[types[0]]
            raise bad(f"Invalid type for '{name}': expected {expected}.", name, "invalid_type")
    if body.get("background"):
        raise bad(
            "Background responses are not supported in WebSocket mode or by this server; "
            "omit 'background' or set it to false.",
            "background",
            "unsupported_parameter",
        )
    value = body.get("input")
    if value is not None and not isinstance(value, str | list):
        raise bad(
            "Invalid type for 'input': expected a string or an array of items.",
            "input",
            "invalid_type",
        )
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, dict) or not (
                isinstance(item.get("type"), str) or isinstance(item.get("role"), str)
            ):
                raise bad(
                    f"Invalid input item at index {index}: expected an object with a 'type'.",
                    f"input[{index}]",
                    "invalid_type",
                )
    return body


#: Deeper JSON than this is refused before anything walks it (real requests nest ~10 levels;
#: Python's own parser and every recursive walk would fail somewhere past ~1000).
MAX_JSON_DEPTH = 128


def parse_json(text: str | bytes, what: str = "frame") -> Any:
    """Decode a request; invalid or too deeply nested JSON is a 400 ``invalid_json``."""
    try:
        value = json.loads(text)
    except RecursionError:
        value = _TOO_DEEP
    except ValueError as exc:
        raise bad(f"Invalid JSON in {what}: {exc}.", code="invalid_json") from None
    if value is _TOO_DEEP or _depth_exceeds(value, MAX_JSON_DEPTH):
        raise bad(
            f"Invalid JSON in {what}: nested more than {MAX_JSON_DEPTH} levels deep.",
            code="invalid_json",
        )
    return value


_TOO_DEEP = object()


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` (iterative: no recursion to overflow)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
