"""One WebSocket connection: frame handling, ``stream_id`` lanes and the connection-local cache.

Each lane (the default lane is ``None``) runs its responses in FIFO order in its own task; at
most :data:`MAX_IN_FLIGHT` responses run at once across lanes, further ones wait. Each lane keeps
its latest completed response, which ``previous_response_id`` may continue (also across lanes).
Closing the connection drops all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from codeagent.server import engine, transport_abort
from codeagent.server.records import ResponseRecord
from codeagent.server.requests import RequestError, bad
from codeagent.server.state import ServerState

MAX_IN_FLIGHT = 16
MAX_NAMED_LANES = 32
STREAM_ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
LIMIT_MESSAGE = (
    "Responses websocket connection limit reached ({minutes}). "
    "Create a new websocket connection to continue."
)


class Lane:
    """A FIFO of create requests and the latest response completed on it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.latest: ResponseRecord | None = None
        self.task: asyncio.Task[None] | None = None


class Connection:
    """Serves one accepted WebSocket until it closes."""

    def __init__(self, websocket: WebSocket, state: ServerState):
        self.ws = websocket
        self.state = state
        self.conn_id = state.next_conn_id()
        self.opened = time.monotonic()
        #: Lifetime of this connection; ``EmbeddedServer.set_max_connection_age`` may change it.
        self.max_age = state.max_connection_age
        self.lanes: dict[str | None, Lane] = {}
        self.inflight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.send_lock = asyncio.Lock()
        self.closed = False

    async def serve(self) -> None:
        """Read frames until the client goes away; never let one bad frame end the loop."""
        self.state.connection_opened(self)
        try:
            while not self.closed:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is not None:
                    await self._on_text(message["text"])
                else:
                    raw = message.get("bytes") or b""
                    self.state.note_frame(self.conn_id, "ws", raw, {})
                    await self._send(
                        bad(
                            "Binary frames are not supported; send JSON text frames.",
                            code="invalid_json",
                        ).ws_event()
                    )
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.closed = True
            self.state.connection_closed(self)
            for lane in self.lanes.values():
                if lane.task is not None:
                    lane.task.cancel()
            self.lanes.clear()

    # ------------------------------------------------------------------ frames

    async def _on_text(self, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError as exc:
            self.state.note_frame(self.conn_id, "ws", text, {})
            await self._send(bad(f"Invalid JSON in frame: {exc}.", code="invalid_json").ws_event())
            return
        self.state.note_frame(
            self.conn_id, "ws", text, payload if isinstance(payload, dict) else {}
        )
        if self._expired():
            await self._limit_reached()
            return
        if not isinstance(payload, dict):
            await self._send(bad("A frame must be a JSON object.", code="invalid_json").ws_event())
            return
        raw_stream_id = payload.get("stream_id")
        echo = raw_stream_id if isinstance(raw_stream_id, str) else None
        try:
            kind = payload.get("type")
            if kind is None:
                raise bad(
                    "Missing required parameter: 'type'.", "type", "missing_required_parameter"
                )
            if kind == "response.steer":
                raise bad(
                    "response.steer is not supported by this model.",
                    "type",
                    "steering_not_supported",
                )
            if kind != "response.create":
                raise bad(
                    f"Unknown event type {kind!r}; expected 'response.create'.",
                    "type",
                    "unknown_event_type",
                )
            lane_key = self._lane_key(payload)
        except RequestError as err:
            await self._send(err.ws_event(echo))
            return
        self.state.mark(self.conn_id, "create_received", None)
        lane = self._lane(lane_key)
        lane.queue.put_nowait(payload)

    def _lane_key(self, payload: dict[str, Any]) -> str | None:
        if "stream_id" not in payload or payload["stream_id"] is None:
            return None
        stream_id = payload["stream_id"]
        if not isinstance(stream_id, str) or not STREAM_ID_RE.fullmatch(stream_id):
            raise bad(
                "Invalid 'stream_id': use 1-256 characters from A-Z, a-z, 0-9, '_', '.', '-' "
                "(omit it for the default lane).",
                "stream_id",
                "invalid_stream_id",
            )
        named = sum(1 for key in self.lanes if key is not None)
        if stream_id not in self.lanes and named >= MAX_NAMED_LANES:
            raise bad(
                f"Too many stream_ids on this connection (limit {MAX_NAMED_LANES}).",
                "stream_id",
                "websocket_stream_limit_reached",
            )
        return stream_id

    def _lane(self, key: str | None) -> Lane:
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane()
            lane.task = asyncio.create_task(self._run_lane(key, lane))
        return lane

    # ------------------------------------------------------------------ responses

    async def _run_lane(self, key: str | None, lane: Lane) -> None:
        while not self.closed:
            payload = await lane.queue.get()
            async with self.inflight:
                try:
                    await self._respond(key, lane, payload)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    return
                except Exception as exc:  # a server bug must not take the connection down
                    err = RequestError(500, "server_error", f"The server had an error: {exc!r}")
                    with contextlib.suppress(Exception):
                        await self._send(err.ws_event(key))

    async def _respond(self, key: str | None, lane: Lane, payload: dict[str, Any]) -> None:
        try:
            prepared = await engine.prepare(
                self.state,
                payload,
                self._lookup,
                [lane.latest] if lane.latest else [],
                conn_id=self.conn_id,
            )
        except RequestError as err:
            self._evict_failed_parent(lane, payload)
            await self._send(err.ws_event(key))
            return
        faults = prepared.stream_faults(self.state.faults.take_stream_faults(self.conn_id))
        for raw in faults.raw_frames:
            async with self.send_lock:
                await self.ws.send_text(raw)
        first_delta = True
        try:
            async for event in engine.stream(prepared, faults):
                await self._send(event, key)
                kind = event["type"]
                if kind == "response.created":
                    self.state.mark(self.conn_id, "created_sent", prepared.response_id)
                elif first_delta and kind.endswith(".delta"):
                    first_delta = False
                    self.state.mark(self.conn_id, "first_delta_sent", prepared.response_id)
                elif kind == "response.completed":
                    # Cache before the client can react to the completion.
                    self._remember(key, lane, prepared)
                    self.state.mark(self.conn_id, "completed_sent", prepared.response_id)
        except engine.DropConnection:
            self.closed = True
            transport_abort.abort(self.ws.scope)

    def _remember(self, key: str | None, lane: Lane, prepared: engine.Prepared) -> None:
        record = prepared.record(key)
        lane.latest = record
        if record.store:
            self.state.store.put(record)

    def _lookup(self, response_id: str) -> ResponseRecord | None:
        for lane in self.lanes.values():
            if lane.latest is not None and lane.latest.id == response_id:
                return lane.latest
        return self.state.store.get(response_id)

    def _evict_failed_parent(self, lane: Lane, payload: Any) -> None:
        """A failed same-lane continuation evicts the response it continued."""
        previous = payload.get("previous_response_id") if isinstance(payload, dict) else None
        if previous and lane.latest is not None and lane.latest.id == previous:
            lane.latest = None

    # ------------------------------------------------------------------ lifetime

    def _expired(self) -> bool:
        return time.monotonic() - self.opened >= self.max_age

    async def _limit_reached(self) -> None:
        age = self.max_age
        minutes = f"{age / 60:g} minutes" if age >= 60 else f"{age:g} seconds"
        err = RequestError(
            400, "websocket_connection_limit_reached", LIMIT_MESSAGE.format(minutes=minutes)
        )
        await self._send(err.ws_event())
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=1000, reason="connection limit reached")

    # ------------------------------------------------------------------ sending

    async def _send(self, event: dict[str, Any], stream_id: str | None = None) -> None:
        if stream_id is not None:
            event = {**event, "stream_id": stream_id}
        async with self.send_lock:
            await self.ws.send_text(json.dumps(event))
