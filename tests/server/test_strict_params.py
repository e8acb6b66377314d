"""The server's accepted parameter sets (data in ``api_params.py``) match the installed SDK's
published request types, so they cannot drift from the real API unnoticed."""

from __future__ import annotations

import typing

from openai.types.responses import response_compact_params, response_create_params
from openai.types.responses.responses_client_event import ResponseCreate

from codeagent.server import api_params


def literal(name: str, values: set[str]) -> str:
    body = "".join(f'        "{v}",\n' for v in sorted(values))
    return f"{name} = frozenset(\n    {{\n{body}    }}\n)"


def check(name: str, ours: frozenset[str], sdk: set[str]) -> None:
    assert ours == sdk, f"the SDK changed; put this in api_params.py:\n{literal(name, sdk)}"


def test_http_parameters_are_the_sdks_response_create_params():
    sdk = set(typing.get_type_hints(response_create_params.ResponseCreateParamsStreaming))
    check("HTTP_CREATE_PARAMS", api_params.HTTP_CREATE_PARAMS, sdk)


def test_websocket_parameters_are_the_sdks_response_create_event():
    sdk = set(ResponseCreate.model_fields)
    check("WS_CREATE_PARAMS", api_params.WS_CREATE_PARAMS, sdk)
    assert sdk - api_params.HTTP_CREATE_PARAMS == api_params.WS_ONLY_PARAMS


def test_compact_parameters_are_the_sdks_compact_params():
    sdk = set(typing.get_type_hints(response_compact_params.ResponseCompactParams))
    check("COMPACT_PARAMS", api_params.COMPACT_PARAMS, sdk)


def test_client_extras_are_not_in_the_sdk():
    """An extra the SDK later declares belongs in the generated sets, not the hand-kept one."""
    assert not api_params.CLIENT_EXTRAS & api_params.WS_CREATE_PARAMS
