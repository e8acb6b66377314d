"""``codeagent serve`` as a real subprocess."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import httpx
import pytest
import websockets
from srv_client import MODEL, completed, text_of, turn


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "codeagent", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return out, err


async def test_serve_prints_the_base_url_and_serves_websocket_and_http(tmp_path):
    script = tmp_path / "s.toml"
    script.write_text('default_reply = "scripted hello"\n')
    proc = start(
        "--port",
        "0",
        "--script",
        str(script),
        "--api-key",
        "sk-cli-key",
        "--max-connection-age",
        "60",
    )
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        headers = {"Authorization": "Bearer sk-cli-key"}
        ws_url = base_url.replace("http", "ws", 1) + "/responses"
        async with websockets.connect(ws_url, additional_headers=headers) as ws:
            assert text_of(completed(await turn(ws, input="hi"))) == "scripted hello"
        r = httpx.post(base_url + "/responses", json={"model": MODEL, "input": "x"})
        assert r.status_code == 401
    finally:
        out, err = stop(proc)
    assert "sk-cli-key" not in out + err


def test_serve_demo_script_and_bad_script(tmp_path):
    proc = start("--port", "0", "--script", "demo")
    try:
        base_url = proc.stdout.readline().strip()
        body = {"model": MODEL, "input": "fix the bug"}
        r = httpx.post(base_url + "/responses", json=body, timeout=30)
        assert [i["type"] for i in r.json()["output"]] == ["reasoning", "message", "function_call"]
    finally:
        stop(proc)
    bad = tmp_path / "bad.toml"
    bad.write_text("episodes = 1")
    result = subprocess.run(
        [sys.executable, "-m", "codeagent", "serve", "--script", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "episodes must be a list" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_port_in_use_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "codeagent", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("age", ["0", "-5"])
def test_serve_rejects_bad_connection_age(age):
    result = subprocess.run(
        [sys.executable, "-m", "codeagent", "serve", "--max-connection-age", age],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--max-connection-age" in result.stderr


@pytest.mark.parametrize(("flags", "status"), [((), 404), (("--any-model",), 200)])
def test_serve_is_strict_about_models_unless_any_model(flags, status):
    proc = start("--port", "0", *flags)
    try:
        base_url = proc.stdout.readline().strip()
        r = httpx.post(base_url + "/responses", json={"model": "my-model", "input": "x"})
        assert r.status_code == status
        if status == 404:
            assert r.json()["error"]["code"] == "model_not_found"
    finally:
        stop(proc)


async def test_serve_max_frame_size_closes_bigger_frames_with_1009():
    proc = start("--port", "0", "--max-frame-size", "20000")
    try:
        base_url = proc.stdout.readline().strip()
        ws_url = base_url.replace("http", "ws", 1) + "/responses"
        async with websockets.connect(ws_url, compression=None) as ws:
            assert text_of(completed(await turn(ws, input="small"))) == "You said: small"
            await ws.send(
                json.dumps({"type": "response.create", "model": MODEL, "input": "x" * 30_000})
            )
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd.code == 1009
    finally:
        stop(proc)
    result = subprocess.run(
        [sys.executable, "-m", "codeagent", "serve", "--max-frame-size", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--max-frame-size" in result.stderr
