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
from codeagent.server.requests import RequestError
from codeagent.server.state import ServerState


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
    await Connection(websocket, state).serve()


def build_app(state: ServerState):
    """The ASGI app serving ``state`` (wrapped so faults can cut connections abruptly)."""
    app = Starlette(
        routes=[
            WebSocketRoute("/v1/responses", responses_socket),
            Route("/v1/responses", create_response, methods=["POST"]),
            Route("/v1/responses/compact", compact, methods=["POST"]),
        ]
    )
    app.state.server = state
    return transport_abort.remember_transport(app)
