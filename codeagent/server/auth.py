"""Optional Bearer-token check on the handshake / request headers."""

from __future__ import annotations

import hmac
from typing import Any

from codeagent.server.requests import RequestError


def check_bearer(headers: Any, api_key: str | None) -> None:
    """Raise a 401 ``RequestError`` unless ``Authorization: Bearer <api_key>`` matches.

    The message never repeats the key that was sent or expected.
    """
    if api_key is None:
        return
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if not token:
        raise RequestError(
            401,
            "missing_api_key",
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        )
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), api_key.encode()
    ):
        raise RequestError(401, "invalid_api_key", "Incorrect API key provided.")
