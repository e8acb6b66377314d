"""Everything the server sends parses with codeagent's own wire models, also over TLS."""

from __future__ import annotations

import json
import ssl

import pytest
import websockets
from srv_client import connect, create, recv_turn, user

from codeagent.responses.events import ErrorEvent, UnknownEvent, parse_event, parse_item
from codeagent.server.demo import demo_script


async def test_every_demo_event_parses_as_a_known_event(make_server):
    server = make_server(demo_script(0.0, None))
    history = [user("go")]
    seen = set()
    async with connect(server) as ws:
        for _ in range(6):
            events = await _turn_full(ws, history)
            for raw in events:
                event = parse_event(raw)
                assert not isinstance(event, UnknownEvent), raw["type"]
                seen.add(event.type)
            output = events[-1]["response"]["output"]
            for item in output:
                parse_item(item)
            history += output
            for item in output:
                if item["type"] == "shell_call":
                    history.append(
                        {"type": "shell_call_output", "call_id": item["call_id"], "output": []}
                    )
                elif item["type"] == "function_call":
                    history.append(
                        {"type": "function_call_output", "call_id": item["call_id"], "output": "ok"}
                    )
        await ws.send(create(input="x", previous_response_id="resp_missing"))
        error = parse_event(json.loads(await ws.recv()))
    assert isinstance(error, ErrorEvent)
    assert error.body.code == "previous_response_not_found"
    assert {
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
    } <= seen


async def _turn_full(ws, history):
    await ws.send(create(input=history))
    return await recv_turn(ws)


async def test_tls_server_serves_wss(make_server):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    server = make_server(ssl_context=server_ctx)
    assert server.base_url.startswith("https://127.0.0.1:")
    url = server.base_url.replace("https", "wss", 1) + "/responses"
    async with websockets.connect(url, ssl=client_ctx) as ws:
        await ws.send(create(input="secure"))
        events = await recv_turn(ws)
    assert events[-1]["type"] == "response.completed"
