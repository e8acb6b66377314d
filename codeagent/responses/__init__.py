"""The Responses API on the wire: WebSocket mode, HTTP/SSE, typed events and errors.

Knows nothing about tools, git or the UI.
"""
