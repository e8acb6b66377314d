"""Run an ``EmbeddedServer`` in its own process (optionally inside a network namespace).

The parent starts ``python -m benchmarks.server_proc --script rollout:25 ...``, reads one JSON
line ``{"port": N}`` from stdout, then drives it with line commands on stdin:

- ``reset``: clear ``.record`` and ``.timeline`` (between runs), answers ``ok``;
- ``dump PATH``: write ``{"record": [...], "timeline": [...]}`` as JSON to PATH, answers ``ok``;
- ``quit`` (or EOF): stop the server and exit.

A separate process keeps the server's CPU time out of the client's ``time.process_time`` and
lets the server live behind the shaped link. Both processes read the same system-wide
``CLOCK_MONOTONIC``, so server timestamps can be compared with client ones.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
from dataclasses import asdict, is_dataclass
from typing import Any


def build_script(spec: str) -> Any:
    """``rollout:N`` -> the N-tool-call rollout; ``stream:TOKENS:RATE`` -> one long text reply;
    ``file:PATH`` -> a script file (JSON or TOML, ``codeagent.server.script``); ``none`` -> no
    script (echo replies)."""
    from benchmarks import rollout

    kind, _, rest = spec.partition(":")
    if kind == "rollout":
        return rollout.rollout_script(int(rest or 25))
    if kind == "stream":
        tokens, _, rate = rest.partition(":")
        return rollout.stream_script(int(tokens), float(rate))
    if kind == "file":
        from codeagent.server.script import Script

        return Script.load(rest)
    if kind == "none":
        return None
    raise SystemExit(
        f"unknown script spec {spec!r} (use rollout:N, stream:TOKENS:RATE, file:PATH or none)"
    )


def _plain(entry: Any) -> dict:
    """A JSON-ready dict of a record or timeline entry (dataclass, pydantic model or tuple)."""
    if is_dataclass(entry):
        return asdict(entry)
    if hasattr(entry, "model_dump"):
        return entry.model_dump()
    if hasattr(entry, "_asdict"):
        return dict(entry._asdict())
    return dict(vars(entry))


def main(argv: list[str] | None = None) -> int:
    """Start the server, print its port, serve stdin commands until ``quit``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--script", default="none")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--certfile", help="PEM certificate chain (enables TLS)")
    parser.add_argument("--keyfile")
    args = parser.parse_args(argv)

    from codeagent.server.embedded import EmbeddedServer

    ssl_context = None
    if args.certfile:
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    server = EmbeddedServer(
        build_script(args.script), host=args.host, port=0, ssl_context=ssl_context
    )
    server.start()
    port = int(server.base_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    print(json.dumps({"port": port, "base_url": server.base_url}), flush=True)
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "quit":
                break
            if command == "reset":
                server.record.clear()
                server.timeline.clear()
            elif command == "dump":
                data = {
                    "record": [_plain(r) for r in server.record],
                    "timeline": [_plain(t) for t in server.timeline],
                    "connections_opened": server.connections_opened,
                }
                with open(arg, "w") as fh:
                    json.dump(data, fh)
            else:
                print(f"error unknown command {command!r}", flush=True)
                continue
            print("ok", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
