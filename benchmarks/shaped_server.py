"""The local server in its own process behind the shaped link, over TLS, as one context manager.

``shaped_server()`` builds what the end-to-end benchmark uses: the server (``server_proc``) in a
network namespace joined by a veth pair with ``tc tbf`` both ways (``netlab``), and in front of it
``ShapingProxy`` adding the round-trip delay (this kernel has no ``netem``) and, here, the round
trip of each new connection's TCP handshake. Without namespaces (not root, smoke mode) the proxy
also does the rate limit on loopback, and ``how`` says so. TLS with a throwaway ``trustme`` CA the
client trusts through ``SSL_CERT_FILE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.e2e_model import LOOPBACK_ALIAS, LinkSpec
from benchmarks.netlab import LinkUnavailable, ShapedLink
from benchmarks.server_handle import ServerProcess
from benchmarks.shaping_proxy import ShapingProxy


@dataclass
class ShapedServer:
    """A running server behind the link: ``base_url`` goes through ``proxy``; the client must
    trust ``ca_file``; ``how`` describes the link for the report."""

    server: ServerProcess
    proxy: ShapingProxy
    base_url: str
    ca_file: Path
    how: str


def make_tls(scratch: Path, hosts: list[str]) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``hosts``: (ca.pem, cert.pem, key.pem)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert(*hosts)
    ca_file, cert_file, key_file = scratch / "ca.pem", scratch / "cert.pem", scratch / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with cert_file.open("wb") as fh:
        for blob in cert.cert_chain_pems:
            fh.write(blob.bytes())
    return ca_file, cert_file, key_file


@contextlib.contextmanager
def shaped_server(
    scratch: Path, link: LinkSpec, *, script: str = "none", use_namespace: bool = True
) -> Iterator[ShapedServer]:
    """Start the server behind ``link``; tear everything down (namespace included) on exit."""
    netns: ShapedLink | None = None
    note = ""
    if use_namespace:
        netns = ShapedLink(rate=f"{int(link.rate_bps / 1e6)}mbit")
        try:
            netns.__enter__()
        except LinkUnavailable as exc:
            note, netns = f"network namespace unavailable ({exc}); ", None
    try:
        if netns is not None:
            ca, cert, key = make_tls(scratch, [netns.host_ip, netns.server_ip])
            server = ServerProcess(
                script, host=netns.server_ip, certfile=cert, keyfile=key,
                prefix=netns.prefix, scratch=scratch,
            )  # fmt: skip
            target, listen, proxy_rate = netns.server_ip, netns.host_ip, None
            how = (
                f"{netns.describe()}; the {link.rtt * 1000:.0f} ms round trip is added by a "
                "user-space delay proxy (half each way, order preserved; no `netem` here)"
            )
        else:
            ca, cert, key = make_tls(scratch, ["127.0.0.1", LOOPBACK_ALIAS])
            server = ServerProcess(script, certfile=cert, keyfile=key, scratch=scratch)
            target, listen, proxy_rate = "127.0.0.1", LOOPBACK_ALIAS, link.rate_bps
            how = note + (
                f"loopback shaping proxy doing both the {link.rtt * 1000:.0f} ms round trip and "
                f"the {link.rate_bps / 1e6:.0f} Mbit/s rate limit"
            )
        how += (
            "; each new TCP connection's first bytes are held one round trip (the TCP handshake, "
            "which the proxy, accepting locally, would not charge); TLS (throwaway `trustme` CA)"
        )
        proxy = ShapingProxy(
            target, 0, one_way_delay=link.rtt / 2, rate_bps=proxy_rate, listen_host=listen,
            connect_delay=link.rtt,
        )  # fmt: skip
        with server:
            proxy.target = (target, server.port)
            with proxy:
                yield ShapedServer(server, proxy, f"https://{listen}:{proxy.port}/v1", ca, how)
    finally:
        if netns is not None:
            netns.__exit__(None, None, None)
