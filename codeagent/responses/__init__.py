"""The Responses API on the wire: WebSocket mode, HTTP/SSE, typed events and errors.

Knows nothing about tools, git or the UI.

- ``events``: pydantic models of server events and output items (unknown types pass through).
- ``errors``: typed errors and the mapping from API error payloads (any shape) to them.
- ``frames``: one frame to one event; a corrupt frame fails the stream, an unusable one is
  skipped and logged.
- ``requests``: request bodies, their WebSocket/HTTP encodings and byte counts, the chaining
  signature (non-input fields).
- ``websocket``: one connection to ``{base_url}/responses``; a reader task routes events to lanes.
- ``http``: ``POST /responses`` streamed as SSE and ``POST /responses/compact``, keep-alive.
- ``transport``: ``Transport`` -- mode ``auto|websocket|http``, fallback to HTTP and the return
  to WebSocket, reconnect, rotation.
"""

import sys

# ``import httpx`` also imports its command line (``httpx._main``: click, rich and pygments,
# ~40 ms) when those are installed; the HTTP paths and the model check need only the client. A
# None entry makes that import fail, which httpx handles by defining a stub ``main``.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
