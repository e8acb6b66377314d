"""Request building and byte accounting: what goes on the wire, and how big it is."""

from __future__ import annotations

import json

from codeagent.responses.requests import (
    build_body,
    encoded_size,
    http_body,
    paired_input,
    replay_item,
    settings_signature,
    websocket_frame,
)

SETTINGS = {"model": "m", "instructions": "be brief", "tools": [], "store": False}
USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "héllo"}]}


def test_websocket_frame_is_a_flat_response_create_without_stream():
    body = build_body({**SETTINGS, "stream": True}, [USER], "resp_1")
    frame = json.loads(websocket_frame(body))
    assert frame["type"] == "response.create"
    assert frame["previous_response_id"] == "resp_1"
    assert frame["input"] == [USER]
    assert "stream" not in frame  # implicit over WebSocket


def test_http_body_streams_and_drops_websocket_only_fields():
    body = build_body({**SETTINGS, "stream_id": "main", "generate": False}, [USER])
    payload = json.loads(http_body(body))
    assert payload["stream"] is True
    assert "stream_id" not in payload and "generate" not in payload and "type" not in payload


def test_encoded_size_counts_utf8_bytes_actually_sent():
    body = build_body(SETTINGS, [USER])
    assert encoded_size(body, "websocket") == len(websocket_frame(body).encode("utf-8"))
    assert encoded_size(body, "http") == len(http_body(body))
    # "é" is two bytes in UTF-8: counting characters would under-report.
    assert encoded_size(body, "websocket") > len(websocket_frame(body))


def test_none_settings_are_left_out_and_no_previous_id_without_chain():
    body = build_body({**SETTINGS, "reasoning": None}, [USER])
    assert "reasoning" not in body and "previous_response_id" not in body


def test_signature_ignores_input_fields_but_sees_every_setting():
    a = build_body(SETTINGS, [USER])
    b = build_body(SETTINGS, [USER, USER], "resp_9")
    assert settings_signature(a) == settings_signature(b)
    assert settings_signature(a) == settings_signature({**a, "stream_id": "lane"})
    for change in (
        {"model": "other"},
        {"instructions": "x"},
        {"tools": [{"type": "shell"}]},
        {"store": True},
        {"reasoning": {"effort": "high"}},
    ):
        assert settings_signature(a) != settings_signature({**a, **change}), change


def test_replay_drops_server_ids_only_without_store():
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x"}
    assert "id" not in replay_item(item, store=False)
    assert replay_item(item, store=False)["encrypted_content"] == "x"
    assert replay_item(item, store=True) == item
    assert replay_item(USER, store=False) == USER


def test_paired_input_drops_unpaired_tool_items():
    call = {"type": "shell_call", "call_id": "c1", "action": {"commands": ["ls"]}}
    output = {"type": "shell_call_output", "call_id": "c1", "output": []}
    orphan = {"type": "function_call_output", "call_id": "gone", "output": "x"}
    dangling = {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{}"}
    assert paired_input([USER, call, output]) == [USER, call, output]
    assert paired_input([USER, call, orphan, output, dangling]) == [USER, call, output]
    # A chained request answers a call the previous response made: that output stays.
    assert paired_input([output, USER], earlier=[USER, call]) == [output, USER]
    assert paired_input([orphan], earlier=[USER, call]) == []
