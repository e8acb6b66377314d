"""The top-level request parameters the real Responses API accepts, as data.

Copied from the official ``openai`` SDK's published types (3.57), so the server needs no SDK at
run time; ``tests/server/test_strict_params.py`` derives the same sets from the installed SDK and
fails, printing the new literal, when the SDK changes:

- HTTP: the keys of ``openai.types.responses.response_create_params.ResponseCreateParamsStreaming``
  (``stream`` included);
- WebSocket: the fields of ``openai.types.responses.responses_client_event.ResponseCreate``
  (the HTTP set plus ``type``, ``generate`` and ``stream_id``);
- compact: the keys of ``openai.types.responses.response_compact_params.ResponseCompactParams``.
"""

from __future__ import annotations

HTTP_CREATE_PARAMS = frozenset(
    {
        "access_programs",
        "background",
        "background_options",
        "context_management",
        "conversation",
        "image",
        "include",
        "input",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "model",
        "moderation",
        "parallel_tool_calls",
        "previous_response_id",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    }
)

#: Fields only a WebSocket ``response.create`` frame carries.
WS_ONLY_PARAMS = frozenset({"type", "generate", "stream_id"})

WS_CREATE_PARAMS = HTTP_CREATE_PARAMS | WS_ONLY_PARAMS

COMPACT_PARAMS = frozenset(
    {
        "image",
        "input",
        "instructions",
        "model",
        "previous_response_id",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "service_tier",
    }
)

#: Not in the SDK's types, but sent by real clients and accepted by the API: Codex puts its turn
#: metadata in ``client_metadata`` on every request (responses-websocket.md §2.1, §9 item 8).
CLIENT_EXTRAS = frozenset({"client_metadata"})
