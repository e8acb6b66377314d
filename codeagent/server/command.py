"""``codeagent serve``: run the local Responses API server until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from codeagent.server.embedded import EmbeddedServer
from codeagent.server.script import ScriptError
from codeagent.server.state import DEFAULT_MAX_FRAME_BYTES

DEFAULT_PORT = 8765


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve`` options."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free)",
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="script file (.toml/.json) for the scripted model, or 'demo'; default: echo",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", help="require 'Authorization: Bearer KEY' from clients"
    )
    parser.add_argument(
        "--max-connection-age",
        type=float,
        default=3600.0,
        metavar="S",
        help="WebSocket connection lifetime in seconds (default 3600)",
    )
    parser.add_argument(
        "--any-model",
        action="store_true",
        help="accept any model name (default: only the catalog's models, like the real API)",
    )
    parser.add_argument(
        "--max-frame-size",
        type=int,
        default=DEFAULT_MAX_FRAME_BYTES,
        metavar="BYTES",
        help=f"largest request accepted; bigger frames close with 1009 (default "
        f"{DEFAULT_MAX_FRAME_BYTES})",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM. Exit 0 after a clean stop, 1 if the port cannot be used,
    2 for a bad script."""
    if args.max_connection_age <= 0:
        print("codeagent serve: --max-connection-age must be > 0", file=sys.stderr)
        return 2
    if args.max_frame_size <= 0:
        print("codeagent serve: --max-frame-size must be > 0", file=sys.stderr)
        return 2
    try:
        server = EmbeddedServer(
            args.script,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            max_connection_age=args.max_connection_age,
            any_model=args.any_model,
            max_frame_bytes=args.max_frame_size,
        )
    except ScriptError as exc:
        print(f"codeagent serve: {exc}", file=sys.stderr)
        return 2
    try:
        server.start()
    except OSError as exc:
        print(
            f"codeagent serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(server.base_url, flush=True)
    auth = "Bearer key required" if args.api_key else "no auth"
    auth += "; any model" if args.any_model else "; catalog models only, as the real API"
    print(
        f"codeagent serve: WebSocket + HTTP/SSE at {server.base_url}/responses ({auth}). "
        f"Use OPENAI_BASE_URL={server.base_url}. Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0
