"""Small helpers for talking to the local server over real sockets in the server tests."""

from __future__ import annotations

import json
from typing import Any

import websockets

from codeagent.responses.catalog import DEFAULT_MODEL

#: The model every server test sends: the strict server knows only the catalog's models.
MODEL = DEFAULT_MODEL

TERMINAL = {"response.completed", "response.failed", "response.incomplete", "error"}


def ws_url(server: Any) -> str:
    return server.base_url.replace("http", "ws", 1) + "/responses"


def create(**fields: Any) -> str:
    """A ``response.create`` frame."""
    return json.dumps({"type": "response.create", "model": MODEL, **fields})


async def recv_turn(ws: Any, stream_id: str | None = None) -> list[dict[str, Any]]:
    """Events up to and including the terminal one (of ``stream_id``'s lane when given)."""
    events = []
    while True:
        event = json.loads(await ws.recv())
        if stream_id is not None and event.get("stream_id") != stream_id:
            continue
        events.append(event)
        if event["type"] in TERMINAL:
            return events


async def turn(ws: Any, **fields: Any) -> list[dict[str, Any]]:
    await ws.send(create(**fields))
    return await recv_turn(ws, fields.get("stream_id"))


def completed(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[-1]["type"] == "response.completed", events[-1]
    return events[-1]["response"]


def text_of(response: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "")
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
    )


def connect(server: Any, **kwargs: Any) -> Any:
    return websockets.connect(ws_url(server), max_size=None, **kwargs)


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
