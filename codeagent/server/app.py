"""The ASGI application: routes of the local Responses API server."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from codeagent.server import transport_abort
from codeagent.server.auth import check_bearer
from codeagent.server.connection import Connection
from codeagent.server.http_routes import compact, create_response
from codeagent.server.models_route import list_models
from codeagent.server.requests import RequestError
from codeagent.server.state import ServerState

#: ``/v1/responses`` as on the real API, and the paths Codex-style third-party clients use
#: (pi-ai connects to ``{base}/codex/responses``).
ROUTE_BASES = ("/v1", "/v1/codex", "/codex")


async def responses_socket(websocket: WebSocket) -> None:
    """``GET /v1/responses`` upgrade: WebSocket mode."""
    state: ServerState = websocket.app.state.server
    status = state.faults.take_reject()
    if status is not None:
        body = {"error": {"message": f"WebSocket upgrade refused (HTTP {status}).", "code": None}}
        await websocket.send_denial_response(JSONResponse(body, status_code=status))
        return
    try:
        check_bearer(websocket.headers, state.api_key)
    except RequestError as err:
        await websocket.send_denial_response(
            JSONResponse({"error": err.body()}, status_code=err.status)
        )
        return
    await websocket.accept()
    state.connections_opened += 1
    close = state.faults.take_close_after_upgrade()
    if close is not None:
        code, reason = close
        await websocket.close(code=code, reason=reason)
        return
    await Connection(websocket, state).serve()


def build_app(state: ServerState):
    """The ASGI app serving ``state`` (wrapped so faults can cut connections abruptly)."""
    routes: list = []
    for base in ROUTE_BASES:
        routes += [
            WebSocketRoute(f"{base}/responses", responses_socket),
            Route(f"{base}/responses", create_response, methods=["POST"]),
            Route(f"{base}/responses/compact", compact, methods=["POST"]),
            Route(f"{base}/models", list_models, methods=["GET"]),
        ]
    app = Starlette(routes=routes)
    app.state.server = state
    return transport_abort.remember_transport(app)
