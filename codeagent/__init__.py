"""codeagent: a terminal coding assistant on the OpenAI Responses API in WebSocket mode."""

__version__ = "0.1.0"
#: The name of the per-user config, state, data and cache folders (platformdirs).
APP_NAME = "codeagent"
