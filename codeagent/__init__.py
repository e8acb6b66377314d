"""codeagent: a terminal coding assistant on the OpenAI Responses API in WebSocket mode."""

__version__ = "0.1.0"
