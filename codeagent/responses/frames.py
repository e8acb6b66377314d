"""Decoding one WebSocket frame or SSE ``data`` field into a typed event, and deciding what a
bad one means: a corrupt stream (drop it and retry the call) or a frame to skip and log.

Also what no later layer could survive: JSON nested absurdly deep (copying or re-encoding the
history would recurse out of the stack) and lone UTF-16 surrogates (no file, terminal or socket
can encode them as UTF-8).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from codeagent.responses.errors import ResponsesError, StreamCorrupted, WireFormatError
from codeagent.responses.events import TERMINAL_EVENT_TYPES, ServerEvent, parse_event

LOG = logging.getLogger("codeagent.responses")

#: Deeper JSON than this is refused: no real event comes close (about 8 levels), and very deep
#: values make every later step (copying, re-encoding the history) recurse out of the stack.
MAX_DEPTH = 64
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_event(text: str | bytes) -> ServerEvent:
    """Decode one WebSocket frame or SSE ``data`` field into a typed event.

    Raises ``StreamCorrupted`` when the stream it came from cannot be trusted any more (not
    JSON, binary, nested absurdly deep, or a malformed *terminal* event, without which the
    response could never end) and ``WireFormatError`` for a frame that can simply be skipped
    (valid JSON that is not an event, or a malformed non-terminal event). Lone UTF-16
    surrogates (which cannot be encoded as UTF-8 anywhere later) become U+FFFD.
    """
    if isinstance(text, bytes):
        raise StreamCorrupted("The server sent a binary frame where a JSON event was expected.")
    try:
        data: Any = json.loads(text)
    except RecursionError:
        raise StreamCorrupted("The server sent an event nested too deeply to read.") from None
    except ValueError:
        raise StreamCorrupted(
            f"The server sent something that is not a JSON event: {_preview(text)}"
        ) from None
    if _ESCAPED_SURROGATE.search(text):
        data = _replace_surrogates(data)
    kind = data.get("type") if isinstance(data, dict) else None
    if (text.count("{") + text.count("[")) > MAX_DEPTH and _too_deep(data):
        if kind in TERMINAL_EVENT_TYPES:
            raise StreamCorrupted("The server sent a final event nested too deeply to read.")
        raise WireFormatError(f"event {kind!r} is nested more than {MAX_DEPTH} levels deep")
    try:
        return parse_event(data)
    except WireFormatError as exc:
        if kind in TERMINAL_EVENT_TYPES:
            raise StreamCorrupted(
                f"The server's final event could not be read ({exc.message})."
            ) from None
        raise


def skipped(exc: ResponsesError, transport: str) -> None:
    """Log a frame that was skipped (not fatal: the stream goes on)."""
    LOG.info("skipped an unreadable %s event: %s", transport, exc.message)


def _preview(text: str) -> str:
    snippet = text[:80].replace("\n", " ")
    return repr(snippet + ("..." if len(text) > 80 else ""))


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests more than ``MAX_DEPTH`` containers (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(current, dict):
            stack.extend((v, depth + 1) for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            stack.extend((v, depth + 1) for v in current if isinstance(v, dict | list))
    return False


__all__ = ["MAX_DEPTH", "decode_event", "skipped"]
