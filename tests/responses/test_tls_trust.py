"""A local server over TLS, trusted only through SSL_CERT_FILE: both transports must connect.

This is how the benchmarks (and users with a private CA) reach a TLS endpoint on loopback.
"""

from __future__ import annotations

import ssl

import pytest
import trustme

from codeagent.responses.catalog import DEFAULT_MODEL
from codeagent.responses.transport import Transport


@pytest.fixture
def tls_server(make_server, tmp_path, monkeypatch):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    return make_server(ssl_context=server_ctx)


@pytest.mark.parametrize("mode", ["websocket", "http"])
async def test_a_ca_from_ssl_cert_file_is_trusted_on_loopback(tls_server, mode):
    transport = Transport(tls_server.base_url, "sk-test", mode=mode)
    try:
        events = [
            e
            async for e in transport.stream(
                {"model": DEFAULT_MODEL, "input": "hello over TLS", "store": False}
            )
        ]
    finally:
        await transport.close()
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    assert events[-1].type == "response.completed"
    assert [f.transport for f in tls_server.record] == ["ws" if mode == "websocket" else "http"]


async def test_an_untrusted_certificate_is_refused_with_a_clear_error(make_server):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    server = make_server(ssl_context=server_ctx)
    transport = Transport(server.base_url, "sk-test", mode="http")
    try:
        with pytest.raises(Exception) as caught:
            async for _ in transport.stream(
                {"model": DEFAULT_MODEL, "input": "hi", "store": False}
            ):
                pass
    finally:
        await transport.close()
    assert "certificate" in str(caught.value).lower()
    assert server.record == []
