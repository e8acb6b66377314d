"""One WebSocket connection: frame handling, ``stream_id`` lanes and the connection-local cache.

Each lane (the default lane is ``None``) runs its responses in FIFO order in its own task; at
most :data:`MAX_IN_FLIGHT` responses run at once across lanes, further ones wait. Each lane keeps
its latest completed response, which ``previous_response_id`` may continue (also across lanes).
Closing the connection drops all of it.

A request that has to wait for one of the in-flight slots is told so with ``response.queued``.
A frame above the size limit closes the connection with 1009; a client that vanishes stops its
responses at the next event (nothing is generated for a dead socket).
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
from codeagent.server.generator import new_id, response_object
from codeagent.server.items import normalize_input
from codeagent.server.records import ResponseInput, ResponseRecord
from codeagent.server.requests import RequestError, bad, parse_json
from codeagent.server.state import ServerState
from codeagent.server.steering import SteerBook, Successor

MAX_IN_FLIGHT = 16
MAX_NAMED_LANES = 32
STREAM_ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
LIMIT_MESSAGE = (
    "Responses websocket connection limit reached ({minutes}). "
    "Create a new websocket connection to continue."
)


class PeerGone(OSError):
    """The client's socket is gone; stop producing for it."""


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
        self.running = 0
        #: Responses of this connection as ``response.steer`` targets (``steering.py``).
        self.steering = SteerBook(state.catalog)
        self._watchdog: asyncio.Task[None] | None = None

    async def serve(self) -> None:
        """Read frames until the client goes away; never let one bad frame end the loop."""
        self.state.connection_opened(self)
        self._watchdog = asyncio.create_task(self._watch_lifetime())
        try:
            while not self.closed:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("text") is not None:
                    try:
                        await self._on_text(message["text"])
                    except (WebSocketDisconnect, RuntimeError, OSError):
                        raise
                    except Exception as exc:  # a server bug answers, like the real API, in shape
                        err = RequestError(500, "server_error", f"The server had an error: {exc!r}")
                        await self._send(err.ws_event())
                else:
                    raw = message.get("bytes") or b""
                    self.state.note_frame(self.conn_id, "ws", raw, {})
                    if not await self._within_size(len(raw)):
                        break
                    await self._send(
                        bad(
                            "Binary frames are not supported; send JSON text frames.",
                            code="invalid_json",
                        ).ws_event()
                    )
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.closed = True
            self.state.connection_closed(self)
            self._watchdog.cancel()
            for lane in self.lanes.values():
                if lane.task is not None:
                    lane.task.cancel()
            self.lanes.clear()

    # ------------------------------------------------------------------ frames

    async def _on_text(self, text: str) -> None:
        nbytes = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if not await self._within_size(nbytes):
            self.state.note_frame(self.conn_id, "ws", text, {})
            return
        try:
            payload = parse_json(text)
        except RequestError as err:
            self.state.note_frame(self.conn_id, "ws", text, {})
            await self._send(err.ws_event())
            return
        self.state.note_frame(self.conn_id, "ws", text, payload)
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
                # Numbered in its target's stream; nothing may await between stamp and send.
                event, steer_lane = self.steering.submit(payload)
                await self._send(event, steer_lane)
                return
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

    async def _within_size(self, nbytes: int) -> bool:
        """False (and the connection closed with 1009) for a frame above the size limit."""
        limit = self.state.faults.frame_limit()
        if limit is None or nbytes <= limit:
            return True
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=1009, reason="message too big")
        return False

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
            response_id = new_id("resp")
            queued = self.inflight.locked()
            if queued:
                try:
                    await self._send_queued(key, payload, response_id)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    return
            async with self.inflight:
                self.running += 1
                try:
                    # An explicit continuation of a response whose steers wait for it.
                    successor = self.steering.claim(payload, key)
                    if successor is not None:
                        payload = successor.payload
                    first = int(queued)
                    while True:  # automatic steering successors run next, in the same slot
                        successor = await self._respond(
                            key, lane, payload, response_id, first, successor
                        )
                        if successor is None or self.closed:
                            break
                        payload, response_id, first = successor.payload, new_id("resp"), 0
                except (WebSocketDisconnect, RuntimeError, OSError):
                    return
                except Exception as exc:  # a server bug must not take the connection down
                    err = RequestError(500, "server_error", f"The server had an error: {exc!r}")
                    with contextlib.suppress(Exception):
                        await self._send(err.ws_event(key))
                finally:
                    self.running -= 1

    async def _send_queued(self, key: str | None, payload: dict[str, Any], rid: str) -> None:
        """``response.queued``: every in-flight slot is taken, this request waits for one."""
        previous = payload.get("previous_response_id")
        response = response_object(
            rid, payload, previous_response_id=previous if isinstance(previous, str) else None
        )
        response["status"] = "queued"
        self.steering.queued(rid, key, payload)
        await self._send(
            {"type": "response.queued", "sequence_number": 0, "response": response}, key
        )

    async def _respond(
        self,
        key: str | None,
        lane: Lane,
        payload: dict[str, Any],
        response_id: str,
        first_sequence: int,
        steered: Successor | None = None,
    ) -> Successor | None:
        """Run one response; the automatic steering successor to run next, if any. ``steered``
        carries the accepted steers this response commits (its ``response.created``)."""
        try:
            prepared = await engine.prepare(
                self.state,
                payload,
                self._lookup,
                [lane.latest] if lane.latest else [],
                conn_id=self.conn_id,
                response_id=response_id,
                first_sequence=first_sequence,
            )
        except RequestError as err:
            # An automatic successor is not the client's request: its parent stays cached (the
            # client continues from it, with the input the failure returns) and no error event.
            if steered is None or not steered.automatic:
                self._evict_failed_parent(lane, payload)
                await self._send(err.ws_event(key))
            if steered is not None:
                for failed, steer_lane in self.steering.uncommitted(steered, err.message):
                    await self._send(failed, steer_lane)
            return None
        target = self.steering.open(
            prepared.response_id, key, payload, first_sequence, prepared.builder.output
        )
        self._note_input(key, payload, prepared.response_id, steered)
        faults = prepared.stream_faults(self.state.faults.take_stream_faults(self.conn_id))
        for raw in faults.raw_frames:
            await self._send_raw(raw)
        first_delta = True
        sent = 0
        ended = ""  # the type of the last event sent
        stopped = False
        try:
            async with contextlib.aclosing(engine.stream(prepared, faults, target.pause)) as events:
                async for event in events:
                    if isinstance(event, str):
                        target.skip()
                        await self._send_raw(event)
                        continue
                    if target.stops_before(event):
                        stopped = True
                        break
                    # Renumbered: steer events share the response's sequence numbers.
                    await self._send(target.stamp(event), key)
                    sent += 1
                    kind = ended = event["type"]
                    if kind == "response.created":
                        self.state.mark(self.conn_id, "created_sent", prepared.response_id)
                    elif first_delta and kind.endswith(".delta"):
                        first_delta = False
                        self.state.mark(self.conn_id, "first_delta_sent", prepared.response_id)
                    elif kind == "response.completed":
                        # Cache before the client can react to the completion.
                        self._remember(key, lane, prepared)
                        self.state.mark(self.conn_id, "completed_sent", prepared.response_id)
            if stopped:  # at an output-item boundary, for the queued steers
                self._remember(key, lane, prepared)
                ended = "response.incomplete"
                await self._send(target.stamp(prepared.builder.incomplete("steered").event), key)
        except engine.DropConnection:
            self.closed = True
            transport_abort.abort(self.ws.scope)
        except (PeerGone, WebSocketDisconnect):
            self.closed = True
            self.state.mark(self.conn_id, "peer_gone", prepared.response_id, events=sent)
            raise
        finally:
            pending, successor = self.steering.finish(target, ended)
        if self.closed:
            return None
        for event in pending:
            await self._send(event, key)
        return successor

    def _note_input(
        self, key: str | None, payload: dict[str, Any], rid: str, steered: Successor | None
    ) -> None:
        previous = payload.get("previous_response_id")
        self.state.inputs.append(
            ResponseInput(
                self.conn_id,
                rid,
                key,
                previous if isinstance(previous, str) else None,
                normalize_input(payload.get("input")),
                tuple(s.id for s in steered.steers) if steered else (),
                bool(steered and steered.automatic),
            )
        )

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

    async def _watch_lifetime(self) -> None:
        """With ``faults.connection_limit(push_to_idle=True)``: tell and close a connection at
        its limit although no request arrives (once its running responses are done)."""
        while not self.closed:
            remaining = self.opened + self.max_age - time.monotonic()
            await asyncio.sleep(min(remaining, 0.25) if remaining > 0 else 0.25)
            if (
                self._expired()
                and not self.running
                and self.state.faults.limit_behaviour().push_to_idle
                and not self.closed
            ):
                await self._limit_reached()
                return

    async def _limit_reached(self) -> None:
        behaviour = self.state.faults.limit_behaviour()
        self.closed = True
        if behaviour.error_event:
            age = self.max_age
            minutes = f"{age / 60:g} minutes" if age >= 60 else f"{age:g} seconds"
            err = RequestError(
                400, "websocket_connection_limit_reached", LIMIT_MESSAGE.format(minutes=minutes)
            )
            with contextlib.suppress(Exception):
                await self._send(err.ws_event())
        with contextlib.suppress(Exception):
            await self.ws.close(code=behaviour.close_code, reason="connection limit reached")

    # ------------------------------------------------------------------ sending

    async def _send(self, event: dict[str, Any], stream_id: str | None = None) -> None:
        if stream_id is not None:
            event = {**event, "stream_id": stream_id}
        await self._send_raw(json.dumps(event))

    async def _send_raw(self, text: str) -> None:
        transport = self.ws.scope.get(transport_abort.SCOPE_KEY)
        if transport is not None and transport.is_closing():
            raise PeerGone()
        async with self.send_lock:
            await self.ws.send_text(text)
