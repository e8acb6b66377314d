"""A local Responses API server (WebSocket mode + HTTP/SSE) for tests, demos and local models."""
