"""``GET /v1/models``: the server's catalog in the real API's list shape.

Each entry is ``{"id", "object": "model", "created", "owned_by", "shutdown_date"}``; shut-down
models are not listed (the real API no longer offers them), deprecated ones carry their date.
Clients use it to warn about a deprecated model (``codeagent.responses.model_check``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from codeagent.server.auth import check_bearer
from codeagent.server.requests import RequestError
from codeagent.server.state import ServerState

#: 2026-01-01T00:00:00Z: a fixed ``created`` (the catalog has no release dates).
_CREATED = 1767225600


async def list_models(request: Request) -> JSONResponse:
    """The catalog's active and deprecated models, with their shutdown dates."""
    state: ServerState = request.app.state.server
    try:
        check_bearer(request.headers, state.api_key)
    except RequestError as err:
        return JSONResponse({"error": err.body()}, status_code=err.status)
    data = [
        {
            "id": m.id,
            "object": "model",
            "created": _CREATED,
            "owned_by": "openai",
            "shutdown_date": m.shutdown_date.isoformat() if m.shutdown_date else None,
        }
        for m in state.catalog.models
        if m.status != "shut_down"
    ]
    return JSONResponse({"object": "list", "data": data})
