"""/v1/responses/compact, expansion of compaction items, and encrypted reasoning content."""

from __future__ import annotations

import json

import httpx
from srv_client import MODEL, completed, connect, turn, user

from codeagent.server import script as s


def two_step_script() -> s.Script:
    return s.Script(
        [
            s.Episode(
                [
                    s.Step([s.reasoning("Think first."), s.shell(["cat a.py"])]),
                    s.Step([s.text("Second step.")]),
                ]
            )
        ]
    )


async def test_compacted_window_is_expanded_when_sent_back(make_server):
    server = make_server(two_step_script())
    async with connect(server) as ws:
        first = completed(await turn(ws, input="start", store=False))
    history = [user("start"), *first["output"]]
    r = httpx.post(server.base_url + "/responses/compact", json={"model": MODEL, "input": history})
    assert r.status_code == 200
    window = r.json()
    assert window["object"] == "response.compaction"
    assert [i["type"] for i in window["output"]] == ["message", "compaction"]
    assert window["output"][0]["content"][0]["text"] == "start"
    assert window["usage"]["input_tokens"] > 0
    call_id = first["output"][-1]["call_id"]
    follow = [*window["output"], {"type": "shell_call_output", "call_id": call_id, "output": []}]
    async with connect(server) as ws:
        second = completed(await turn(ws, input=follow, store=False))
    # Only the expanded history shows that a model response already happened: step 2 plays.
    assert second["output"][0]["content"][0]["text"] == "Second step."


async def test_forged_compaction_item_is_rejected(responses_server):
    forged = {"type": "compaction", "encrypted_content": "enc1.abc.def"}
    async with connect(responses_server) as ws:
        event = (await turn(ws, input=[forged, user("x")]))[-1]
        assert event["error"]["code"] == "invalid_encrypted_content"
        assert event["error"]["param"] == "input[0].encrypted_content"
        completed(await turn(ws, input="still fine"))
    r = httpx.post(
        responses_server.base_url + "/responses/compact", json={"model": MODEL, "input": [forged]}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_encrypted_content"


def test_compact_bad_requests(responses_server):
    url = responses_server.base_url + "/responses/compact"
    r = httpx.post(url, json={"input": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    r = httpx.post(url, json={"model": MODEL, "input": []})
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_input"
    r = httpx.post(url, json={"model": MODEL, "previous_response_id": "resp_gone"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "previous_response_not_found"


async def test_encrypted_reasoning_only_when_requested_and_replayable(make_server):
    server = make_server(two_step_script())
    include = ["reasoning.encrypted_content"]
    async with connect(server) as ws:
        events = await turn(ws, input="start", store=False, include=include)
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert "encrypted_content" not in added[0]
    assert done[0]["encrypted_content"].startswith("enc1.")
    assert completed(events)["output"][0]["encrypted_content"] == done[0]["encrypted_content"]
    # A stateless replay (no previous_response_id) with the encrypted item works ...
    replay = [user("start"), *completed(events)["output"]]
    replay.append({"type": "shell_call_output", "call_id": done[1]["call_id"], "output": []})
    async with connect(server) as ws:
        second = completed(await turn(ws, input=replay, store=False, include=include))
        assert second["output"][0]["type"] == "message"
        # ... and a tampered one is refused with a clear error.
        bad = json.loads(json.dumps(replay))
        bad[1]["encrypted_content"] = bad[1]["encrypted_content"][:-4] + "AAAA"
        event = (await turn(ws, input=bad))[-1]
        assert event["error"]["code"] == "invalid_encrypted_content"
        assert event["error"]["param"] == "input[1].encrypted_content"
