"""The HTTP transport: ``POST /v1/responses`` (Server-Sent Events when ``stream: true``, one
JSON response otherwise) and ``POST /v1/responses/compact``.

Errors before streaming use the flat HTTP shape ``{"error": {message, type, param, code}}``
with the matching status. Only ``store=true`` responses can be continued over HTTP: a
``previous_response_id`` of a ``store=false`` response fails as on the real API.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from codeagent.server import engine, transport_abort
from codeagent.server.auth import check_bearer
from codeagent.server.compact import compact_window, expand_input
from codeagent.server.faults import StreamFaults
from codeagent.server.items import normalize_input
from codeagent.server.requests import RequestError, parse_json, validate_create
from codeagent.server.state import ServerState
from codeagent.server.strict import check_model, check_params

_conn_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


class ApiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped, so any text a client sent (lone surrogates included)
    comes back without an encoding error."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def error_response(err: RequestError) -> JSONResponse:
    """The flat HTTP error body with the error's status."""
    return ApiJSONResponse(
        {"error": err.body()}, status_code=err.status, headers=err.http_headers()
    )


def server_error(exc: BaseException) -> JSONResponse:
    """A server bug answers 500 like the real API, in the same shape (never a traceback)."""
    return error_response(RequestError(500, "server_error", f"The server had an error: {exc!r}"))


def _conn_id(request: Request, state: ServerState) -> int:
    """One id per TCP connection (keep-alive requests share it)."""
    transport = request.scope.get(transport_abort.SCOPE_KEY)
    if transport is None:
        return state.next_conn_id()
    if transport not in _conn_ids:
        _conn_ids[transport] = state.next_conn_id()
    return _conn_ids[transport]


async def _read_json(request: Request, state: ServerState, conn_id: int) -> Any:
    # The 1009 fault is a WebSocket frame limit (the real API takes larger bodies over HTTP,
    # which is why a client falls back to it); HTTP keeps the server's own body limit.
    limit = state.max_frame_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
    raw = b"".join(chunks)
    try:
        payload = parse_json(raw, "the request body")
    except RequestError:
        state.note_frame(conn_id, "http", raw, {})
        raise
    state.note_frame(conn_id, "http", raw, payload)
    return payload


def _too_large(limit: int) -> RequestError:
    return RequestError(
        413,
        "request_too_large",
        f"The request body is larger than this server accepts ({limit} bytes).",
    )


async def create_response(request: Request) -> Response:
    """``POST /v1/responses``."""
    state: ServerState = request.app.state.server
    conn_id = _conn_id(request, state)
    try:
        check_bearer(request.headers, state.api_key)
        body = await _read_json(request, state, conn_id)
        state.mark(conn_id, "create_received", None)
        prepared = await engine.prepare(
            state, body, state.store.get, conn_id=conn_id, transport="http"
        )
    except RequestError as err:
        return error_response(err)
    except Exception as exc:
        return server_error(exc)
    faults = prepared.stream_faults(state.faults.take_stream_faults(conn_id))
    if body.get("stream") is not True:
        return await _whole_response(request, state, prepared, faults)
    return EventSourceResponse(_sse(request, state, conn_id, prepared, faults), ping=15)


async def _sse(
    request: Request,
    state: ServerState,
    conn_id: int,
    prepared: engine.Prepared,
    faults: StreamFaults,
) -> AsyncIterator[dict[str, str]]:
    """The SSE messages of one response (``event:`` = type, ``data:`` = the JSON event)."""
    for raw in faults.raw_frames:
        yield {"data": raw}
    first_delta = True
    sent = 0
    try:
        async for event in engine.stream(prepared, faults):
            if isinstance(event, str):
                yield {"data": event}
                continue
            yield {"event": event["type"], "data": json.dumps(event)}
            sent += 1
            kind = event["type"]
            if kind == "response.created":
                state.mark(conn_id, "created_sent", prepared.response_id)
            elif first_delta and kind.endswith(".delta"):
                first_delta = False
                state.mark(conn_id, "first_delta_sent", prepared.response_id)
            elif kind == "response.completed":
                _remember(state, prepared)
                state.mark(conn_id, "completed_sent", prepared.response_id)
    except engine.DropConnection:
        transport_abort.abort(request.scope)
    except asyncio.CancelledError:  # sse-starlette cancels us when the client disconnects
        state.mark(conn_id, "peer_gone", prepared.response_id, events=sent)
        raise


async def _whole_response(
    request: Request, state: ServerState, prepared: engine.Prepared, faults: StreamFaults
) -> Response:
    """``stream: false``: run the response and answer with the completed response object."""
    final = None
    try:
        async for event in engine.stream(prepared, faults):
            if isinstance(event, dict) and event["type"] == "response.completed":
                final = event["response"]
    except engine.DropConnection:
        transport_abort.abort(request.scope)
        return Response(status_code=500)
    _remember(state, prepared)
    return ApiJSONResponse(final)


def _remember(state: ServerState, prepared: engine.Prepared) -> None:
    record = prepared.record(None)
    if record.store:
        state.store.put(record)


async def compact(request: Request) -> Response:
    """``POST /v1/responses/compact``: a compacted window ending in a ``compaction`` item."""
    state: ServerState = request.app.state.server
    conn_id = _conn_id(request, state)
    try:
        check_bearer(request.headers, state.api_key)
        body = validate_create(await _read_json(request, state, conn_id))
        check_params(body, "compact")
        model = body["model"]
        check_model(model, state.catalog, state.any_model)
        history = []
        previous = body.get("previous_response_id")
        if previous:
            parent = state.store.get(previous)
            if parent is None:
                raise engine.not_found(previous)
            history = list(parent.context)
        history += expand_input(normalize_input(body.get("input")))
        return ApiJSONResponse(compact_window(model, body.get("instructions"), history))
    except RequestError as err:
        return error_response(err)
    except Exception as exc:
        return server_error(exc)
